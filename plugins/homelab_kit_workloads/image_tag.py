"""Container images must be pinned to a version, not `latest`.

## What it does
Checks every container image of raw manifests and of bjw-s app-template values,
and every image named in chart values (`image: {repository, tag}` and
`*image: registry/name:tag` shapes):

- an image without a tag or digest runs `latest`;
- a tag listed in `mutable-tags` (default: `latest`) moves under you.

Images, like every workload field, are judged as each cluster applies them:
after a kustomization's `images:` (`newTag`, `digest`, `newName`), kustomize
patches and components (a container or a whole app-template release a component
adds is checked), a Flux Kustomization's `spec.patches` (its own or a parent's)
and `${VAR}` substitution; a HelmRelease's values are its `spec.values` merged
over its `valuesFrom` ConfigMaps. A finding is reported at the line to edit: the
`${VAR}` reference, the `images:` entry, the patch or component line, the values
line. When the repository has several clusters and only some of them have a
finding, it names them (`[cluster storage]`); a finding every cluster has is
reported once. Files no cluster deploys are not checked.

Images in values of other charts may leave `tag` empty: the chart then uses its
own `appVersion`, which the pinned chart version fixes, so only an explicit
mutable tag is reported there. Tags still built from `${VARIABLES}` (a value no
one knows: a Secret's, a file no cluster builds) or `{{ templates }}` are not
judged.

Pinning by digest (`tag@sha256:...`) is best practice: the tag documents the
version, the digest makes it immutable. Set `require-digest: true` to report
every tagged image without a digest.

## Options
- `mutable-tags` (default `[latest]`): tags reported as mutable (add `main`, `edge`, ...).
- `require-digest` (default `false`): also report tagged images without a digest.

## Why is this bad?
`latest` is not a version. The image changes whenever upstream pushes, so a pod
restart can upgrade an app without a commit; rollbacks are impossible and two
replicas may run different code. Renovate cannot propose updates for tags it
cannot compare.

## Example
```yaml
containers:
  app:
    image:
      repository: ghcr.io/qdm12/gluetun
      tag: latest
```

## Use instead
```yaml
containers:
  app:
    image:
      repository: ghcr.io/qdm12/gluetun
      tag: v3.40.0  # best: v3.40.0@sha256:<digest>, immutable
```
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from homelab_kit import Diagnostic, Repo, Severity
from homelab_kit.model.live_workloads import live_values, live_workloads
from homelab_kit.model.workloads import ImageRef
from homelab_kit_workloads._common import container_name, once_per_cluster

ID = "workload-image-tag"
SEVERITY = Severity.ERROR
CATEGORY = "correctness"
COST = 50  # CPU ms at 1,000 apps (Check.cost)
LIVE = True
REMEDIATION = "Pin the image to a version tag (ideally with its @sha256 digest)."


@attrs.frozen
class Options:
    mutable_tags: tuple[str, ...] = ("latest",)
    require_digest: bool = False


def check(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    return once_per_cluster(repo, _findings(repo, options))


def _findings(repo: Repo, options: Options) -> Iterator[Diagnostic]:
    seen: set[tuple[str | None, str, int, int]] = set()
    for workload in live_workloads(repo):
        for container in workload.containers:
            image = container.image
            if image is None:
                continue
            seen.add((workload.cluster, *_key(image)))
            problem = _problem(image, options, tag_required=True)
            if problem:
                name = container_name(workload, container)
                message = f"{name} runs {image.repository} {problem}"
                yield Diagnostic(
                    image.source, ID, message, SEVERITY, REMEDIATION, cluster=workload.cluster
                )
    for values, cluster in live_values(repo):
        for image in values.images():
            if (cluster, *_key(image)) in seen:
                continue
            seen.add((cluster, *_key(image)))
            problem = _problem(image, options, tag_required=False)
            if problem:
                where = f"{values.namespace}/" if values.namespace else ""
                release = f"HelmRelease {where}{values.release}"
                message = f"the values of {release} run {image.repository} {problem}"
                yield Diagnostic(image.source, ID, message, SEVERITY, REMEDIATION, cluster=cluster)


def _key(image: ImageRef) -> tuple[str, int, int]:
    return (image.source.path, image.source.line, image.source.column)


def _problem(image: ImageRef, options: Options, *, tag_required: bool) -> str | None:
    text = str(image)
    if "${" in text or "{{" in text:
        return None
    if image.tag is None:
        if image.digest is None and tag_required:
            return "without a tag or digest (that is, latest)"
        return None
    if image.tag in options.mutable_tags:
        if image.digest is not None:
            return None  # the digest pins it; the tag is only a label
        return f"with the mutable tag {image.tag!r}"
    if options.require_digest and image.digest is None:
        return f"pinned by tag {image.tag!r} but not by digest"
    return None
