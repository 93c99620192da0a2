"""A kind or group from the linted repository never steers a schema location's path."""

from __future__ import annotations

import json
from pathlib import Path

from homelab_kit.schema import SchemaRegistry


def test_path_traversal_in_kind_or_group_reads_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside_v1.json"  # where "../../outside" would lead
    outside.write_text(json.dumps({"type": "object"}))
    locations = tmp_path / "schemas"
    (locations / "example.com").mkdir(parents=True)
    (locations / "example.com" / "widget_v1.json").write_text(json.dumps({"type": "object"}))
    template = str(locations) + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    registry = SchemaRegistry("1.33", locations=[template])
    assert registry.validator_for("example.com/v1", "Widget") is not None
    assert registry.validator_for("example.com/v1", "../../outside") is None
    assert registry.validator_for("../v1", "x") is None
