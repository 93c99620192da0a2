"""The links of ``homelab-kit doctor`` past Flux: secrets, pods, events.

* :func:`secret_findings`: the InfisicalSecrets and ExternalSecrets of an app (and
  those producing a Secret the app reads) are synced, and the Secrets they manage
  exist; with a problem, the secrets operator's pods and the lines of their last 50
  log lines that name the object.
* :func:`pod_findings`: the pods of the app's workloads, and what keeps each from
  running (CrashLoopBackOff, ImagePullBackOff, Pending with the scheduler's reason,
  not Ready); restarts of a Ready pod are a warning.
* :func:`event_findings`: Warning events about anything the walk met (warnings).

Secrets are read as metadata only; pods, workloads and events hold no Secret value
(environment values from Secrets are references, never resolved in a pod's spec).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from homelab_kit.cluster.client import Action
from homelab_kit.cluster.doctor import (
    ERROR,
    EXTERNAL_SECRETS_GROUP,
    WARNING,
    AppWalk,
    Finding,
)
from homelab_kit.cluster.status import INFISICAL_GROUP, sync_state
from homelab_kit.errors import ClusterError
from homelab_kit.model.secret_readers import secret_readers

LOG_LINES = 50
MAX_EVENTS = 5
_LINE_LIMIT = 300
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
FLUX_NAME = "kustomize.toolkit.fluxcd.io/name"
FLUX_NAMESPACE = "kustomize.toolkit.fluxcd.io/namespace"
HELM_NAME = "helm.toolkit.fluxcd.io/name"
HELM_NAMESPACE = "helm.toolkit.fluxcd.io/namespace"
INSTANCE = "app.kubernetes.io/instance"
#: Waiting reasons that mean a container cannot start (not a transient state).
STUCK = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}


@attrs.frozen
class Operator:
    """Where a secrets operator usually runs and how its pods are labelled."""

    product: str
    names: tuple[str, ...]
    namespaces: tuple[str, ...]


OPERATORS: Mapping[str, Operator] = {
    "InfisicalSecret": Operator(
        "the Infisical operator",
        ("secrets-operator", "infisical-secrets-operator"),
        ("infisical-system", "infisical-operator-system", "infisical"),
    ),
    "ExternalSecret": Operator(
        "External Secrets", ("external-secrets",), ("external-secrets", "external-secrets-system")
    ),
}
_GROUPS = {"InfisicalSecret": INFISICAL_GROUP, "ExternalSecret": EXTERNAL_SECRETS_GROUP}


# ---------------------------------------------------------------------- secrets


@attrs.frozen
class _SecretObject:
    kind: str
    namespace: str
    name: str
    path: str
    managed: tuple[tuple[str, str], ...]


def secret_findings(walk: AppWalk) -> Iterator[Finding]:
    """Link 5: see the module docstring."""
    secret_resource = walk.reader.cluster.resource("", "Secret")
    for item in _secret_objects(walk):
        walk.seen.add((item.kind, item.namespace, item.name))
        operator = OPERATORS[item.kind]
        resource = walk.reader.resource(_GROUPS[item.kind], item.kind)
        if resource is None:
            yield Finding(
                "secret",
                item.kind,
                item.namespace,
                item.name,
                f"cannot sync: the cluster serves no {item.kind} API ({operator.product} is "
                "not installed)",
                f"kubectl get crd {item.kind.lower()}s.{_GROUPS[item.kind]}",
            )
            continue
        obj = walk.reader.get(resource, item.namespace, item.name)
        if obj is None:
            parent = walk.deployer(item.path)
            yield Finding(
                "secret",
                item.kind,
                item.namespace,
                item.name,
                "is not on the cluster"
                + (f": Kustomization {parent} has not applied it" if parent else ""),
                f"homelab-kit reconcile {parent} --with-source"
                if parent
                else f"kubectl -n {item.namespace} get {item.kind.lower()}",
            )
            continue
        synced, reason, message = sync_state(obj, item.kind)
        if synced is not True:
            why = ": ".join(p for p in (reason, message) if p) or "no sync condition yet"
            pods, details = operator_health(walk, item.kind, item.name)
            yield Finding(
                "secret",
                item.kind,
                item.namespace,
                item.name,
                f"is not synced: {why}",
                _operator_logs_command(pods, item.kind, item.namespace, item.name),
                details=details,
            )
            continue
        for namespace, name in item.managed:
            walk.seen.add(("Secret", namespace, name))
            if walk.reader.get(secret_resource, namespace, name, metadata=True) is not None:
                continue
            pods, details = operator_health(walk, item.kind, item.name)
            yield Finding(
                "secret",
                "Secret",
                namespace,
                name,
                f"does not exist: {item.kind} {item.namespace}/{item.name} reports synced "
                "but has not created it",
                f"kubectl -n {item.namespace} describe {item.kind.lower()} {item.name}",
                details=details,
            )


def _secret_objects(walk: AppWalk) -> list[_SecretObject]:
    """The app's own InfisicalSecrets and ExternalSecrets, then those producing a Secret
    one of the app's files reads."""
    repo, files = walk.repo, set(walk.app.files)
    every: list[_SecretObject] = []
    for secret in repo.infisical_secrets:
        namespace = walk.landed(secret.source.path, secret.namespace)
        managed = tuple((m.namespace or namespace, m.name) for m in secret.managed_secrets)
        every.append(
            _SecretObject("InfisicalSecret", namespace, secret.name, secret.source.path, managed)
        )
    for external in repo.external_secrets:
        namespace = walk.landed(external.source.path, external.namespace)
        every.append(
            _SecretObject(
                "ExternalSecret",
                namespace,
                external.name,
                external.source.path,
                ((namespace, external.target_name),),
            )
        )
    read: set[str] = set()
    for reader in secret_readers(repo):
        if reader.source.path in files:
            read.update(reader.names)
    own = [s for s in every if s.path in files]
    produced = [
        s for s in every if s.path not in files and any(name in read for _, name in s.managed)
    ]
    return own + produced


