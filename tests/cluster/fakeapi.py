"""A fake Kubernetes API server on 127.0.0.1, for tests that cannot assume a cluster.

It answers what ``status``, ``drift``, ``schemas pull``, ``reconcile`` and ``doctor``
ask, with the JSON a real API server sends: discovery (``/api``, ``/apis``, each group
version), lists and gets of any registered resource (label and field selectors,
``limit``/``continue`` paging, ``PartialObjectMetadata`` when the Accept header asks
for it), JSON merge patches (recorded in :attr:`FakeApiServer.patches`), pod logs
(``pods/NAME/log`` with ``tailLines`` and ``container``), and ``Status`` errors for
401, 403 and 404.  Installing a CustomResourceDefinition object serves its API, as the
API server does.  Paths in :attr:`FakeApiServer.slow_paths` answer only when the test
ends, to provoke timeouts.

:meth:`FakeApiServer.controller` plays a Flux controller: once an object was
annotated with ``reconcile.fluxcd.io/requestedAt``, the N-th read of it afterwards
finds the request handled (``status.lastHandledReconcileAt``) with the Ready
condition the test chose.

The real kubernetes client talks to it over HTTP through a kubeconfig written by
:meth:`FakeApiServer.write_kubeconfig`; nothing inside the client is patched.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
ADMIN_TOKEN = "admin-token-0123456789"
READER_TOKEN = "reader-token-0123456789"
READER_USER = "system:serviceaccount:monitoring:homelab-kit"
TIMESTAMP = "2025-06-01T10:00:00Z"


@attrs.define
class Served:
    """A resource the fake server serves."""

    group: str
    versions: list[str]
    plural: str
    kind: str
    namespaced: bool
    builtin: bool = True
    singular: str = ""


@attrs.frozen
class Patch:
    """A merge patch the server applied: to which object, and the annotations it set."""

    plural: str
    namespace: str | None
    name: str
    content_type: str
    annotations: Mapping[str, str | None]


@attrs.define
class Controller:
    """How the fake Flux controller answers a reconcile request of one object."""

    polls: int = 1
    ready: str = "True"
    reason: str = "ReconciliationSucceeded"
    message: str = "Applied revision: main@sha1:9a8b7c6d"
    pending: str | None = None
    countdown: int = 0


@attrs.frozen
class Request:
    """One request the server received (what the tests assert on)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    accept: str
    user: str | None


BUILTIN: tuple[Served, ...] = (
    Served("", ["v1"], "namespaces", "Namespace", False),
    Served("", ["v1"], "secrets", "Secret", True),
    Served("", ["v1"], "configmaps", "ConfigMap", True),
    Served("", ["v1"], "serviceaccounts", "ServiceAccount", True),
    Served("", ["v1"], "services", "Service", True),
    Served("", ["v1"], "persistentvolumeclaims", "PersistentVolumeClaim", True),
    Served("", ["v1"], "events", "Event", True),
    Served("", ["v1"], "pods", "Pod", True),
    Served("apps", ["v1"], "statefulsets", "StatefulSet", True),
    Served("apps", ["v1"], "daemonsets", "DaemonSet", True),
    Served("apps", ["v1"], "deployments", "Deployment", True),
    Served("events.k8s.io", ["v1"], "events", "Event", True),
    Served(
        "apiextensions.k8s.io",
        ["v1"],
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
    ),
)


