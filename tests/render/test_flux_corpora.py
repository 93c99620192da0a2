"""Flux Kustomizations of real repositories: the python backend against kubectl.

For a deterministic sample of the Flux Kustomizations of each repository under
``../shared/corpora`` (every one that uses ``spec.patches``, ``namePrefix``,
``nameSuffix``, ``images`` or has no kustomization file, then an even spread up to
:data:`PER_REPOSITORY`), ``Repo.render`` with the pure-Python renderer must give the
objects ``Repo.render`` with kubectl gives, in the same order: the Flux spec folded
into the kustomization, substitution and ``commonMetadata`` included.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from homelab_kit.errors import HomelabKitError
from homelab_kit.model.loader import load
from homelab_kit.model.repo import Repo
from homelab_kit.render import KUSTOMIZATION_FILES
from tests.render.conftest import CORPORA, HAVE_KUBECTL, canonical

PER_REPOSITORY = 6
_RARE = ("patches", "namePrefix", "nameSuffix", "images")

# Differences we know of, with the reason; they fail loudly if they start to pass.
KNOWN_DIFFERENCES: dict[str, str] = {}


@cache
def _repo(name: str) -> Repo:
    return load(CORPORA / name)


def _interesting(repo: Repo, spec: Any) -> bool:
    if any(spec.get(field) for field in _RARE):
        return True
    directory = repo.root / str(spec.get("path") or ".")
    return directory.is_dir() and not any((directory / n).is_file() for n in KUSTOMIZATION_FILES)


def _cases() -> list[Any]:
    if not CORPORA.is_dir():
        return [pytest.param("", "", "", marks=pytest.mark.skip(reason=f"{CORPORA} is absent"))]
    cases: list[Any] = []
    for path in sorted(p for p in CORPORA.iterdir() if (p / "kubernetes").is_dir()):
        repo = _repo(path.name)
        keys = sorted((ks.namespace or "", ks.name) for ks in repo.kustomizations)
        specs = {
            (ks.namespace or "", ks.name): ks.doc.data.get("spec") or {}
            for ks in repo.kustomizations
        }
        chosen = [k for k in keys if _interesting(repo, specs[k])]
        rest = [k for k in keys if k not in chosen]
        room = max(0, PER_REPOSITORY - len(chosen))
        if rest and room:
            step = len(rest) / room
            chosen += sorted(
                {rest[int(i * step)] for i in range(room) if int(i * step) < len(rest)}
            )
        for namespace, name in chosen:
            case_id = f"{path.name}/{namespace}/{name}"
            marks = []
            if case_id in KNOWN_DIFFERENCES:
                marks.append(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[case_id], strict=True))
            cases.append(pytest.param(path.name, namespace, name, id=case_id, marks=marks))
    return cases


@pytest.mark.skipif(not HAVE_KUBECTL, reason="kubectl is not on PATH")
@pytest.mark.corpora
@pytest.mark.kubectl
@pytest.mark.parametrize(("corpus", "namespace", "name"), _cases())
def test_flux_kustomization_builds_like_kubectl(corpus: str, namespace: str, name: str) -> None:
    repo = _repo(corpus)
    try:
        theirs = repo.render(namespace or None, name, backend="kubectl")
    except HomelabKitError as exc:
        with pytest.raises(HomelabKitError):
            repo.render(namespace or None, name, backend="python")
        pytest.skip(f"kubectl fails here too: {str(exc)[:200]}")
    ours = repo.render(namespace or None, name, backend="python")
    assert sorted(canonical(ours.objects)) == sorted(canonical(theirs.objects)), "different objects"
    assert canonical(ours.objects) == canonical(theirs.objects), "same objects, different order"
    assert ours.unresolved == theirs.unresolved
