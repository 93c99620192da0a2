"""Strict JSON schemas homelab-kit writes itself, and the bundled CRD schemas (package data).

See docs/schemas.md: ``generate.py`` writes the hand-written ``*.json``; ``bundle.py``
writes ``catalog.zip`` from the public CRDs catalog.
"""

BUNDLE_NAME = "catalog.zip"