def operator_health(
    walk: AppWalk, kind: str, name: str
) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """The secrets operator's pods, and the lines of their last 50 log lines naming ``name``.

    :returns: the pods found (namespace, name) and the lines to show.  Lack of
        permission is a line, not a failure: this is extra information.
    """
    operator = OPERATORS[kind]
    namespaces, releases = _operator_places(walk, operator)
    pods_resource = walk.reader.cluster.resource("", "Pod")
    found: list[Mapping[str, Any]] = []
    lines: list[str] = []
    for namespace in namespaces:
        try:
            pods = walk.reader.list(pods_resource, namespace)
        except ClusterError as exc:
            lines.append(f"operator pods in {namespace}: {exc}")
            continue
        found.extend(p for p in pods if _is_operator_pod(p, operator, releases))
        if found:
            break
    if not found:
        lines.append(
            f"no pod of {operator.product} found (looked in namespace "
            f"{', '.join(namespaces)}): is it installed and running?"
        )
        return [], tuple(lines)
    located: list[tuple[str, str]] = []
    for pod in found:
        namespace, pod_name = _ns_name(pod)
        located.append((namespace, pod_name))
        problems = [p for _, p, _ in _pod_problems(pod)]
        state = "; ".join(problems) if problems else "Running and Ready"
        lines.append(f"operator pod {namespace}/{pod_name}: {state}")
        lines.extend(_log_lines(walk, pod, name))
    return located, tuple(lines)


def _operator_places(walk: AppWalk, operator: Operator) -> tuple[list[str], set[str]]:
    """Namespaces to look in (where the repository installs the operator first) and
    the operator's Helm release names."""
    namespaces: list[str] = []
    releases: set[str] = set()
    for hr in walk.repo.helm_releases:
        chart = hr.chart.chart if hr.chart is not None else None
        if (
            chart in operator.names
            or hr.name in operator.names
            or (hr.chart_ref is not None and hr.chart_ref.name in operator.names)
        ):
            namespaces.append(walk.landed(hr.source.path, hr.namespace))
            releases.add(hr.name)
    namespaces.extend(operator.namespaces)
    return list(dict.fromkeys(namespaces)), releases


