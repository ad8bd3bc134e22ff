"""Cluster access: kubeconfig loading the kubectl way, and one retrying REST call path.

Every request goes through :meth:`Cluster.request`, which retries what is worth retrying
(connection errors, 429 with Retry-After, 5xx) for a bounded time and turns everything else
into a :class:`~pacdeploy.errors.PacdeployError` with one line a user can act on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from pacdeploy.errors import (
    ClusterUnreachable,
    Conflict,
    InvalidInput,
    NotFound,
    PacdeployError,
    PermissionDenied,
)

FIELD_MANAGER = "pacdeploy"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Bounded so that a dead API server is reported in seconds, not minutes.
RETRY_SECONDS = float(os.environ.get("PACDEPLOY_API_RETRY_SECONDS", "20"))
REQUEST_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds

# kind -> (plural, namespaced) for every kind pacdeploy touches; no discovery round-trips.
KINDS: dict[str, tuple[str, bool]] = {
    "Namespace": ("namespaces", False),
    "Node": ("nodes", False),
    "PersistentVolume": ("persistentvolumes", False),
    "StorageClass": ("storageclasses", False),
    "IngressClass": ("ingressclasses", False),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "CSIDriver": ("csidrivers", False),
    "ClusterPortForward": ("clusterportforwards", False),
    "Stage": ("stages", False),
    "ClusterLogs": ("clusterlogs", False),
    "Logs": ("logs", True),
    "ServiceAccount": ("serviceaccounts", True),
    "Secret": ("secrets", True),
    "Service": ("services", True),
    "Endpoints": ("endpoints", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "Pod": ("pods", True),
    "Event": ("events", True),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "StatefulSet": ("statefulsets", True),
    "Deployment": ("deployments", True),
    "ReplicaSet": ("replicasets", True),
    "Ingress": ("ingresses", True),
}

API_VERSIONS: dict[str, str] = {
    "StatefulSet": "apps/v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StorageClass": "storage.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1",
    "IngressClass": "networking.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "CSIDriver": "storage.k8s.io/v1",
    "ClusterPortForward": "kwok.x-k8s.io/v1alpha1",
    "Stage": "kwok.x-k8s.io/v1alpha1",
    "ClusterLogs": "kwok.x-k8s.io/v1alpha1",
    "Logs": "kwok.x-k8s.io/v1alpha1",
}


def api_version_of(kind: str) -> str:
    return API_VERSIONS.get(kind, "v1")


def resource_of(kind: str) -> tuple[str, str]:
    """(API group, plural) of a kind, as RBAC names them."""
    group = api_version_of(kind).rpartition("/")[0]
    return group, KINDS[kind][0]


def object_path(kind: str, name: str | None = None, namespace: str | None = None) -> str:
    try:
        plural, namespaced = KINDS[kind]
    except KeyError:
        raise InvalidInput(f"pacdeploy does not manage objects of kind {kind}") from None
    api_version = api_version_of(kind)
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    path = f"{base}/{plural}"
    return f"{path}/{name}" if name else path


def kubeconfig_paths(explicit: str | None) -> list[Path]:
    """The files kubectl reads: --kubeconfig, else each entry of KUBECONFIG, else ~/.kube/config."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _status_message(exc: Any) -> str:
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


_BACKOFF = wait_exponential_jitter(multiplier=0.2, max=2.0)


def _retry_after(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value and str(value).isdigit():
        return min(float(value), 10.0)
    return _BACKOFF(state)


def _is_transient(exc: BaseException) -> bool:
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        return exc.status in RETRY_STATUSES or exc.status == 0
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return not isinstance(exc.reason, urllib3.exceptions.SSLError)
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError) and not isinstance(
        exc, urllib3.exceptions.SSLError
    )


