"""Every python block of docs/library.md runs, in order, against the reference cluster."""

from __future__ import annotations

import contextlib
import io
import os
import re

from tests.conftest import PROJECT_ROOT

BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_library_examples_run() -> None:
    text = (PROJECT_ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {}
    old = os.getcwd()
    os.chdir(PROJECT_ROOT)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for block in blocks:
                exec(compile(block, "docs/library.md", "exec"), namespace)
    finally:
        os.chdir(old)
    printed = out.getvalue()
    assert "kubernetes/apps/media/sonarr/ks.yaml:" in printed
    assert "homelab-01" in printed
