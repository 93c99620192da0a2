"""homelab-kit: model, lint and scaffold Talos + Flux + Infisical homelab repositories."""

from __future__ import annotations

__version__ = "0.1.0"
