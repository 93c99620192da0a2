"""Strict JSON schemas homelab-kit writes itself (package data; see docs/schemas.md)."""
