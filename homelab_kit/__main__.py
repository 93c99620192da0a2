"""``python -m homelab_kit``.

``-m`` puts the current folder first on ``sys.path``; when that folder is a
repository being linted (a stranger's pull request, say), anything in it could be
imported.  Drop it before any plugin or distribution is looked up.
"""

import os
import sys

_cwd = os.getcwd()
sys.path[:] = [p for p in sys.path if p not in ("", ".", _cwd)]

from homelab_kit.cli import main  # noqa: E402

main()
