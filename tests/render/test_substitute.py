"""Flux postBuild substitution: the envsubst language, types after re-reading, variables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homelab_kit.errors import HomelabKitError
from homelab_kit.render import (
    QuotedStr,
    SubstitutionSyntaxError,
    canonical_json,
    collect_variables,
    expand,
    substitute_objects,
)

VARS = {"A": "abbc", "EMPTY": "", "PORT": "8080"}


@pytest.mark.parametrize(
    ("text", "expected", "unresolved"),
    [
        ("${A}", "abbc", set()),
        ("$A and $$A", "$A and $A", set()),  # no braces: not a variable
        ("$${A}", "${A}", set()),  # escaped
        ("pa$$word", "pa$word", set()),
        ("${MISSING}", "${MISSING}", {"MISSING"}),  # kept as written, reported
        ("x-${MISSING,,}-y", "x-${MISSING,,}-y", {"MISSING"}),
        ("${MISSING:=dflt}", "dflt", set()),
        ("${MISSING=dflt}", "dflt", set()),
        ("${EMPTY:-dflt}", "dflt", set()),
        ("${A:=dflt}", "abbc", set()),
        ("${MISSING:=${A}-x}", "abbc-x", set()),
        ("${A^^} ${A^} ${A,,} ${#A}", "ABBC Abbc abbc 4", set()),
        ("${A:1:2} ${A:1} ${A:-2}", "bb bbc abbc", set()),
        ("${A/b/X} ${A//b/X} ${A/#a/X} ${A/%c/X}", "aXbc aXXc Xbbc abbX", set()),
        ("${A#a*} ${A##a*b} ${A%b*} ${A%%b*}", "bbc c ab a", set()),
    ],
)
def test_expand(text: str, expected: str, unresolved: set[str]) -> None:
    assert expand(text, VARS) == (expected, frozenset(unresolved))


@pytest.mark.parametrize("text", ["${}", "${A-x}", "${a.b}", "${A", "${ A}", "${A:=x"])
def test_flux_syntax_errors(text: str) -> None:
    with pytest.raises(SubstitutionSyntaxError):
        expand(text, VARS)


@given(st.text(alphabet=st.characters(blacklist_characters="$")))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert expand(text, VARS) == (text, frozenset())


@given(st.from_regex(r"[_a-zA-Z][_a-zA-Z0-9]{0,10}", fullmatch=True), st.text(max_size=20))
def test_escaped_reference_is_literal(name: str, value: str) -> None:
    assert expand(f"$${{{name}}}", {name: value}) == (f"${{{name}}}", frozenset())


@given(
    st.from_regex(r"[_a-zA-Z][_a-zA-Z0-9]{0,10}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_characters="$"), max_size=20),
)
def test_set_variable_is_replaced(name: str, value: str) -> None:
    assert expand(f"<${{{name}}}>", {name: value}) == (f"<{value}>", frozenset())


def _spec(**values: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": values}


def test_types_after_substitution_follow_yaml_text() -> None:
    obj = _spec(
        port="${PORT}",
        quoted=QuotedStr("${PORT}"),
        inside="url:${PORT}",
        flag="${FLAG}",
        version="${VERSION}",
        octal="${MODE}",
        empty="${EMPTY}",
        multi="a\n${PORT}",
    )
    variables = {"PORT": "8080", "FLAG": "on", "VERSION": "1.20", "MODE": "0755", "EMPTY": ""}
    result = substitute_objects([obj], variables)
    data = result.objects[0]["data"]
    assert data == {
        "port": 8080,
        "quoted": 8080,  # kustomize drops the quotes before Flux substitutes
        "inside": "url:8080",
        "flag": True,  # YAML 1.1, as Flux reads it
        "version": 1.2,
        "octal": 493,
        "empty": None,
        "multi": "a\n8080",
    }
    assert result.unresolved == frozenset()


def test_unresolved_reported_and_left_as_is() -> None:
    result = substitute_objects([_spec(a="${A}", b="${B}")], {"A": "x"})
    assert result.objects[0]["data"] == {"a": "x", "b": "${B}"}
    assert result.unresolved == {"B"}


def test_disabled_objects_and_no_variables_are_untouched() -> None:
    disabled = _spec(a="${A}", b="$$")
    disabled["metadata"] = {
        "name": "c",
        "annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
    }
    labelled = _spec(a="${A}")
    labelled["metadata"] = {
        "name": "l",
        "labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
    }
    result = substitute_objects([disabled, labelled], {"A": "x"})
    assert result.objects == (disabled, labelled)
    untouched = substitute_objects([_spec(a="$${A}")], {})
    assert untouched.objects[0]["data"] == {"a": "$${A}"}


def test_syntax_error_is_reported_without_values() -> None:
    result = substitute_objects([_spec(script="echo ${@}", secret="${TOKEN}")], {"TOKEN": "s3cret"})
    assert result.objects[0]["data"]["script"] == "echo ${@}"
    assert len(result.errors) == 1
    assert result.errors[0].startswith("ConfigMap/c:")
    assert "s3cret" not in result.errors[0]


def test_invalid_variable_name_is_an_error() -> None:
    with pytest.raises(HomelabKitError, match="bad-name"):
        substitute_objects([_spec()], {"bad-name": "x"})


def test_collect_variables_order_decoding_and_newlines() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"B": "Yg==", "A": "ZnJvbS1zZWNyZXQ="},
        "stringData": {"C": "c\n"},
    }
    config = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"A": "from-cm", "D": "d"}}
    variables = collect_variables({"A": "inline\nvalue"}, [secret, config])
    assert variables == {"A": "inlinevalue", "B": "b", "C": "c", "D": "d"}
    assert collect_variables(None, [config, secret])["A"] == "from-secret"


def test_collect_variables_errors_never_show_values() -> None:
    bad = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"TOKEN": "not base64!"}}
    with pytest.raises(HomelabKitError) as info:
        collect_variables({}, [bad])
    assert "TOKEN" in str(info.value)
    assert "not base64!" not in str(info.value)
    with pytest.raises(HomelabKitError, match="must be a string"):
        collect_variables({"PORT": 8080}, [])


def test_build_flux_kustomization(tmp_path: object) -> None:
    from pathlib import Path

    from homelab_kit.render import build_flux_kustomization
    from homelab_kit.testing import write_tree

    root = write_tree(
        Path(str(tmp_path)),
        {
            "apps/web/kustomization.yaml": "resources: [cm.yaml]\n",
            "apps/web/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
                "data: {app: '${APP}', port: '${PORT:=80}', tz: '${TZ}', n: '${MISSING}'}\n"
            ),
        },
    )
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-settings", "namespace": "flux-system"},
        "data": {"TZ": "Europe/Paris"},
    }
    ks = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {
            "path": "./apps/web",
            "postBuild": {
                "substitute": {"APP": "web"},
                "substituteFrom": [
                    {"kind": "ConfigMap", "name": "cluster-settings"},
                    {"kind": "Secret", "name": "cluster-secrets", "optional": True},
                ],
            },
        },
    }
    build = build_flux_kustomization(ks, root=root, source_objects=[settings], backend="python")
    assert build.objects[0]["data"] == {
        "app": "web",
        "port": 80,  # kustomize drops the quotes before Flux substitutes
        "tz": "Europe/Paris",
        "n": "${MISSING}",
    }
    assert build.unresolved == {"MISSING"}
    assert any("cluster-secrets" in w for w in build.warnings)
    ks["spec"]["postBuild"]["substituteFrom"][1]["optional"] = False  # type: ignore[index]
    lenient = build_flux_kustomization(ks, root=root, source_objects=[settings], backend="python")
    assert lenient.unresolved == {"MISSING"}
    assert any("cluster-secrets is not in the repository" in w for w in lenient.warnings)
    with pytest.raises(HomelabKitError, match="cluster-secrets"):
        build_flux_kustomization(
            ks, root=root, source_objects=[settings], backend="python", strict=True
        )


_SCALARS = st.one_of(
    st.sampled_from(["${A}", "x-${B}", "$${A}", "${UNSET:=d}", "plain", "${A}${B}", "${"]),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
)
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "${A}", "b", "c"]), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(st.sampled_from(["kind", "spec", "data"]), _TREES), max_size=3))
def test_copy_on_write_gives_what_a_copy_gives(objects: list[dict[str, object]]) -> None:
    """``copy=False`` returns the same objects as a full copy, never changes its input,
    and returns an object without a variable as it is."""
    import copy as _copy

    objects = [{"kind": "X", "metadata": {"name": "x"}, **o} for o in objects]
    before = _copy.deepcopy(objects)
    variables = {"A": "1", "B": "two"}
    copied = substitute_objects(objects, variables)
    shared = substitute_objects(objects, variables, copy=False)
    assert shared == copied
    assert objects == before
    for original, new in zip(objects, shared.objects, strict=True):
        if "$" not in canonical_json(original):
            assert new is original
