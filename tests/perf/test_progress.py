"""The progress bar: on a terminal only, never in CI or when piped."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from homelab_kit import cli as cli_module
from homelab_kit.cli import cli, progress_bar, shows_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module, "PROGRESS_DELAY", 0.0)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)


@pytest.mark.usefixtures("no_delay")
def test_no_progress_bar_when_standard_error_is_not_a_terminal(reference_root: Path) -> None:
    result = CliRunner().invoke(cli, ["lint", str(reference_root), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "Reading YAML files" not in result.stderr
    assert "Running checks" not in result.stderr
    assert result.stderr == ""


@pytest.mark.usefixtures("no_delay")
def test_progress_bar_on_a_terminal() -> None:
    stream = _Terminal()
    threads = threading.active_count()
    with progress_bar(stream) as progress:
        assert progress is not None
        progress("parse", 10, 100)
        assert threading.active_count() == threads  # no refresh thread: parsing forks
        progress("check", 3, 90)
    assert "Reading YAML files" in stream.getvalue()
    assert "Running checks" in stream.getvalue()


@pytest.mark.usefixtures("no_delay")
def test_no_progress_bar_in_ci_or_on_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shows_progress(_Terminal())
    monkeypatch.setenv("CI", "true")
    assert not shows_progress(_Terminal())
    with progress_bar(_Terminal()) as progress:
        assert progress is None
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "dumb")
    assert not shows_progress(_Terminal())


def test_no_progress_bar_for_a_short_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(cli_module, "PROGRESS_DELAY", 3600.0)
    stream = _Terminal()
    with progress_bar(stream) as progress:
        assert progress is not None
        progress("parse", 10, 100)
    assert stream.getvalue() == ""
