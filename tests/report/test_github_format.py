"""The github format: workflow commands that cannot be broken or injected into."""

from __future__ import annotations

from pathlib import Path

from homelab_kit.diagnostic import Diagnostic, Severity
from homelab_kit.lint.result import LintResult
from homelab_kit.location import Location
from homelab_kit.report import GithubReporter, ReportOptions
from homelab_kit.report.github import escape_data, escape_property


def test_one_command_per_finding_then_the_summary(sample: LintResult) -> None:
    text = GithubReporter().render(sample, ReportOptions(color=True))
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[:6] == [
        "::error file=kubernetes/apps/gone.yaml,line=3,col=1,title=helm-values-schema"
        "::kubernetes/apps/gone.yaml:3:1: Value replicas is not an integer"
        " [helm-values-schema]%0Ahelp: Use a number.",
        "::warning file=kubernetes/apps/media/ks.yaml,line=7,col=13,title=flux-ks-interval"
        "::kubernetes/apps/media/ks.yaml:7:13: Kustomization media syncs every 1m"
        " [flux-ks-interval]",
        "::error file=kubernetes/apps/media/ks.yaml,line=8,col=10,endLine=8,endColumn=15,"
        "title=flux-ks-prune::kubernetes/apps/media/ks.yaml:8:10:"
        " Kustomization media does not prune [flux-ks-prune]%0Ahelp: Set spec.prune: true.",
        "::notice file=kubernetes/apps/media/kustomization.yaml,title=yaml-document-start"
        "::kubernetes/apps/media/kustomization.yaml: File does not start with ---"
        " [yaml-document-start]%0Ahelp: Add --- as the first line.",
        "::error file=kubernetes/blob.bin,line=1,col=1,title=helm-values-schema"
        "::kubernetes/blob.bin:1:1: Not a YAML file [helm-values-schema]",
        "",
    ]
    assert lines[6] == "Found 5 problems in 4 files: 3 errors, 1 warning, 1 info."


def test_clean_run_prints_only_the_summary(clean: LintResult) -> None:
    assert GithubReporter().render(clean, ReportOptions()) == (
        "All checks passed! 4 files, 1 app, 1 namespace checked in 0.12s.\n"
    )


def test_escaping_rules() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_hostile_text_cannot_break_out_of_the_command(tmp_path: Path) -> None:
    diagnostic = Diagnostic(
        Location("odd,name:x%.yaml", 2, 3),
        "x-check",
        "50% bad\n::error file=evil.yaml::injected",
        Severity.WARNING,
        "line one\r\nline two",
    )
    text = GithubReporter().render(LintResult(tmp_path, (diagnostic,)), ReportOptions())
    command = text.splitlines()[0]
    assert command == (
        "::warning file=odd%2Cname%3Ax%25.yaml,line=2,col=3,title=x-check::"
        "odd,name:x%25.yaml:2:3: 50%25 bad%0A::error file=evil.yaml::injected [x-check]"
        "%0Ahelp: line one%0D%0Aline two"
    )
    assert sum(line.startswith("::") for line in text.splitlines()) == 1
