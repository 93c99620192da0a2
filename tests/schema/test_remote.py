"""Remote schema locations: fetched from a local HTTP server, cached, and offline-safe."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from homelab_kit.schema import SchemaRegistry
from homelab_kit.testing import YamlTree, lint_path

from .conftest import found

WIDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
    },
}
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n"
TEMPLATE = "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


class _Server:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 and records every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {
            "/example.com/widget_v1.json": json.dumps(WIDGET_SCHEMA).encode()
        }
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    monkeypatch.delenv("HOMELAB_KIT_OFFLINE", raising=False)
    running = _Server()
    yield running
    running.stop()


def test_a_remote_template_is_fetched_cached_and_used_offline(
    server: _Server, tmp_path: Path
) -> None:
    location = server.url + TEMPLATE
    registry = SchemaRegistry("1.33", locations=[location], cache_dir=tmp_path)
    assert found(WIDGET, registry) == [
        (4, 14, "type", "spec.size: expected integer, got string 'big'")
    ]
    validator = registry.validator_for("example.com/v1", "Widget")
    assert validator is not None
    assert validator.source == server.url + "/example.com/widget_v1.json"
    assert server.requests == ["/example.com/widget_v1.json"]
    url = server.url + "/example.com/widget_v1.json"
    cached = tmp_path / "remote" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    assert json.loads(cached.read_text()) == WIDGET_SCHEMA
    server.stop()  # from now on only the cache answers
    again = SchemaRegistry("1.33", locations=[location], cache_dir=tmp_path)
    assert found(WIDGET, again) == found(WIDGET, registry)
    assert again.warnings == []


def test_a_404_is_no_schema_and_is_not_cached(server: _Server, tmp_path: Path) -> None:
    registry = SchemaRegistry("1.33", locations=[server.url + TEMPLATE], cache_dir=tmp_path)
    assert registry.validator_for("example.com/v1", "Gadget") is None
    assert registry.validator_for("example.com/v1", "Gadget") is None  # asked once per kind
    assert server.requests == ["/example.com/gadget_v1.json"]
    assert registry.warnings == []
    assert not (tmp_path / "remote").exists()


def test_an_unreachable_location_is_one_warning_not_a_failure(
    server: _Server, tmp_path: Path
) -> None:
    location = server.url + TEMPLATE
    server.stop()
    registry = SchemaRegistry("1.33", locations=[location], cache_dir=tmp_path)
    assert [code for _, _, code, _ in found(WIDGET, registry)] == ["no-schema"]
    assert registry.validator_for("example.com/v1", "Gadget") is None
    assert len(registry.warnings) == 1
    assert registry.warnings[0].startswith(f"schema location {location} not reachable")


def test_offline_nothing_is_requested(
    server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_KIT_OFFLINE", "1")
    registry = SchemaRegistry("1.33", locations=[server.url + TEMPLATE], cache_dir=tmp_path)
    assert registry.validator_for("example.com/v1", "Widget") is None
    assert server.requests == []
    assert registry.warnings == [
        f"schema location {server.url + TEMPLATE} not reachable (HOMELAB_KIT_OFFLINE is set): "
        "its kinds are validated only from the cache"
    ]


def test_a_response_that_is_not_json_is_a_note(server: _Server, tmp_path: Path) -> None:
    server.files["/example.com/widget_v1.json"] = b"<html>login</html>"
    registry = SchemaRegistry("1.33", locations=[server.url + TEMPLATE], cache_dir=tmp_path)
    assert registry.validator_for("example.com/v1", "Widget") is None
    assert any("is not JSON" in note for note in registry.notes)


def test_lint_honours_a_remote_location(
    server: _Server, yaml_tree: YamlTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_KIT_CACHE_DIR", str(tmp_path / "user-cache"))
    root = yaml_tree(
        {
            ".homelab-kit.yaml": f"schema-locations: ['{server.url + TEMPLATE}']\n"
            "cache-dir: .cache\n",
            "kubernetes/apps/default/w/app/widget.yaml": WIDGET,
        }
    )
    result = lint_path(root, select=["schema-*"])
    assert [(d.location.line, d.check_id, d.message) for d in result.diagnostics] == [
        (4, "schema-invalid", "Widget w: spec.size: expected integer, got string 'big'")
    ]
    # fetched schemas are kept in the user's cache; the repository's cache-dir is ignored
    assert (tmp_path / "user-cache" / "schemas" / "remote").is_dir()
    assert not (root / ".cache").exists()


def test_lint_offline_reports_one_warning(
    server: _Server, yaml_tree: YamlTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = server.url + TEMPLATE
    server.stop()
    root = yaml_tree(
        {
            ".homelab-kit.yaml": f"schema-locations: ['{location}']\ncache-dir: .cache\n",
            "kubernetes/apps/default/w/app/widget.yaml": WIDGET,
            "kubernetes/apps/default/w/app/gadget.yaml": WIDGET.replace("Widget", "Gadget"),
        }
    )
    result = lint_path(root, select=["schema-*"])
    assert sorted((d.location.path, d.check_id, str(d.severity)) for d in result.diagnostics) == [
        (".homelab-kit.yaml", "schema-missing", "info"),  # missing-schema's default severity
        ("kubernetes/apps/default/w/app/gadget.yaml", "schema-missing", "info"),
        ("kubernetes/apps/default/w/app/widget.yaml", "schema-missing", "info"),
    ]


def test_validate_prints_the_warning_once_and_does_not_fail(
    server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homelab_kit.cli import main

    location = server.url + TEMPLATE
    server.stop()
    (tmp_path / "w.yaml").write_text(WIDGET + "---\n" + WIDGET.replace("Widget", "Gadget"))
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "validate",
                str(tmp_path / "w.yaml"),
                "--schema-location",
                location,
                "--ignore-missing-schemas",
                "--cache-dir",
                str(tmp_path / "cache"),
            ]
        )
    assert stopped.value.code == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"homelab-kit: warning: schema location {location} not reachable")
