"""``homelab-kit report --html``: content, self-containment, and rendering in headless Chromium.

The Chromium tests need Debian's ``chromium`` package.  Where it is missing, the
session fixture installs it with apt-get when that is possible (root, apt-get
present, ``HOMELAB_KIT_NO_CHROMIUM_INSTALL`` unset) and otherwise skips with the
reason.  The browser runs headless, sandbox-less (containers), with a throwaway
profile and every background network feature off.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import homelab_kit
from homelab_kit.graph import build_graph
from homelab_kit.graph.render import html_page
from homelab_kit.graph_cli import report
from homelab_kit.html_report import Links, render_report
from homelab_kit.lint import lint
from homelab_kit.secrets_map import build_secrets_map

from .conftest import PLANTED, Browse
from .test_cli import run

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOT_DIR_ENV = "HOMELAB_KIT_SCREENSHOT_DIR"


# ---------------------------------------------------------------- content


@pytest.fixture
def cyclic_report(cyclic_repo: Path, tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "out" / "report.html"
    result = run("report", str(cyclic_repo), "--helm", "--html", str(out))
    assert result.returncode == 0, result.stderr
    return out, out.read_text(encoding="utf-8")


def test_report_sections_and_links(cyclic_report: tuple[Path, str]) -> None:
    _, text = cyclic_report
    for anchor in ("summary", "findings", "graph", "secrets"):
        assert f'<section id="{anchor}">' in text
    # a finding links to its file and line, relative to the report's folder
    assert (
        '<a class="mono" href="../cyclic/kubernetes/apps/apps/d/ks.yaml#L16">'
        "kubernetes/apps/apps/d/ks.yaml:16:7</a>"
    ) in text
    assert "flux-ks-dependency-cycle" in text
    assert "flux-ks-depends-on" in text
    # the graph, with the cycle and the dangling dependency highlighted
    assert text.count("<svg") == 1
    assert 'class="node cycle"' in text
    assert 'class="node missing"' in text
    assert 'class="edge dangling"' in text
    # grouped by namespace
    assert re.search(r'<details(?: open)? id="ns-apps"><summary><b>apps</b>', text)


def test_report_is_self_contained(cyclic_report: tuple[Path, str]) -> None:
    _, text = cyclic_report
    assert "<script src" not in text
    assert "<link" not in text
    assert "@import" not in text
    assert "@font-face" not in text
    # nothing is fetched: no http(s) or protocol-relative URL in src, href or CSS url()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text)
    assert "default-src 'none'" in text  # and the page forbids it anyway


def test_report_link_base(cyclic_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    base = "https://github.com/me/home-ops/blob/main/"
    result = run("report", str(cyclic_repo), "--html", str(out), "--link-base", base)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert f'href="{base}kubernetes/apps/apps/d/ks.yaml#L16"' in text


def test_report_secrets_map(secrets_repo: Path, tmp_path: Path) -> None:
    repo = homelab_kit.load(secrets_repo)
    text = render_report(
        repo,
        lint(secrets_repo),
        build_graph(repo),
        build_secrets_map(repo),
        links=Links(repo.root, tmp_path),
    )
    assert '<details class="secrets" open><summary><h3 id="secrets-media">media' in text
    assert "homelab/prod:/sonarr" in text
    for flag in ("missing-producer", "unused-secret", "over-broad-scope"):
        assert f'">{flag}</span>' in text
    assert "keys: EXTRA_TOKEN" in text


def test_secret_values_never_appear(secrets_repo: Path, tmp_path: Path) -> None:
    outputs: list[str] = []
    for fmt in ("mermaid", "dot", "json", "svg", "html"):
        result = run("graph", str(secrets_repo), "--helm", "-f", fmt)
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    for fmt in ("text", "json"):
        result = run("secrets", str(secrets_repo), "-f", fmt)
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    out = tmp_path / "report.html"
    result = run("report", str(secrets_repo), "--helm", "--html", str(out))
    assert result.returncode == 0, result.stderr
    outputs += [out.read_text(encoding="utf-8"), result.stdout, result.stderr]
    blob = "\n".join(outputs)
    assert "sonarr-extra" in blob  # the Secret is there, by name
    for value in PLANTED:
        assert value not in blob


def test_report_needs_html() -> None:
    result = run("report", ".")
    assert result.returncode == 2
    assert "--html" in result.stderr
    assert report.name == "report"


# --------------------------------------------------------------- chromium


def _find_chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure_chromium() -> tuple[str | None, str]:
    """Chromium's path, installing Debian's package where possible; else why not.

    Installs with ``apt-get update`` and ``apt-get install --no-install-recommends
    chromium`` only as root, where apt-get exists and
    ``HOMELAB_KIT_NO_CHROMIUM_INSTALL`` is unset; each step is time-boxed.
    """
    found = _find_chromium()
    if found:
        return found, ""
    if os.environ.get("HOMELAB_KIT_NO_CHROMIUM_INSTALL"):
        return None, "chromium is not installed (HOMELAB_KIT_NO_CHROMIUM_INSTALL is set)"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "chromium is not installed, and installing it needs root"
    apt = shutil.which("apt-get")
    if apt is None:
        return None, "chromium is not installed, and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ([apt, "update", "-qq"], 240),
        ([apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"], 480),
    )
    for command, timeout in steps:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return None, f"installing chromium timed out ({' '.join(command[1:3])})"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return None, f"apt-get could not install chromium: {last}"
    found = _find_chromium()
    return found, "" if found else "apt-get ran, yet no chromium binary was found"


def _page_errors(dump: subprocess.CompletedProcess[str]) -> tuple[str | None, str | None, str]:
    """``data-ready`` and ``data-errors`` of <body>, and console problems from the log."""
    body = re.search(r"<body([^>]*)>", dump.stdout)
    attrs = body.group(1) if body else ""
    ready = re.search(r'data-ready="([^"]*)"', attrs)
    errors = re.search(r'data-errors="([^"]*)"', attrs)
    console = "\n".join(
        line
        for line in dump.stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "Refused to" in line
    )
    return (
        ready.group(1) if ready else None,
        errors.group(1) if errors else None,
        console,
    )


def test_the_error_catcher_sees_script_errors(browse: Browse, tmp_path: Path) -> None:
    """The detection works: a page whose script throws reports it."""
    page = tmp_path / "broken.html"
    page.write_text(html_page("broken", "<p>x</p>", scripts=("undefinedFunction();",)))
    dump = browse(page, "--enable-logging=stderr", "--v=0", "--dump-dom")
    ready, errors, _ = _page_errors(dump)
    assert ready == "yes"
    assert errors
    assert "undefinedFunction" in errors


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced): width, height, rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8
    assert interlace == 0
    channels = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, stride, channels)]


def _hex(colour: str) -> bytes:
    return bytes.fromhex(colour.lstrip("#"))


def test_graph_page_renders_and_screenshot(
    browse: Browse, cyclic_repo: Path, tmp_path: Path
) -> None:
    page = tmp_path / "graph.html"
    result = run("graph", str(cyclic_repo), "--helm", "-f", "html", "-o", str(page))
    assert result.returncode == 0, result.stderr
    dump = browse(page, "--enable-logging=stderr", "--v=0", "--dump-dom")
    ready, errors, console = _page_errors(dump)
    assert ready == "yes", dump.stderr[-2000:]
    assert errors == ""
    assert console == ""
    shot = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path) / "graph.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    taken = browse(page, f"--screenshot={shot}", "--window-size=1400,900")
    assert shot.is_file(), taken.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1400, 900)
    colours = set(pixels)
    assert len(colours) > 100  # text, lanes, edges: not one flat colour
    assert _hex("#f6f8fa") in colours  # namespace lanes
    assert _hex("#ffebe9") in colours  # the cycle's nodes
    assert _hex("#fff8c5") in colours  # the missing dependency
    assert _hex("#ddf4ff") in colours  # HelmReleases


def test_report_renders_without_console_errors(
    browse: Browse, cyclic_report: tuple[Path, str], tmp_path: Path
) -> None:
    page, _ = cyclic_report
    dump = browse(page, "--enable-logging=stderr", "--v=0", "--dump-dom")
    ready, errors, console = _page_errors(dump)
    assert ready == "yes", dump.stderr[-2000:]
    assert errors == ""
    assert console == ""
    shot = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path) / "report.png"
    browse(page, f"--screenshot={shot}", "--window-size=1400,900")
    assert shot.stat().st_size > 20_000
    _, _, pixels = _png_pixels(shot)
    assert len(set(pixels)) > 100
