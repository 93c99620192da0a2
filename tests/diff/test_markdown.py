"""The markdown of ``homelab-kit diff``: it renders (Markdown -> HTML -> headless Chromium)
and never passes GitHub's 65,536-character limit for a comment."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from homelab_kit.diff import diff
from homelab_kit.diff.compare import DiffResult, ObjectChange
from homelab_kit.diff.report import MARKDOWN_LIMIT, render_markdown
from homelab_kit.location import Location

from ..graph.test_html_report import ensure_chromium
from .conftest import GitRepo

Make = Callable[..., GitRepo]


def _html(markdown: str) -> str:
    """GitHub-like: CommonMark with tables, raw HTML (``<details>``) allowed."""
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def _large(objects: int, diff_lines: int) -> DiffResult:
    changes = tuple(
        ObjectChange(
            cluster="main",
            kustomization=f"apps/app-{i // 10:03d}",
            status="changed",
            kind="ConfigMap",
            namespace="apps",
            name=f"config-{i:05d}",
            api_version="v1",
            source=Location(f"kubernetes/apps/app-{i // 10:03d}/configmap.yaml", 1, 1),
            diff=(
                "--- base",
                "+++ head",
                "@@ -1,3 +1,3 @@",
                *(f"-  key{j}: old" for j in range(diff_lines)),
                *(f"+  key{j}: new" for j in range(diff_lines)),
            ),
        )
        for i in range(objects)
    )
    return DiffResult("abc", "def", changes, (), ("main",))


def test_a_large_change_stays_under_the_limit_and_counts_the_rest() -> None:
    result = _large(2000, 20)
    text = render_markdown(result)
    assert len(text) <= MARKDOWN_LIMIT
    shown = text.count("**~ ConfigMap apps/config-")
    assert 0 < shown < 2000
    assert f"**{2000 - shown} more objects changed**" in text
    # every <details> opened is closed, every fence closed
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0
    # the summary table lists every Kustomization, shown or not
    assert text.count("| main | apps/app-") == 200


def test_a_small_change_is_shown_whole() -> None:
    text = render_markdown(_large(3, 2))
    assert "more object" not in text
    assert text.count("<details>") == 1


def test_backticks_in_a_diff_do_not_break_the_fence() -> None:
    result = _large(1, 1)
    change = result.changes[0]
    tricky = ObjectChange(
        **{
            **{f: getattr(change, f) for f in ("cluster", "kustomization", "status", "kind")},
            "namespace": "apps",
            "name": "x",
            "api_version": "v1",
            "source": change.source,
            "diff": ("+  script: ```rm -rf```", "+  html: <script>alert(1)</script>"),
        }
    )
    text = render_markdown(DiffResult("a", "b", (tricky,), (), ("main",)))
    html = _html(text)
    assert "<script>" not in html  # inside a code block, escaped
    assert "````diff" in text


@pytest.fixture(scope="module")
def chromium() -> str:
    found, reason = ensure_chromium()
    if found is None:
        pytest.skip(reason)
    return found


def _dom(chromium: str, page: Path, profile: Path) -> str:
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_markdown_renders_in_chromium(git_repo: Make, chromium: str, tmp_path: Path) -> None:
    repo = git_repo()
    repo.write(
        {
            "kubernetes/components/common/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                "commonLabels:\n  team: platform\n"
            )
        }
    )
    text = render_markdown(diff(repo.root, base="main"))
    page = tmp_path / "comment.html"
    page.write_text(_html(text), encoding="utf-8")
    dom = _dom(chromium, page, tmp_path / "profile")
    # a summary table with a row per Kustomization
    assert dom.count("<table>") == 1
    rows = re.findall(r"<tr>\s*<td>cluster</td>\s*<td>flux-system/(\w+)</td>", dom)
    assert sorted(rows) == ["alpha", "beta", "gamma"]
    # one collapsible section per Kustomization, its summary and a diff block in each
    assert dom.count("<details>") == 3
    assert (
        len(re.findall(r"<summary><code>cluster</code> · <code>flux-system/\w+</code>", dom)) == 3
    )
    assert dom.count('<code class="language-diff">') == 9
    assert "```" not in dom  # every fence was understood
    assert "+    team: platform" in dom


def test_one_huge_object_is_cut_to_fit() -> None:
    text = render_markdown(_large(1, 20_000))
    assert len(text) <= MARKDOWN_LIMIT
    assert "more lines of this diff" in text
    assert "more object" not in text
    assert text.count("```") % 2 == 0
