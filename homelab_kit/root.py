"""Where a repository starts, and which of its folders are read by default.

Apart from :mod:`homelab_kit.model.loader` (which re-exports them) so that a run
answered from the result cache finds the repository without importing the model.
"""

from __future__ import annotations

import os
from pathlib import Path

from homelab_kit.errors import RepoNotFoundError

DEFAULT_INCLUDE = ("kubernetes", "talos", "bootstrap")
ROOT_MARKERS = (".homelab-kit.yaml",)


def find_root(start: str | os.PathLike[str]) -> Path:
    """The repository root at or above ``start``.

    The nearest folder holding ``.homelab-kit.yaml``, else the nearest holding a
    ``kubernetes/`` folder, else the nearest Git work tree holding ``talos/``.
    """
    try:
        here = Path(start).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
        raise RepoNotFoundError(f"{start}: cannot be resolved (a symbolic link loop?)") from None
    if not here.exists():
        raise RepoNotFoundError(f"{start}: no such file or directory")
    if here.is_file():
        here = here.parent
    candidates = [here, *here.parents]
    for marker_check in (
        lambda d: any((d / m).is_file() for m in ROOT_MARKERS),
        lambda d: (d / "kubernetes").is_dir(),
        lambda d: (d / "talos").is_dir(),
    ):
        for folder in candidates:
            if marker_check(folder):
                return folder
    raise RepoNotFoundError(
        f"{start}: not inside a homelab repository (no .homelab-kit.yaml, kubernetes/ or "
        "talos/ folder here or above)"
    )
