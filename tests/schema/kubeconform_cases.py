"""kubeconform's acceptance tests (acceptance.bats), the ones that apply offline, as data.

Each :class:`Case` is one ``@test`` of kubeconform's ``acceptance.bats`` (the fixtures are
ours, written to the same shape as its ``fixtures/``): the arguments in homelab-kit's
spelling, standard input, kubeconform's exit status, and the line(s) its test asserts.
:func:`run_case` runs one against ``homelab-kit validate`` and says whether it agrees:
the same verdict (exit 0, or not) and, where the test asserts output, the same line.

``DIFFERENCES`` lists the cases where homelab-kit deliberately differs, with why.
``tests/schema/test_kubeconform_acceptance.py`` runs them;
``python -m tests.schema.kubeconform_cases [--pythonpath DIRS]`` prints how many agree,
each case in a fresh process (the figures in docs/schemas.md).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: "bob"
spec:
  replicas: {replicas}
  selector:
    app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
        - name: nginx
          image: nginx
          ports:
            - containerPort: 80
"""
VALID = RC.format(replicas=2)
INVALID = RC.format(replicas='"asd"')
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports:
    - port: 80
      targetPort: {target}
  selector:
    app: {name}
"""
MULTI_VALID = "---\n".join(
    [
        SERVICE.format(name="redis", target=6379),
        VALID,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\n"
        "rules:\n  - apiGroups: ['']\n    resources: [pods]\n    verbs: [get]\n",
    ]
)


def _indent(text: str, prefix: str) -> str:
    lines = text.splitlines()
    return "\n".join([prefix + "- " + lines[0]] + [prefix + "  " + line for line in lines[1:]])


LIST_VALID = (
    "apiVersion: v1\nkind: List\nitems:\n"
    + "\n".join(_indent(doc, "  ") for doc in MULTI_VALID.split("---\n"))
    + "\n"
)
LIST_INVALID = (
    "apiVersion: v1\nkind: List\nitems:\n"
    + _indent(VALID, "  ")
    + "\n"
    + _indent(INVALID, "  ")
    + "\n"
)

FIXTURES: Mapping[str, str] = {
    "valid.yaml": VALID,
    "invalid.yaml": INVALID,
    "valid.json": (
        '{"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "bob"},'
        ' "spec": {"replicas": 2, "selector": {"app": "nginx"}, "template": {"metadata":'
        ' {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx",'
        ' "image": "nginx"}]}}}}\n'
    ),
    "multi_valid.yaml": MULTI_VALID,
    "multi_invalid.yaml": VALID + "---\n" + INVALID,
    "int_or_string.yaml": SERVICE.format(name="heapster", target=8082).replace(
        "targetPort: 8082", "targetPort: http"
    ),
    "generate_name.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: pi-{{ generateName }}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: pi\n"
        "          image: perl\n      restartPolicy: Never\n"
    ),
    "quantity.yaml": (
        "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: mem-limit-range\nspec:\n"
        "  limits:\n    - default:\n        memory: 512Mi\n        cpu: 1\n"
        "      defaultRequest:\n        memory: 256Mi\n        cpu: 0.5\n      type: Container\n"
    ),
    "null_string.yaml": SERVICE.format(name="frontend", target=80)
    + "  externalIPs: null\n  clusterIP: null\n",
    "blank.yaml": "",
    "comment.yaml": "# just a comment\n",
    "missing_kind.yaml": "apiVersion: v1\nmetadata:\n  name: x\n",
    "missing_apiversion.yaml": "kind: Service\nmetadata:\n  name: x\n",
    "missing_kind_value.yaml": "apiVersion: v1\nkind:\nmetadata:\n  name: x\n",
    "test_crd.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n",
    "extra_property.yaml": VALID.replace('  name: "bob"\n', '  name: "bob"\n  foo: bar\n'),
    "duplicate_property.yaml": VALID.replace("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n"),
    "list_valid.yaml": LIST_VALID,
    "list_invalid.yaml": LIST_INVALID,
    "list_empty_valid.yaml": "---\napiVersion: v1\nkind: List\nitems: []\n",
    "multi_with_list.yaml": SERVICE.format(name="redis-master", target=6379)
    + "---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Namespace\n"
    "    metadata:\n      name: b\n",
    "crd_schema.yaml": VALID,
    "folder/a.yaml": MULTI_VALID,
    "folder/sub/b.yml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: z\n",
    "folder/notes.txt": "not a manifest\n",
    "valid_large.yaml": "---\n".join([VALID] * 1000),
}


@attrs.frozen
class Case:
    """One kubeconform acceptance test: what to run, and what kubeconform answers."""

    name: str
    args: tuple[str, ...]
    status: int
    lines: tuple[str, ...] = ()  # exact lines its test asserts (in order), if any
    contains: str = ""  # a substring its test asserts
    stdin: str | None = None  # None: no data on standard input (/dev/null)


def _summary(
    found: str, where: str, valid: int, invalid: int = 0, errors: int = 0, skipped: int = 0
) -> str:
    return (
        f"Summary: {found} found {where} - Valid: {valid}, Invalid: {invalid}, "
        f"Errors: {errors}, Skipped: {skipped}"
    )


CASES: tuple[Case, ...] = (
    Case("valid file", ("--summary", "valid.yaml"), 0, (_summary("1 resource", "in 1 file", 1),)),
    Case("folder", ("--summary", "folder"), 0, (_summary("7 resources", "in 2 files", 7),)),
    Case(
        "int_or_string",
        ("--verbose", "int_or_string.yaml"),
        0,
        ("int_or_string.yaml - Service heapster is valid",),
    ),
    Case(
        "valid JSON (k8s 1.20.0)",
        ("--kubernetes-version", "1.20.0", "--summary", "valid.json"),
        0,
        (_summary("1 resource", "in 1 file", 1),),
    ),
    Case(
        "generate name",
        ("--verbose", "generate_name.yaml"),
        0,
        ("generate_name.yaml - Job pi-{{ generateName }} is valid",),
    ),
    Case(
        "quantities",
        ("--verbose", "quantity.yaml"),
        0,
        ("quantity.yaml - LimitRange mem-limit-range is valid",),
    ),
    Case(
        "null arrays",
        ("--verbose", "null_string.yaml"),
        0,
        ("null_string.yaml - Service frontend is valid",),
    ),
    Case(
        "null strings",
        ("--summary", "null_string.yaml"),
        0,
        (_summary("1 resource", "in 1 file", 1),),
    ),
    Case(
        "multi-document",
        ("--summary", "multi_valid.yaml"),
        0,
        (_summary("6 resources", "in 1 file", 6),),
    ),
    Case("multi-document, one invalid", ("multi_invalid.yaml",), 1),
    Case("invalid file", ("invalid.yaml",), 1),
    Case("non-existent file", ("not-here",), 1, contains="not-here"),
    Case("blank file", ("--summary", "blank.yaml"), 0, (_summary("0 resource", "in 1 file", 0),)),
    Case(
        "comment only", ("--summary", "comment.yaml"), 0, (_summary("0 resource", "in 1 file", 0),)
    ),
    Case("missing kind", ("--summary", "missing_kind.yaml"), 1, contains="missing 'kind'"),
    Case(
        "missing apiVersion",
        ("--summary", "missing_apiversion.yaml"),
        1,
        contains="missing 'apiVersion'",
    ),
    Case(
        "missing kind value", ("--summary", "missing_kind_value.yaml"), 1, contains="missing 'kind'"
    ),
    Case("custom resource without schema", ("test_crd.yaml",), 1),
    Case("ignore missing schemas", ("--ignore-missing-schemas", "test_crd.yaml"), 0),
    Case(
        "additional properties, not strict",
        ("--summary", "extra_property.yaml"),
        0,
        (_summary("1 resource", "in 1 file", 1),),
    ),
    Case(
        "additional properties, strict",
        ("--strict", "--kubernetes-version", "1.20.0", "extra_property.yaml"),
        1,
    ),
    Case(
        "duplicate properties, strict",
        ("--strict", "--kubernetes-version", "1.20.0", "duplicate_property.yaml"),
        1,
    ),
    Case(
        "duplicate properties, not strict",
        ("--kubernetes-version", "1.20.0", "duplicate_property.yaml"),
        0,
    ),
    Case("a schema location that does not exist", ("--schema-location", "foo", "valid.yaml"), 1),
    Case(
        "a template with an unknown field",
        ("--schema-location", "foo {{ .Foo }}", "valid.yaml"),
        1,
        contains="Foo",
    ),
    Case("kubernetes version 1.25 (no patch)", ("--kubernetes-version", "1.25", "valid.yaml"), 1),
    Case(
        "stdin, implicit",
        ("--summary",),
        0,
        (_summary("1 resource", "parsing stdin", 1),),
        stdin=VALID,
    ),
    Case(
        "stdin, explicit",
        ("--summary", "-"),
        0,
        (_summary("1 resource", "parsing stdin", 1),),
        stdin=VALID,
    ),
    Case("invalid on stdin", ("-",), 1, stdin=INVALID),
    Case("no data on stdin, implicit", ("--summary",), 1),
    Case("no data on stdin, explicit", ("--summary", "-"), 1),
    Case(
        "skip a kind",
        ("--verbose", "--skip", "ReplicationController", "valid.yaml"),
        0,
        ("valid.yaml - bob ReplicationController skipped",),
    ),
    Case(
        "skip an apiVersion/kind",
        ("--verbose", "--skip", "v1/ReplicationController", "valid.yaml"),
        0,
        ("valid.yaml - bob ReplicationController skipped",),
    ),
    Case(
        "do not skip another version",
        ("--verbose", "--skip", "v2/ReplicationController", "valid.yaml"),
        0,
        ("valid.yaml - ReplicationController bob is valid",),
    ),
    Case(
        "reject a kind",
        ("--reject", "ReplicationController", "valid.yaml"),
        1,
        contains="prohibited resource kind ReplicationController",
    ),
    Case(
        "ignore file name patterns",
        (
            "--summary",
            "--ignore-filename-pattern",
            "crd",
            "--ignore-filename-pattern",
            ".*invalid.*",
            "multi_invalid.yaml",
            "list_invalid.yaml",
            "quantity.yaml",
            "crd_schema.yaml",
        ),
        0,
        (_summary("1 resource", "in 1 file", 1),),
    ),
    Case(
        "a cache folder that does not exist",
        ("--cache-dir", "cache_does_not_exist", "--summary", "valid.yaml"),
        1,
    ),
    Case(
        "TAP output",
        ("--output", "tap", "valid.yaml"),
        0,
        ("TAP version 13", "ok 1 - valid.yaml (v1/ReplicationController//bob)", "1..1"),
    ),
    Case("a List", ("--summary", "list_valid.yaml"), 0, (_summary("6 resources", "in 1 file", 6),)),
    Case(
        "a List on stdin",
        ("--summary",),
        0,
        (_summary("6 resources", "parsing stdin", 6),),
        stdin=LIST_VALID,
    ),
    Case(
        "a List with an invalid item",
        ("--summary", "list_invalid.yaml"),
        1,
        (_summary("2 resources", "in 1 file", 1, 1),),
    ),
    Case(
        "a List with an invalid item on stdin",
        ("--summary", "-"),
        1,
        (_summary("2 resources", "parsing stdin", 1, 1),),
        stdin=LIST_INVALID,
    ),
    Case(
        "an empty List",
        ("--summary", "list_empty_valid.yaml"),
        0,
        (_summary("0 resource", "in 1 file", 0),),
    ),
    Case(
        "a document and a List",
        ("--summary", "multi_with_list.yaml"),
        0,
        (_summary("2 resources", "in 1 file", 2),),
    ),
    Case(
        "a large file",
        ("--summary", "valid_large.yaml"),
        0,
        (_summary("1000 resources", "in 1 file", 1000),),
    ),
    Case(
        "a large stream on stdin",
        ("--summary",),
        0,
        (_summary("1000 resources", "parsing stdin", 1000),),
        stdin=FIXTURES["valid_large.yaml"],
    ),
    Case(
        "JUnit output", ("--output", "junit", "--summary", "valid.yaml"), 0, contains="<testsuites"
    ),
    Case("help", ("-h",), 0),
    Case("an unknown flag", ("-xyz",), 1),
)

# Where homelab-kit differs on purpose (the test checks it still does, and why).
DIFFERENCES: Mapping[str, str] = {
    "valid JSON (k8s 1.20.0)": "schemas start at Kubernetes 1.25: 1.20 is a usage error",
    "additional properties, not strict": "always strict: an unknown field is an error",
    "duplicate properties, not strict": "always strict: a duplicate key is an error",
    "kubernetes version 1.25 (no patch)": "1.25 is read as the minor version it names",
    "skip a kind": "a resource is 'Kind name' everywhere: ReplicationController bob skipped",
    "skip an apiVersion/kind": "the same wording",
    "a cache folder that does not exist": "the schema cache is created when first written",
}


def write_fixtures(folder: Path) -> None:
    for name, text in FIXTURES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run_case(case: Case, folder: Path) -> tuple[bool, str]:
    """Run ``case`` in this process, in ``folder`` (fixtures written): ``(agrees, output)``.

    Standard input is the case's text, or ``/dev/null`` when it has none (as in bats).
    """
    from homelab_kit.cli import main as homelab_kit

    out, err = io.StringIO(), io.StringIO()
    data = case.stdin
    stdin: Any = (
        io.TextIOWrapper(io.BytesIO(data.encode()), encoding="utf-8")
        if data is not None
        else open(os.devnull, encoding="utf-8")  # noqa: SIM115 (closed below)
    )
    saved, cwd = sys.stdin, os.getcwd()
    code = 0
    try:
        sys.stdin = stdin
        os.chdir(folder)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            homelab_kit(["validate", *_args(case)])
    except SystemExit as stopped:
        code = stopped.code if isinstance(stopped.code, int) else 1
    finally:
        sys.stdin = saved
        os.chdir(cwd)
        stdin.close()
    printed = out.getvalue() + err.getvalue()
    verdict, same_output = _judge(case, code, printed)
    return verdict and same_output, printed


def _args(case: Case) -> list[str]:
    return [a for a in case.args if a != "--strict"]  # homelab-kit is always strict


def _run_process(case: Case, folder: Path, env: Mapping[str, str]) -> tuple[bool, bool]:
    """``case`` in a fresh ``python -m homelab_kit`` with ``env``: (verdict, same output)."""
    stdin: int | bytes = subprocess.DEVNULL if case.stdin is None else case.stdin.encode()
    done = subprocess.run(
        [sys.executable, "-m", "homelab_kit", "validate", *_args(case)],
        cwd=folder,
        input=stdin if isinstance(stdin, bytes) else None,
        stdin=stdin if isinstance(stdin, int) else None,
        capture_output=True,
        text=False,
        env={**os.environ, **env, "HOMELAB_KIT_OFFLINE": "1"},
        timeout=120,
        check=False,
    )
    out = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    return _judge(case, done.returncode, out)


def _judge(case: Case, code: int, out: str) -> tuple[bool, bool]:
    """``(same exit verdict, same asserted output)``."""
    verdict = (code == 0) == (case.status == 0)
    same_output = True
    if case.lines:
        same_output = _in_order(case.lines, out.splitlines())
    if case.contains:
        same_output = same_output and case.contains in out
    return verdict, same_output


def _in_order(wanted: tuple[str, ...], lines: list[str]) -> bool:
    position = 0
    for line in wanted:
        try:
            position = lines.index(line, position) + 1
        except ValueError:
            return False
    return True


def main(argv: list[str]) -> int:
    """Count agreements in fresh processes; ``--pythonpath DIRS`` runs another checkout."""
    import tempfile

    env = {"PYTHONPATH": argv[1]} if argv[:1] == ["--pythonpath"] else {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_fixtures(folder)
        agree = verdicts = 0
        for case in CASES:
            verdict, same_output = _run_process(case, folder, env)
            agree += verdict and same_output
            verdicts += verdict
            print(("agree    " if verdict and same_output else "DISAGREE ") + case.name)
        print(f"{agree} of {len(CASES)} agree (exit verdict and asserted output)")
        print(f"{verdicts} of {len(CASES)} give kubeconform's exit verdict")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