def _is_operator_pod(pod: Mapping[str, Any], operator: Operator, releases: set[str]) -> bool:
    meta = _map(pod.get("metadata"))
    labels = _map(meta.get("labels"))
    if labels.get("app.kubernetes.io/name") in operator.names:
        return True
    if labels.get(INSTANCE) in releases:
        return True
    name = str(meta.get("name") or "")
    return any(name.startswith(f"{n}-") for n in operator.names)


def _log_lines(walk: AppWalk, pod: Mapping[str, Any], name: str) -> list[str]:
    namespace, pod_name = _ns_name(pod)
    containers = [
        str(c.get("name")) for c in _items(_map(pod.get("spec")).get("containers")) if c.get("name")
    ]
    container = "manager" if "manager" in containers else (containers[0] if containers else "")
    query = [("tailLines", str(LOG_LINES))]
    if container:
        query.append(("container", container))
    try:
        text = walk.reader.cluster.get_text(
            f"/api/v1/namespaces/{namespace}/pods/{pod_name}/log",
            query,
            action=Action("get", "pods/log", "", namespace, pod_name),
        )
    except ClusterError as exc:
        return [f"{namespace}/{pod_name} log: {exc}"]
    matching = [line[:_LINE_LIMIT] for line in text.splitlines() if name in line]
    if not matching:
        return [f"{namespace}/{pod_name} log: no line of the last {LOG_LINES} names {name}"]
    return [f"{namespace}/{pod_name} log: {line}" for line in matching]


def _operator_logs_command(
    pods: list[tuple[str, str]], kind: str, namespace: str, name: str
) -> str:
    if pods:
        pod_ns, pod_name = pods[0]
        return f"kubectl -n {pod_ns} logs {pod_name} --tail {LOG_LINES}"
    return f"kubectl -n {namespace} describe {kind.lower()} {name}"


# ---------------------------------------------------------------------- pods


def pod_findings(walk: AppWalk) -> Iterator[Finding]:
    """Link 6: see the module docstring."""
    namespaces = _app_namespaces(walk)
    owners_ks = {(ns, name) for ns, name, _ in walk.live_kustomizations}
    owners_hr = {(ns, name) for ns, name, _ in walk.live_releases}
    instances = {_release_name(ns, name, obj) for ns, name, obj in walk.live_releases}
    pods_resource = walk.reader.cluster.resource("", "Pod")
    for namespace in namespaces:
        workloads = [
            (kind, w)
            for kind in WORKLOAD_KINDS
            for w in _workloads(walk, kind, namespace)
            if _owned(w, owners_ks, owners_hr)
        ]
        pods = walk.reader.list(pods_resource, namespace) if workloads or instances else []
        matched: dict[str, Mapping[str, Any]] = {}
        for kind, workload in workloads:
            _, workload_name = _ns_name(workload)
            walk.seen.add((kind, namespace, workload_name))
            selector = _map(_map(workload.get("spec")).get("selector"))
            mine = [p for p in pods if _matches(p, selector)]
            for pod in mine:
                matched[_ns_name(pod)[1]] = pod
            wanted = _desired(kind, workload)
            if wanted and not mine:
                yield Finding(
                    "pod",
                    kind,
                    namespace,
                    workload_name,
                    f"wants {wanted} pod{'s' if wanted != 1 else ''} and has none",
                    f"kubectl -n {namespace} describe {kind.lower()} {workload_name}",
                )
        for pod in pods:
            if _map(_map(pod.get("metadata")).get("labels")).get(INSTANCE) in instances:
                matched.setdefault(_ns_name(pod)[1], pod)
        for pod_name in sorted(matched):
            walk.seen.add(("Pod", namespace, pod_name))
            for severity, problem, command in _pod_problems(matched[pod_name]):
                yield Finding("pod", "Pod", namespace, pod_name, problem, command, severity)


def _app_namespaces(walk: AppWalk) -> list[str]:
    out = [walk.app.namespace]
    for namespace, _, obj in (*walk.live_kustomizations, *walk.live_releases):
        target = _map(obj.get("spec")).get("targetNamespace")
        out.append(target if isinstance(target, str) and target else namespace)
    return list(dict.fromkeys(out))


