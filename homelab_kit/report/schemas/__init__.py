"""JSON Schemas of the machine-readable output formats (package data)."""
