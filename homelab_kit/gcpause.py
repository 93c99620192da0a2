"""Pausing the cyclic garbage collector while a run makes objects that all stay alive.

Its own module, importing nothing: the command line pauses the collector before it
imports anything else (homelab_kit/cli.py), the loader while it reads a repository.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a repository is read and checked.

    Loading creates millions of objects that all stay alive; each full collection
    would walk them all again for nothing (a quarter of the load time of a large
    repository), and importing the plugins, a few hundred modules, runs some seventy
    collections over objects that live as long as the process.  Reference counting
    still frees everything acyclic; the collector runs again, as before, on leaving
    the outermost pause.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Hand what was made meanwhile to the oldest generation at once: left in
            # the youngest, the first collection would walk every object of the run.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
