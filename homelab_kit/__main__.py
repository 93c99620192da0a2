"""``python -m homelab_kit``.

``-m`` puts the current folder first on ``sys.path``.  By the time this file runs,
Python has already imported the homelab_kit package and its dependencies from that
path, so running ``python -m homelab_kit`` from inside an untrusted checkout is not
safe (a planted ``attrs.py`` would run); use the ``homelab-kit`` console script or
``python -P -m homelab_kit`` there (docs/ci.md).  What this file does guard against:
plugins and distributions planted in the current folder are never looked up, since
the folder is dropped from ``sys.path`` before plugins load.
"""

import os
import sys

_cwd = os.getcwd()
sys.path[:] = [p for p in sys.path if p not in ("", ".", _cwd)]

from homelab_kit.cli import console_main  # noqa: E402

console_main()