class FakeApiServer:
    """The server and the cluster state it serves; start with :meth:`start`."""

    def __init__(self) -> None:
        self.served: list[Served] = [copy.deepcopy(s) for s in BUILTIN]
        self.objects: dict[tuple[str, str], dict[tuple[str | None, str], dict[str, Any]]] = {}
        self.tokens: dict[str, str] = {ADMIN_TOKEN: "admin", READER_TOKEN: READER_USER}
        self.forbidden: set[tuple[str, str, str, str | None]] = set()
        self.slow_paths: list[str] = []
        self.requests: list[Request] = []
        self.patches: list[Patch] = []
        self.logs: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.controllers: dict[tuple[str, str | None, str], Controller] = {}
        self.page_size_cap: int | None = None
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._uid = 0
        self._httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeApiServer:
        """Serve on an ephemeral port of 127.0.0.1, from a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = 1 << 16  # one write per response, flushed after each request

            def do_GET(self) -> None:
                fake._handle(self)

            def do_PATCH(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # type: ignore[attr-defined]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Release slow requests, stop serving and close the socket."""
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def write_kubeconfig(self, path: Path, *, current: str = "admin") -> Path:
        """A kubeconfig with contexts ``admin``, ``reader`` (RBAC-limited), ``expired``
        (a token the server rejects) and ``refused`` (a port nobody listens on)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "homelab", "cluster": {"server": self.url}},
                {"name": "gone", "cluster": {"server": f"http://127.0.0.1:{closed_port()}"}},
            ],
            "users": [
                {"name": "admin", "user": {"token": ADMIN_TOKEN}},
                {"name": "reader", "user": {"token": READER_TOKEN}},
                {"name": "expired", "user": {"token": "expired-token"}},
            ],
            "contexts": [
                {"name": "admin", "context": {"cluster": "homelab", "user": "admin"}},
                {"name": "reader", "context": {"cluster": "homelab", "user": "reader"}},
                {"name": "expired", "context": {"cluster": "homelab", "user": "expired"}},
                {"name": "refused", "context": {"cluster": "gone", "user": "admin"}},
            ],
            "current-context": current,
            "preferences": {},
        }
        path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        return path

    # ------------------------------------------------------------------ state

    def add(self, *objects: Mapping[str, Any]) -> None:
        """Store objects (a CustomResourceDefinition also serves its API)."""
        for obj in objects:
            obj = copy.deepcopy(dict(obj))
            group, _, _ = str(obj["apiVersion"]).rpartition("/")
            served = self.served_kind(group, str(obj["kind"]))
            assert served is not None, f"no API serves {obj['apiVersion']} {obj['kind']}"
            meta = obj.setdefault("metadata", {})
            if served.namespaced:
                meta.setdefault("namespace", "default")
            with self._lock:
                self._uid += 1
                meta.setdefault("uid", f"00000000-0000-4000-8000-{self._uid:012d}")
                meta.setdefault("resourceVersion", str(1000 + self._uid))
                meta.setdefault("generation", 1)
                meta.setdefault("creationTimestamp", TIMESTAMP)
                key = (meta.get("namespace") if served.namespaced else None, meta["name"])
                self.objects.setdefault((group, served.plural), {})[key] = obj
            if group == "apiextensions.k8s.io" and obj["kind"] == "CustomResourceDefinition":
                self._serve_crd(obj)

    def remove(self, group: str, plural: str, namespace: str | None, name: str) -> None:
        """Delete one object."""
        with self._lock:
            self.objects.get((group, plural), {}).pop((namespace, name), None)

    def add_log(self, namespace: str, pod: str, lines: Iterable[str], container: str = "") -> None:
        """What ``kubectl logs`` would print for a pod (its first container by default)."""
        self.logs.setdefault((namespace, pod), {})[container] = list(lines)

    def controller(
        self, plural: str, namespace: str | None, name: str, **answer: Any
    ) -> Controller:
        """Play the controller of one object: see the module docstring.

        ``polls`` (the reads after the patch until it is handled), ``ready``,
        ``reason`` and ``message`` (the Ready condition it then reports).  Without
        one, requests are never handled (timeouts).
        """
        found = Controller(**answer)
        self.controllers[(plural, namespace, name)] = found
        return found

    def get_object(
        self, group: str, plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """The stored object, as the server holds it."""
        with self._lock:
            return self.objects.get((group, plural), {}).get((namespace, name))

    def served_kind(self, group: str, kind: str) -> Served | None:
        """The served resource of ``kind`` in ``group``, if any."""
        return next((s for s in self.served if s.group == group and s.kind == kind), None)

    def forbid(self, user: str, verb: str, plural: str, namespace: str | None = None) -> None:
        """RBAC: ``user`` may not ``verb`` ``plural`` (in ``namespace``; None: anywhere)."""
        self.forbidden.add((user, verb, plural, namespace))

    def _serve_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd["spec"]
        versions = [v["name"] for v in spec["versions"] if v.get("served", True)]
        versions.sort(key=_version_priority)
        names = spec["names"]
        self.served = [
            s for s in self.served if not (s.group == spec["group"] and s.kind == names["kind"])
        ]
        self.served.append(
            Served(
                spec["group"],
                versions,
                names["plural"],
                names["kind"],
                spec.get("scope", "Namespaced") == "Namespaced",
                builtin=False,
                singular=names.get("singular", ""),
            )
        )

    # ------------------------------------------------------------------ serving

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = parse_qs(parts.query)
        accept = http.headers.get("Accept", "")
        auth = http.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        user = self.tokens.get(token)
        method = http.command
        length = int(http.headers.get("Content-Length") or 0)
        payload = http.rfile.read(length) if length else b""
        self.requests.append(Request(method, parts.path, query, accept, user))
        if any(parts.path.startswith(p) for p in self.slow_paths):
            self.release.wait(10)
        if user is None:
            _send(http, 401, _status(401, "Unauthorized", "Unauthorized"))
            return
        try:
            if method == "PATCH":
                content_type = http.headers.get("Content-Type", "")
                code, body = self._patch(parts.path, payload, content_type, user)
            else:
                code, body = self._route(parts.path, query, accept, user)
        except _Plain404:
            _send_text(http, 404, "404 page not found\n")
            return
        except _Text as text:
            _send_text(http, 200, text.body)
            return
        _send(http, code, body)

    def _route(
        self, path: str, query: Mapping[str, list[str]], accept: str, user: str
    ) -> tuple[int, dict[str, Any]]:
        segments = [s for s in path.split("/") if s]
        if segments == ["api"]:
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.10:6443"}
                ],
            }
        if segments == ["apis"]:
            return 200, self._group_list()
        group, version, namespace, rest = _split(segments)
        resources = [s for s in self.served if s.group == group and version in s.versions]
        if not resources:
            raise _Plain404
        if not rest:
            return 200, self._resource_list(group, version, resources)
        plural, name = rest[0], (rest[1] if len(rest) > 1 else None)
        served = next((s for s in resources if s.plural == plural), None)
        if served is not None and plural == "pods" and rest[2:] == ["log"] and name:
            return self._log(served, namespace, name, query, user)
        if served is None or len(rest) > 2:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if name else "list"
        if self._denied(user, verb, plural, namespace):
            return 403, _forbidden(user, verb, served, namespace, name)
        if name is not None:
            self._tick(served, namespace, name)
            return self._get(served, version, namespace, name, accept)
        return 200, self._list(served, version, namespace, query, accept)

    def _target(self, path: str) -> tuple[Served, str, str | None, str]:
        group, version, namespace, rest = _split([s for s in path.split("/") if s])
        served = next(
            (
                s
                for s in self.served
                if s.group == group and version in s.versions and rest[:1] == [s.plural]
            ),
            None,
        )
        if served is None or len(rest) != 2:
            raise _Plain404
        return served, version, namespace, rest[1]

    def _patch(
        self, path: str, payload: bytes, content_type: str, user: str
    ) -> tuple[int, dict[str, Any]]:
        served, version, namespace, name = self._target(path)
        if self._denied(user, "patch", served.plural, namespace):
            return 403, _forbidden(user, "patch", served, namespace, name)
        if content_type.split(";")[0].strip() != "application/merge-patch+json":
            return 415, _status(415, "UnsupportedMediaType", f"unsupported {content_type!r}")
        patch = json.loads(payload)
        key = (namespace if served.namespaced else None, name)
        with self._lock:
            stored = self.objects.get((served.group, served.plural), {}).get(key)
            if stored is not None:
                _merge(stored, patch)
                meta = stored["metadata"]
                meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1000")) + 1)
        if stored is None:
            return self._get(served, version, namespace, name, "application/json")
        annotations = (patch.get("metadata") or {}).get("annotations") or {}
        self.patches.append(Patch(served.plural, key[0], name, content_type, dict(annotations)))
        controller = self.controllers.get((served.plural, key[0], name))
        requested = annotations.get("reconcile.fluxcd.io/requestedAt")
        if controller is not None and requested:
            controller.pending, controller.countdown = requested, controller.polls
        return self._get(served, version, namespace, name, "application/json")

    def _tick(self, served: Served, namespace: str | None, name: str) -> None:
        """One read of an object: the fake controller may finish a pending request."""
        controller = self.controllers.get((served.plural, namespace, name))
        if controller is None or controller.pending is None:
            return
        controller.countdown -= 1
        if controller.countdown > 0:
            return
        with self._lock:
            stored = self.objects.get((served.group, served.plural), {}).get((namespace, name))
            if stored is None:
                return
            status = stored.setdefault("status", {})
            status["lastHandledReconcileAt"] = controller.pending
            status["observedGeneration"] = stored["metadata"].get("generation", 1)
            ready = {
                "type": "Ready",
                "status": controller.ready,
                "reason": controller.reason,
                "message": controller.message,
                "observedGeneration": status["observedGeneration"],
                "lastTransitionTime": TIMESTAMP,
            }
            others = [c for c in status.get("conditions", []) if c.get("type") != "Ready"]
            status["conditions"] = [ready, *others]
        controller.pending = None

    def _log(
        self,
        served: Served,
        namespace: str | None,
        name: str,
        query: Mapping[str, list[str]],
        user: str,
    ) -> tuple[int, dict[str, Any]]:
        if self._denied(user, "get", "pods/log", namespace):
            status = _forbidden(user, "get", served, namespace, name)
            status["message"] = status["message"].replace('resource "pods"', 'resource "pods/log"')
            return 403, status
        if (namespace, name) not in self._stored(served):
            return self._get(served, "v1", namespace, name, "application/json")
        by_container = self.logs.get((namespace or "", name), {})
        container = (query.get("container") or [""])[0]
        lines = by_container.get(container, by_container.get("", []))
        tail = int((query.get("tailLines") or ["0"])[0])
        if tail:
            lines = lines[-tail:]
        raise _Text("".join(f"{line}\n" for line in lines))

    def _denied(self, user: str, verb: str, plural: str, namespace: str | None) -> bool:
        return (user, verb, plural, None) in self.forbidden or (
            namespace is not None and (user, verb, plural, namespace) in self.forbidden
        )

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for served in self.served:
            if served.group:
                known = groups.setdefault(served.group, [])
                known.extend(v for v in served.versions if v not in known)
        out = []
        for name, versions in groups.items():
            versions.sort(key=_version_priority)
            out.append(
                {
                    "name": name,
                    "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
                    "preferredVersion": {
                        "groupVersion": f"{name}/{versions[0]}",
                        "version": versions[0],
                    },
                }
            )
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}

    def _resource_list(
        self, group: str, version: str, resources: Iterable[Served]
    ) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for served in resources:
            items.append(
                {
                    "name": served.plural,
                    "singularName": served.singular or served.kind.lower(),
                    "namespaced": served.namespaced,
                    "kind": served.kind,
                    "verbs": VERBS,
                    "storageVersionHash": "abcdefghijk=",
                }
            )
            items.append(
                {
                    "name": f"{served.plural}/status",
                    "singularName": "",
                    "namespaced": served.namespaced,
                    "kind": served.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": items,
        }

    def _stored(self, served: Served) -> dict[tuple[str | None, str], dict[str, Any]]:
        with self._lock:
            return dict(self.objects.get((served.group, served.plural), {}))

    def _get(
        self, served: Served, version: str, namespace: str | None, name: str, accept: str
    ) -> tuple[int, dict[str, Any]]:
        obj = self._stored(served).get((namespace if served.namespaced else None, name))
        if obj is None:
            what = f"{served.plural}.{served.group}" if served.group else served.plural
            status = _status(404, "NotFound", f'{what} "{name}" not found')
            status["details"] = {"name": name, "kind": served.plural}
            if served.group:
                status["details"]["group"] = served.group
            return 404, status
        if "as=PartialObjectMetadata;" in accept + ";":
            return 200, _partial(obj)
        return 200, _versioned(obj, served, version)

    def _list(
        self,
        served: Served,
        version: str,
        namespace: str | None,
        query: Mapping[str, list[str]],
        accept: str,
    ) -> dict[str, Any]:
        selector = (query.get("labelSelector") or [""])[0]
        fields = (query.get("fieldSelector") or [""])[0]
        items = [
            obj
            for (ns, _), obj in sorted(self._stored(served).items(), key=lambda kv: str(kv[0]))
            if (namespace is None or ns == namespace)
            and _selected(obj, selector)
            and _fields_selected(obj, fields)
        ]
        start = int((query.get("continue") or ["0"])[0])
        limit = int((query.get("limit") or ["0"])[0]) or len(items)
        if self.page_size_cap:
            limit = min(limit, self.page_size_cap)
        page, more = items[start : start + limit], start + limit < len(items)
        meta: dict[str, Any] = {"resourceVersion": "4242"}
        if more:
            meta["continue"] = str(start + limit)
        if "as=PartialObjectMetadataList" in accept:
            return {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": [_partial(o) for o in page],
            }
        rendered = [_versioned(o, served, version) for o in page]
        if served.builtin:
            for item in rendered:
                item.pop("apiVersion", None)
                item.pop("kind", None)
        api_version = f"{served.group}/{version}" if served.group else version
        return {
            "kind": f"{served.kind}List",
            "apiVersion": api_version,
            "metadata": meta,
            "items": rendered,
        }


class _Plain404(Exception):
    pass


class _Text(Exception):
    def __init__(self, body: str) -> None:
        super().__init__()
        self.body = body


# ---------------------------------------------------------------------- helpers


def _split(segments: list[str]) -> tuple[str, str, str | None, list[str]]:
    """``(group, version, namespace, rest)`` of an API path's segments."""
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        raise _Plain404
    if len(rest) >= 3 and rest[0] == "namespaces":
        return group, version, rest[1], rest[2:]
    return group, version, None, rest


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if match is None:
        return (3, 0, 0)
    major, stage, minor = int(match.group(1)), match.group(2), int(match.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor)