@dataclass
class Cluster:
    """An authenticated connection to one API server."""

    api: Any  # kubernetes.client.ApiClient
    context: str
    server: str
    retry_seconds: float = RETRY_SECONDS

    # -- transport --------------------------------------------------------
    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """:meth:`send`, decoding the JSON body."""
        data = self.send(method, path, **options)
        return json.loads(data) if data else {}

    def send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> bytes:
        """One API call with bounded retries; returns the raw body."""
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        verb, url, headers, body, _ = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )

        def once() -> bytes:
            response = self.api.call_api(
                verb, url, header_params=headers, body=body, _request_timeout=timeout
            )
            data = response.read()
            if not 200 <= response.status <= 299:
                raise ApiException(http_resp=response, body=data.decode(errors="replace"))
            return data

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_delay(self.retry_seconds),
            wait=_retry_after,
            reraise=True,
        )
        try:
            return retrying(once)
        except PacdeployError:
            raise
        except Exception as exc:
            raise self._translate(exc, method, path) from None

    def _translate(self, exc: Exception, method: str, path: str) -> PacdeployError:
        from kubernetes.client.exceptions import ApiException

        if isinstance(exc, ApiException):
            message = _status_message(exc)
            if exc.status == 401:
                return PermissionDenied(
                    f"the API server at {self.server} rejected the credentials of context "
                    f"{self.context!r}",
                    "Refresh the credentials in your kubeconfig",
                )
            if exc.status == 403:
                return PermissionDenied(message, "Ask a cluster admin for the RBAC in the README")
            if exc.status == 404:
                return NotFound(message)
            if exc.status == 409:
                return Conflict(message)
            if exc.status in (400, 422):
                return InvalidInput(message)
            if exc.status in RETRY_STATUSES:
                return ClusterUnreachable(
                    f"the API server kept failing ({exc.status} {exc.reason}) for "
                    f"{self.retry_seconds:.0f}s on {method} {path}",
                    "Check the control plane's health and retry",
                )
            return PacdeployError(f"{method} {path} failed: {exc.status} {message}")
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(
            exc, urllib3.exceptions.SSLError
        ):
            return ClusterUnreachable(
                f"TLS handshake with {self.server} failed ({_short(reason)})",
                "Check certificate-authority-data in your kubeconfig matches the cluster",
            )
        return ClusterUnreachable(
            f"cannot reach the API server at {self.server} (context {self.context!r}) "
            f"after retrying for {self.retry_seconds:.0f}s: {_short(reason)}",
            "Check the cluster is running and --context/--kubeconfig point at it",
        )

    # -- object helpers ---------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.request("GET", object_path(kind, name, namespace))
        except NotFound:
            return None

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        query = {"labelSelector": label_selector, "fieldSelector": field_selector}
        return self.request("GET", object_path(kind, namespace=namespace), query=query).get(
            "items", []
        )

    def apply(
        self, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False
    ) -> dict[str, Any]:
        """Server-side apply: idempotent, and a no-op leaves resourceVersion untouched."""
        meta = obj["metadata"]
        return self.request(
            "PATCH",
            object_path(obj["kind"], meta["name"], meta.get("namespace")),
            query={
                "fieldManager": FIELD_MANAGER,
                "force": "true" if force else None,
                "dryRun": "All" if dry_run else None,
            },
            body=obj,
            content_type="application/apply-patch+yaml",
        )

    def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        meta = obj["metadata"]
        return self.request(
            "POST",
            object_path(obj["kind"], namespace=meta.get("namespace")),
            query={"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None},
            body=obj,
        )

    def replace(self, obj: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """PUT ``obj`` over ``current``, keeping what the API server allocated (Service IPs)."""
        body = {
            **obj,
            "metadata": {
                **obj["metadata"],
                "resourceVersion": current["metadata"]["resourceVersion"],
            },
        }
        if obj["kind"] == "Service":
            allocated = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")
            body["spec"] = {
                **obj["spec"],
                **{k: current["spec"][k] for k in allocated if k in current["spec"]},
            }
        meta = obj["metadata"]
        return self.request(
            "PUT",
            object_path(obj["kind"], meta["name"], meta.get("namespace")),
            query={"fieldManager": FIELD_MANAGER},
            body=body,
        )

    def merge_patch(
        self, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None
    ) -> dict[str, Any]:
        return self.request(
            "PATCH",
            object_path(kind, name, namespace),
            query={"fieldManager": FIELD_MANAGER},
            body=patch,
            content_type="application/merge-patch+json",
        )

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete in the background like kubectl; False if it was already gone."""
        try:
            self.request(
                "DELETE",
                object_path(kind, name, namespace),
                body={"propagationPolicy": "Background"},
            )
        except NotFound:
            return False
        return True


def _short(reason: object) -> str:
    text = str(reason)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker.lower()
    return text.split(": ", 1)[-1][:160]


def _check_kubeconfig_file(path: Path) -> None:
    """Readable YAML holding a mapping, or one line saying which of those it is not."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ClusterUnreachable(
            f"kubeconfig {path} cannot be read: {exc.strerror}", "Fix its permissions (chmod 600)"
        ) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ClusterUnreachable(
            f"kubeconfig {path} is not valid YAML{line}", "Fix or regenerate the file"
        ) from None
    if document is not None and not isinstance(document, dict):
        raise ClusterUnreachable(
            f"{path} is not a kubeconfig (no clusters, users or contexts in it)",
            "Pass --kubeconfig with a kubeconfig file",
        )


def connect(kubeconfig: str | None = None, context: str | None = None) -> Cluster:
    """Load credentials like kubectl (--kubeconfig, KUBECONFIG, ~/.kube/config; --context)."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    paths = kubeconfig_paths(kubeconfig)
    existing = [p for p in paths if p.is_file()]
    if not existing:
        where = ", ".join(str(p) for p in paths)
        raise ClusterUnreachable(
            f"no kubeconfig found at {where}",
            "Pass --kubeconfig, set KUBECONFIG, or run `pacdeploy sandbox up` for a local cluster",
        )
    for path in existing:
        _check_kubeconfig_file(path)
    config_file = os.pathsep.join(str(p) for p in existing)
    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)
    except (ConfigException, ValueError, TypeError) as exc:
        raise ClusterUnreachable(
            f"cannot read kubeconfig {config_file}: {exc}", "Check the file is valid YAML"
        ) from None
    names = [c["name"] for c in contexts or []]
    chosen = context or (current or {}).get("name")
    if not chosen:
        raise ClusterUnreachable(
            f"kubeconfig {config_file} has no current context",
            f"Pass --context (one of: {', '.join(names) or 'none'})",
        )
    if chosen not in names:
        raise ClusterUnreachable(
            f"context {chosen!r} is not in kubeconfig {config_file}",
            f"Use one of: {', '.join(names) or 'none'}",
        )
    try:
        api = config.new_client_from_config(
            config_file=config_file, context=chosen, persist_config=False
        )
    except (ConfigException, ValueError, TypeError, OSError) as exc:
        raise ClusterUnreachable(
            f"cannot load context {chosen!r} from {config_file}: {exc}",
            "Check its cluster and user entries",
        ) from None
    return Cluster(api=api, context=chosen, server=api.configuration.host)
