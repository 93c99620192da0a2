"""The live cluster, through the official kubernetes client: requests and errors.

:class:`Cluster` is one connection (build it with
:func:`homelab_kit.cluster.kubeconfig.connect`).

Every request goes through ``kubernetes.client.ApiClient`` (its authentication,
TLS and proxy handling) with a per-request timeout and no retries.  Reads are
JSON; reads of objects that may hold secret values ask the API server for
``PartialObjectMetadata`` so the values never reach this process.

Every failure is a :class:`~homelab_kit.errors.ClusterError` with one line a person
can act on: a missing kubeconfig, an unknown context, connection refused, a timeout,
401, 403 (naming the verb, resource and namespace to grant), and an API group that
is not served (Flux or the Infisical operator not installed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs
import urllib3

from homelab_kit.errors import ClusterError

JSON = "application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
DEFAULT_TIMEOUT = 10.0
PAGE_SIZE = 500

#: Products that serve an API group, for "X is not installed" messages.
PRODUCTS: Mapping[str, str] = {
    "kustomize.toolkit.fluxcd.io": "Flux",
    "helm.toolkit.fluxcd.io": "Flux",
    "source.toolkit.fluxcd.io": "Flux",
    "notification.toolkit.fluxcd.io": "Flux",
    "secrets.infisical.com": "the Infisical operator",
}

_USER = re.compile(r'User "([^"]*)"')


@attrs.frozen
class ApiResource:
    """One resource the API server serves (a row of ``kubectl api-resources``)."""

    group: str
    version: str
    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """``group/version`` as objects write it (``v1`` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified_name(self) -> str:
        """``kustomizations.kustomize.toolkit.fluxcd.io`` (``secrets`` for core)."""
        return f"{self.name}.{self.group}" if self.group else self.name

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The URL path of the collection, or of one object when ``name`` is given."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.name}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
        return base


@attrs.frozen
class Action:
    """What a request does, in RBAC's words, for error messages."""

    verb: str
    resource: str = ""
    group: str = ""
    namespace: str | None = None
    name: str | None = None

    @classmethod
    def on(
        cls, verb: str, resource: ApiResource, namespace: str | None, name: str | None = None
    ) -> Action:
        return cls(verb, resource.name, resource.group, namespace, name)

    def describe(self) -> str:
        what = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.name:
            what += f" {self.name}"
        if self.namespace:
            return f"{self.verb} {what} in namespace {self.namespace}"
        return f"{self.verb} {what} cluster-wide"


class Cluster:
    """A connection to one cluster: discovery and read-only JSON requests.

    Build one with :func:`connect`; close it (or use it as a context manager) to
    release its connections.
    """

    def __init__(
        self,
        api_client: Any,
        *,
        context: str | None,
        server: str,
        timeout: float | None,
    ) -> None:
        self.api_client = api_client
        self.context = context
        self.server = server
        self.timeout = timeout
        self._groups: dict[str, list[str]] | None = None
        self._resources: dict[tuple[str, str], list[ApiResource]] = {}

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Release the client's connection pool."""
        self.api_client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests

    def get_json(
        self,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        *,
        accept: str = JSON,
        action: Action | None = None,
    ) -> dict[str, Any]:
        """GET ``path`` and return the decoded JSON object.

        Raises :class:`ClusterError` for every failure; a 404 raises
        :class:`NotFound` (a ClusterError) so callers may treat absence as an answer.
        """
        return self._json(
            self._call("GET", path, query, accept, action or Action("get", path)), path
        )

    def get_text(
        self, path: str, query: Sequence[tuple[str, str]] = (), *, action: Action | None = None
    ) -> str:
        """GET ``path`` as text (a pod's log); failures as :meth:`get_json`."""
        body = self._call("GET", path, query, "text/plain, */*", action or Action("get", path))
        return body.decode("utf-8", "replace")

    def merge_patch(
        self,
        resource: ApiResource,
        name: str,
        namespace: str | None,
        patch: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Apply a JSON merge patch (RFC 7386) to one object; returns the patched object.

        Used only to set annotations (``reconcile.fluxcd.io/requestedAt``); a 404
        raises :class:`NotFound`, a 403 names the ``patch`` verb to grant.
        """
        ns = namespace if resource.namespaced else None
        path = resource.path(ns, name)
        body = self._call(
            "PATCH",
            path,
            (),
            JSON,
            Action.on("patch", resource, ns, name),
            body=dict(patch),
            content_type="application/merge-patch+json",
        )
        return self._json(body, path)

    def _call(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        accept: str,
        action: Action,
        *,
        body: Mapping[str, Any] | None = None,
        content_type: str | None = None,
    ) -> bytes:
        """One request through the kubernetes client; the body of a 2xx answer."""
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            request = self.api_client.param_serialize(
                method,
                path,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.api_client.call_api(*request, _request_timeout=self.timeout)
            try:
                data = response.read()
            finally:
                _release(response)
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(exc, f"{method} {path}") from None
        except ClusterError:
            raise
        except Exception as exc:  # the client wraps TLS failures and auth plugins' errors
            raise ClusterError(
                f"request to {self.server} failed ({path}): {first_line(exc)}"
            ) from None
        status = int(response.status)
        if 200 <= status < 300:
            return bytes(data or b"")
        raise self._status_error(status, data, path, action)

    def _json(self, body: bytes, path: str) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            raise ClusterError(
                f"the cluster at {self.server} answered {path} with something other than JSON"
            ) from None
        if not isinstance(data, dict):
            raise ClusterError(f"the cluster at {self.server} answered {path} oddly")
        return data

    def groups(self) -> dict[str, list[str]]:
        """Every API group the cluster serves and its versions, the preferred one first.

        The core group is ``""``.
        """
        if self._groups is None:
            found: dict[str, list[str]] = {}
            core = self.get_json("/api", action=Action("get", "/api"))
            found[""] = [v for v in core.get("versions", ()) if isinstance(v, str)]
            listing = self.get_json("/apis", action=Action("get", "/apis"))
            for group in listing.get("groups", ()):
                if not isinstance(group, Mapping) or not isinstance(group.get("name"), str):
                    continue
                versions = [
                    v["version"]
                    for v in group.get("versions", ())
                    if isinstance(v, Mapping) and isinstance(v.get("version"), str)
                ]
                preferred = group.get("preferredVersion")
                if isinstance(preferred, Mapping) and preferred.get("version") in versions:
                    versions.remove(preferred["version"])
                    versions.insert(0, preferred["version"])
                found[group["name"]] = versions
            self._groups = found
        return self._groups

    def resources(self, group: str, version: str) -> list[ApiResource]:
        """The resources of one group version (subresources left out)."""
        key = (group, version)
        if key not in self._resources:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            listing = self.get_json(path, action=Action("get", path))
            found = []
            for item in listing.get("resources", ()):
                if not isinstance(item, Mapping):
                    continue
                name, kind = item.get("name"), item.get("kind")
                if not isinstance(name, str) or not isinstance(kind, str) or "/" in name:
                    continue
                verbs = tuple(v for v in item.get("verbs", ()) if isinstance(v, str))
                found.append(
                    ApiResource(group, version, name, kind, item.get("namespaced") is True, verbs)
                )
            self._resources[key] = found
        return self._resources[key]

    def find_resource(self, group: str, kind: str) -> ApiResource | None:
        """The resource serving ``kind`` in ``group``, preferred version first, or None."""
        for version in self.groups().get(group, ()):
            for resource in self.resources(group, version):
                if resource.kind == kind:
                    return resource
        return None

    def resource(self, group: str, kind: str, plural: str | None = None) -> ApiResource:
        """Like :meth:`find_resource`, but a missing API is a :class:`ClusterError`.

        The message says which product is not installed (Flux, the Infisical
        operator) and which CustomResourceDefinition is missing.
        """
        found = self.find_resource(group, kind)
        if found is not None:
            return found
        product = PRODUCTS.get(group)
        crd = f"{plural or kind.lower() + 's'}.{group}"
        who = f"{product} is not installed" if product else f"{kind} is not available"
        served = (
            f"serves no API group {group}"
            if group not in self.groups()
            else f"serves no {kind} in API group {group}"
        )
        raise ClusterError(
            f"{who} on {self._where()}: it {served} (CustomResourceDefinition {crd} is missing)"
        )

    def list_objects(
        self,
        resource: ApiResource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        metadata_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Every object of ``resource`` (in ``namespace``; cluster-wide when None).

        With ``metadata_only`` the server sends ``PartialObjectMetadata``: names,
        labels, annotations, never ``data``.  Should a server ignore that and send
        whole objects anyway, everything but ``metadata`` is dropped on arrival.
        Every object carries ``apiVersion`` and ``kind`` (lists of built-in kinds leave
        them out; they are filled in).  Pages through long lists.
        """
        path = resource.path(namespace)
        action = Action.on("list", resource, namespace if resource.namespaced else None)
        query: list[tuple[str, str]] = [("limit", str(PAGE_SIZE))]
        if label_selector:
            query.append(("labelSelector", label_selector))
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page_query = [*query, ("continue", token)] if token else query
            page = self.get_json(
                path, page_query, accept=METADATA_LIST if metadata_only else JSON, action=action
            )
            for item in page.get("items") or ():
                if not isinstance(item, dict):
                    continue
                if metadata_only:
                    items.append(_metadata_only(item))
                else:  # items of built-in lists come without apiVersion and kind
                    item.setdefault("apiVersion", resource.api_version)
                    item.setdefault("kind", resource.kind)
                    items.append(item)
            meta = page.get("metadata")
            token = meta.get("continue") if isinstance(meta, Mapping) else None
            if not token:
                return items

    def get(
        self,
        resource: ApiResource,
        name: str,
        namespace: str | None = None,
        *,
        metadata_only: bool = False,
    ) -> dict[str, Any] | None:
        """One object, or None when it does not exist (404 NotFound)."""
        ns = namespace if resource.namespaced else None
        try:
            item = self.get_json(
                resource.path(ns, name),
                accept=METADATA if metadata_only else JSON,
                action=Action.on("get", resource, ns, name),
            )
        except NotFound:
            return None
        return _metadata_only(item) if metadata_only else item

    def listable_resources(self) -> list[ApiResource]:
        """Every resource of every group's preferred version that can be listed.

        Events are left out: they are not declared in git and there are many.
        """
        out: list[ApiResource] = []
        for group, versions in self.groups().items():
            if not versions or group in ("events.k8s.io", "metrics.k8s.io"):
                continue
            for resource in self.resources(group, versions[0]):
                if "list" in resource.verbs and resource.kind != "Event":
                    out.append(resource)
        return out

    # ------------------------------------------------------------------ errors

    def _where(self) -> str:
        where = f"the cluster at {self.server}"
        return f"{where} (context {self.context})" if self.context else where

    def _transport_error(self, exc: Exception, path: str) -> ClusterError:
        reason: Any = exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            reason = exc.reason
        text = first_line(reason)
        # NewConnectionError subclasses ConnectTimeoutError: look at it first.
        if isinstance(reason, urllib3.exceptions.NewConnectionError) or "refused" in text:
            if "refused" in text.lower():
                detail = "connection refused"
            elif isinstance(reason, urllib3.exceptions.NameResolutionError):
                detail = "its host name does not resolve"
            else:
                detail = text.rpartition("new connection: ")[2]
            return ClusterError(f"cannot connect to {self._where()}: {detail}")
        if isinstance(reason, urllib3.exceptions.TimeoutError):
            limit = f"{self.timeout:g}s" if self.timeout else "the time allowed"
            return ClusterError(
                f"{self._where()} did not answer within {limit} ({path}); check the "
                "network or raise --request-timeout"
            )
        if isinstance(reason, urllib3.exceptions.SSLError):
            return ClusterError(f"TLS with {self._where()} failed: {text}")
        return ClusterError(f"cannot talk to {self._where()}: {text}")

    def _status_error(self, status: int, body: bytes, path: str, action: Action) -> ClusterError:
        details = _status(body)
        message = str(details.get("message") or "").strip()
        if status == 401:
            return ClusterError(
                f"{self._where()} rejected the credentials (401 Unauthorized); log in again "
                "or refresh the token in the kubeconfig"
            )
        if status == 403:
            user = _USER.search(message)
            who = f'user "{user.group(1)}"' if user else "these credentials"
            info = details.get("details")
            info = info if isinstance(info, Mapping) else {}
            resource = str(
                action.resource
                if "/" in action.resource  # a subresource: pods/log
                else info.get("kind") or action.resource or path
            )
            group = str(info.get("group") or action.group or "")
            scope = f'in namespace "{action.namespace}"' if action.namespace else "cluster-wide"
            return ClusterError(
                f"forbidden: {who} may not {action.verb} {resource}"
                f"{'.' + group if group else ''} {scope} (403); grant RBAC verb "
                f'"{action.verb}" on resource "{resource}" in API group "{group}" {scope}'
            )
        if status == 404:
            if details.get("reason") == "NotFound" and details.get("details"):
                return NotFound(message or f"{path} not found")
            return NotFound(f"{self._where()} serves no {path} (404): the API is not installed")
        reason = message or first_line(body.decode("utf-8", "replace")) or "no message"
        return ClusterError(f"{self._where()} answered {status} to {action.describe()}: {reason}")


class NotFound(ClusterError):
    """The API server answered 404: no such object, or no such API."""


# ---------------------------------------------------------------------- helpers


def first_line(value: object) -> str:
    """The first line of an error's text (its type's name when it has none)."""
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def _status(body: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) and data.get("kind") == "Status" else {}


def _metadata_only(item: Mapping[str, Any]) -> dict[str, Any]:
    meta = item.get("metadata")
    return {"metadata": dict(meta) if isinstance(meta, Mapping) else {}}


def _release(response: Any) -> None:
    raw = getattr(response, "response", None)
    release = getattr(raw, "release_conn", None)
    if callable(release):
        release()


def conditions(obj: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The ``status.conditions`` of an object, skipping malformed entries."""
    status = obj.get("status")
    found = status.get("conditions") if isinstance(status, Mapping) else None
    for condition in found or ():
        if isinstance(condition, Mapping) and isinstance(condition.get("type"), str):
            yield condition


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The condition of type ``kind``, or None."""
    return next((c for c in conditions(obj) if c.get("type") == kind), None)


def ready_state(obj: Mapping[str, Any]) -> tuple[bool | None, str | None, str | None]:
    """``(ready, reason, message)`` of an object's Ready condition.

    ``ready`` is None while the condition is Unknown, absent, or older than the
    object's generation (the controller has not looked at the latest spec yet).
    """
    found = condition(obj, "Ready")
    if found is None:
        return None, None, None
    ready = {"True": True, "False": False}.get(str(found.get("status")))
    reason, message = found.get("reason"), found.get("message")
    meta, status = obj.get("metadata"), obj.get("status")
    generation = meta.get("generation") if isinstance(meta, Mapping) else None
    observed = found.get("observedGeneration")
    if not isinstance(observed, int) and isinstance(status, Mapping):
        observed = status.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        why = f"generation {generation} is not reconciled yet (observed {observed})"
        return None, "Progressing", why
    return (
        ready,
        reason if isinstance(reason, str) and reason else None,
        message if isinstance(message, str) and message else None,
    )