def _selected(obj: Mapping[str, Any], selector: str) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _fields_selected(obj: Mapping[str, Any], selector: str) -> bool:
    """Field selectors as the API server reads them: ``a.b=c`` and ``a.b!=c`` terms."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        path, value = term.split("!=" if negate else "=", 1)
        found: Any = obj
        for part in path.rstrip("=").split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        if (str(found if found is not None else "") == value) == negate:
            return False
    return True


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """RFC 7386 JSON merge patch, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _partial(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": copy.deepcopy(obj["metadata"]),
    }


def _versioned(obj: Mapping[str, Any], served: Served, version: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(obj))
    out["apiVersion"] = f"{served.group}/{version}" if served.group else version
    return out


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _forbidden(
    user: str, verb: str, served: Served, namespace: str | None, name: str | None
) -> dict[str, Any]:
    what = f"{served.plural}.{served.group}" if served.group else served.plural
    subject = f'{what} "{name}"' if name else what
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    status = _status(
        403,
        "Forbidden",
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{served.plural}" '
        f'in API group "{served.group}" {scope}',
    )
    details: dict[str, Any] = {"kind": served.plural}
    if served.group:
        details["group"] = served.group
    if name:
        details["name"] = name
    status["details"] = details
    return status


def _send(http: BaseHTTPRequestHandler, code: int, body: Mapping[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    _write(http, code, "application/json", data)


def _send_text(http: BaseHTTPRequestHandler, code: int, text: str) -> None:
    _write(http, code, "text/plain; charset=utf-8", text.encode("utf-8"))


def _write(http: BaseHTTPRequestHandler, code: int, content_type: str, data: bytes) -> None:
    try:
        http.send_response(code)
        http.send_header("Content-Type", content_type)
        http.send_header("Content-Length", str(len(data)))
        http.send_header("Audit-Id", "6f0c2b1e-2d7a-4d0e-9c55-000000000000")
        http.end_headers()
        http.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