def _workloads(walk: AppWalk, kind: str, namespace: str) -> list[dict[str, Any]]:
    resource = walk.reader.resource("apps", kind)
    return walk.reader.list(resource, namespace) if resource is not None else []


def _owned(workload: Mapping[str, Any], ks: set[tuple[str, str]], hr: set[tuple[str, str]]) -> bool:
    labels = _map(_map(workload.get("metadata")).get("labels"))
    return (labels.get(FLUX_NAMESPACE), labels.get(FLUX_NAME)) in ks or (
        labels.get(HELM_NAMESPACE),
        labels.get(HELM_NAME),
    ) in hr


def _release_name(namespace: str, name: str, obj: Mapping[str, Any]) -> str:
    """The Helm release name: spec.releaseName, else the name (prefixed by
    targetNamespace when set), as helm-controller computes it."""
    spec = _map(obj.get("spec"))
    history = _items(_map(obj.get("status")).get("history"))
    if history and isinstance(history[0].get("name"), str):
        return str(history[0]["name"])
    if isinstance(spec.get("releaseName"), str) and spec["releaseName"]:
        return str(spec["releaseName"])
    target = spec.get("targetNamespace")
    return f"{target}-{name}" if isinstance(target, str) and target else name


def _desired(kind: str, workload: Mapping[str, Any]) -> int:
    spec, status = _map(workload.get("spec")), _map(workload.get("status"))
    if kind == "DaemonSet":
        value = status.get("desiredNumberScheduled", 0)
    else:
        value = spec.get("replicas", 1)
    return value if isinstance(value, int) else 0


