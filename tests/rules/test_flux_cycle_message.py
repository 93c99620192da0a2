"""A long dependency cycle is reported once, on one abridged line."""

from __future__ import annotations

from pathlib import Path

from homelab_kit.testing import lint_path, write_tree

KS = """\
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: k{i}
  namespace: flux-system
spec:
  dependsOn:
    - name: k{nxt}
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  wait: true
"""


def test_a_long_cycle_is_one_abridged_finding(tmp_path: Path) -> None:
    size = 40
    files = {f"kubernetes/flux/k{i}.yaml": KS.format(i=i, nxt=(i + 1) % size) for i in range(size)}
    result = lint_path(write_tree(tmp_path, files), select=["flux-ks-dependency-cycle"])
    assert [d.check_id for d in result.diagnostics] == ["flux-ks-dependency-cycle"]
    message = result.diagnostics[0].message
    assert "\n" not in message
    assert message.startswith("dependency cycle: flux-system/k0 -> flux-system/k1 -> ")
    assert message.endswith("-> flux-system/k39 -> flux-system/k0 (40 Kustomizations)")
    assert "(33 more)" in message
    assert len(message) < 300
