"""Where homelab-kit keeps its caches: the user's choice, never the repository's.

Apart from :mod:`homelab_kit.cache` so that a command answering from a cache (``rules``,
a warm ``lint``) finds the folder without importing the cache's machinery.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "HOMELAB_KIT_CACHE_DIR"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "homelab-kit"


def cache_directory(configured: Path | None = None) -> Path:
    """Where the cache lives: ``$HOMELAB_KIT_CACHE_DIR``, else ``configured``, else the default.

    ``configured`` is the user's ``cache-dir`` (a configuration file outside the
    repository); the repository's own configuration never sets it.
    """
    from_env = os.environ.get(CACHE_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return configured or default_cache_dir()