def _matches(pod: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a pod's labels."""
    labels = _map(_map(pod.get("metadata")).get("labels"))
    match_labels = _map(selector.get("matchLabels"))
    expressions = _items(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False  # an empty selector would select every pod: not this app's
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        key, operator = str(expression.get("key")), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _pod_problems(pod: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(severity, problem, next command)`` for one pod; empty when it is healthy."""
    namespace, name = _ns_name(pod)
    meta, status = _map(pod.get("metadata")), _map(pod.get("status"))
    if meta.get("deletionTimestamp"):
        return []
    phase = str(status.get("phase") or "Unknown")
    describe = f"kubectl -n {namespace} describe pod {name}"
    if phase == "Succeeded":
        return []
    statuses = [
        *(("init container", c) for c in _items(status.get("initContainerStatuses"))),
        *(("container", c) for c in _items(status.get("containerStatuses"))),
    ]
    out: list[tuple[str, str, str]] = []
    for label, container in statuses:
        waiting = _map(_map(container.get("state")).get("waiting"))
        reason = waiting.get("reason")
        if reason not in STUCK:
            continue
        cname = str(container.get("name") or "?")
        restarts = container.get("restartCount") or 0
        message = _str(waiting.get("message"))
        if reason == "CrashLoopBackOff":
            last = _map(_map(container.get("lastState")).get("terminated"))
            exit_info = f"; last exit: {_exit(last)}" if last else ""
            out.append(
                (
                    ERROR,
                    f"{label} {cname} is in CrashLoopBackOff "
                    f"(restarted {restarts} times{exit_info})",
                    f"kubectl -n {namespace} logs {name} -c {cname} --previous",
                )
            )
        else:
            image = container.get("image")
            what = f" (image {image})" if image and "Image" in str(reason) else ""
            out.append(
                (
                    ERROR,
                    f"{label} {cname} cannot start: {reason}{what}"
                    + (f": {message}" if message else ""),
                    describe,
                )
            )
    if out:
        return out
    if phase == "Pending":
        scheduled = next(
            (c for c in _items(status.get("conditions")) if c.get("type") == "PodScheduled"), None
        )
        if scheduled is not None and scheduled.get("status") == "False":
            why = ": ".join(
                str(p) for p in (scheduled.get("reason"), scheduled.get("message")) if p
            )
            return [(ERROR, f"is Pending, not scheduled: {why or 'no reason given'}", describe)]
        return [(ERROR, "is Pending: scheduled, its containers have not started", describe)]
    if phase == "Failed":
        why = ": ".join(str(p) for p in (status.get("reason"), status.get("message")) if p)
        return [(ERROR, f"has Failed{': ' + why if why else ''}", describe)]
    if phase != "Running":
        return [(ERROR, f"is {phase}", describe)]
    ready = next((c for c in _items(status.get("conditions")) if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        unready = [
            str(c.get("name"))
            for _, c in statuses
            if c.get("ready") is False and _map(c.get("state")).get("running") is not None
        ]
        which = f" (container {', '.join(unready)} running, readiness failing)" if unready else ""
        why = ": ".join(str(p) for p in (ready.get("reason"), ready.get("message")) if p)
        return [(ERROR, f"is Running but not Ready{which}{': ' + why if why else ''}", describe)]
    restarted = [(str(c.get("name")), c) for _, c in statuses if (c.get("restartCount") or 0) > 0]
    for cname, container in restarted:
        last = _map(_map(container.get("lastState")).get("terminated"))
        cause = (
            f" (last: {last.get('reason') or 'terminated'}, exit code {last.get('exitCode', '?')})"
            if last
            else ""
        )
        out.append(
            (
                WARNING,
                f"container {cname} restarted {container.get('restartCount')} times{cause}",
                f"kubectl -n {namespace} logs {name} -c {cname} --previous",
            )
        )
    return out


# ---------------------------------------------------------------------- events


def event_findings(walk: AppWalk) -> Iterator[Finding]:
    """Link 7: see the module docstring."""
    resource = walk.reader.cluster.find_resource("", "Event")
    if resource is None:
        return
    deployments = {(ns, n) for k, ns, n in walk.seen if k == "Deployment"}
    namespaces = sorted({ns for _, ns, _ in walk.seen} | {walk.app.namespace})
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for namespace in namespaces:
        for event in walk.reader.list(resource, namespace):
            if event.get("type") != "Warning":
                continue
            involved = _map(event.get("involvedObject"))
            kind, name = str(involved.get("kind") or ""), str(involved.get("name") or "")
            ns = str(involved.get("namespace") or namespace)
            if not _about(kind, ns, name, walk.seen, deployments):
                continue
            reason = str(event.get("reason") or "Warning")
            key = (kind, ns, name, reason)
            when = _when(event)
            group = groups.setdefault(key, {"count": 0, "when": "", "message": ""})
            group["count"] += event.get("count") if isinstance(event.get("count"), int) else 1
            if when >= group["when"]:
                group["when"], group["message"] = when, str(event.get("message") or "").strip()
    newest = sorted(groups.items(), key=lambda kv: kv[1]["when"], reverse=True)[:MAX_EVENTS]
    for (kind, namespace, name, reason), group in newest:
        times = f" (x{group['count']})" if group["count"] > 1 else ""
        at = f", last at {group['when']}" if group["when"] else ""
        yield Finding(
            "event",
            kind,
            namespace,
            name,
            f"Warning event {reason}{times}{at}: {_first(group['message'])}".rstrip(": "),
            f"kubectl -n {namespace} get events --field-selector type=Warning,"
            f"involvedObject.name={name}",
            severity=WARNING,
        )


def _about(
    kind: str,
    namespace: str,
    name: str,
    seen: set[tuple[str, str, str]],
    deployments: set[tuple[str, str]],
) -> bool:
    if (kind, namespace, name) in seen:
        return True
    return kind == "ReplicaSet" and any(
        ns == namespace and name.startswith(f"{d}-") for ns, d in deployments
    )


def _when(event: Mapping[str, Any]) -> str:
    for field in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = event.get(field)
        if isinstance(value, str) and value:
            return value
    return _str(_map(event.get("series")).get("lastObservedTime")) or ""


# ---------------------------------------------------------------------- helpers


def _exit(terminated: Mapping[str, Any]) -> str:
    return (
        f"{terminated.get('reason') or 'terminated'}, exit code {terminated.get('exitCode', '?')}"
    )


def _first(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _ns_name(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = _map(obj.get("metadata"))
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
