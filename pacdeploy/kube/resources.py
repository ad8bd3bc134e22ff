"""Every kind pacdeploy touches, with its API group, version, plural and scope.

A fixed registry instead of discovery: no round trips before the first real request. Each
URL path is built here (lightkube's generic_client does the same), and a unit test checks
the registry against the manifests so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

FIELD_MANAGER = "pacdeploy"
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"  # a CRD: served only where it is installed


class Resource(NamedTuple):
    kind: str
    api_version: str  # "v1" for the core group, else "group/version"
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        """The API group as RBAC names it ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    def path(
        self, name: str | None = None, namespace: str | None = None, subresource: str = ""
    ) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        path = f"{base}/{self.plural}"
        if name:
            path += f"/{name}"
        return f"{path}/{subresource}" if subresource else path


REGISTRY: dict[str, Resource] = {
    r.kind: r
    for r in (
        Resource("Namespace", "v1", "namespaces", namespaced=False),
        Resource("Node", "v1", "nodes", namespaced=False),
        Resource("PersistentVolume", "v1", "persistentvolumes", namespaced=False),
        Resource("ServiceAccount", "v1", "serviceaccounts", namespaced=True),
        Resource("Secret", "v1", "secrets", namespaced=True),
        Resource("ConfigMap", "v1", "configmaps", namespaced=True),
        Resource("Service", "v1", "services", namespaced=True),
        Resource("PersistentVolumeClaim", "v1", "persistentvolumeclaims", namespaced=True),
        Resource("Pod", "v1", "pods", namespaced=True),
        Resource("Event", "v1", "events", namespaced=True),
        Resource("StatefulSet", "apps/v1", "statefulsets", namespaced=True),
        Resource("Deployment", "apps/v1", "deployments", namespaced=True),
        Resource("StorageClass", "storage.k8s.io/v1", "storageclasses", namespaced=False),
        Resource("CSIDriver", "storage.k8s.io/v1", "csidrivers", namespaced=False),
        Resource("VolumeSnapshot", SNAPSHOT_API, "volumesnapshots", namespaced=True),
        Resource("VolumeSnapshotContent", SNAPSHOT_API, "volumesnapshotcontents", False),
        Resource("VolumeSnapshotClass", SNAPSHOT_API, "volumesnapshotclasses", False),
        Resource("Ingress", "networking.k8s.io/v1", "ingresses", namespaced=True),
        Resource("IngressClass", "networking.k8s.io/v1", "ingressclasses", namespaced=False),
        Resource("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", namespaced=True),
        Resource("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", False),
        Resource(
            "ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", False
        ),
        Resource("Role", "rbac.authorization.k8s.io/v1", "roles", namespaced=True),
        Resource("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", namespaced=True),
        Resource(
            "SelfSubjectAccessReview",
            "authorization.k8s.io/v1",
            "selfsubjectaccessreviews",
            namespaced=False,
        ),
        Resource(
            "SelfSubjectRulesReview",
            "authorization.k8s.io/v1",
            "selfsubjectrulesreviews",
            namespaced=False,
        ),
        Resource(
            "CustomResourceDefinition",
            "apiextensions.k8s.io/v1",
            "customresourcedefinitions",
            namespaced=False,
        ),
        # KWOK's kinds, used by the sandbox and the tests that simulate failures.
        Resource("Stage", "kwok.x-k8s.io/v1alpha1", "stages", namespaced=False),
        Resource("Logs", "kwok.x-k8s.io/v1alpha1", "logs", namespaced=True),
        Resource("ClusterLogs", "kwok.x-k8s.io/v1alpha1", "clusterlogs", namespaced=False),
        Resource("ClusterPortForward", "kwok.x-k8s.io/v1alpha1", "clusterportforwards", False),
        Resource("ClusterExec", "kwok.x-k8s.io/v1alpha1", "clusterexecs", namespaced=False),
    )
}


def resource(kind: str) -> Resource:
    """The registry's entry; a kind missing from it is a bug in pacdeploy, not bad input."""
    try:
        return REGISTRY[kind]
    except KeyError:
        raise LookupError(f"kind {kind} is not in pacdeploy's resource registry") from None


def name_of(obj: Mapping[str, Any]) -> str:
    """An object's name, a plain dict's or a typed view's (bodies.py)."""
    return str(obj["metadata"]["name"])


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """An object's annotations ({} when it has none: the API server omits the field)."""
    found: dict[str, str] = obj.get("metadata", {}).get("annotations") or {}
    return found


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = obj.get("metadata", {}).get("labels") or {}
    return found


def ref(kind: str, name: str) -> str:
    """How kubectl names an object in its output: `deployment/pacman`."""
    return f"{kind.lower()}/{name}"


def ref_of(obj: Mapping[str, Any]) -> str:
    return ref(obj["kind"], name_of(obj))


def path_of(obj: dict[str, Any], subresource: str = "") -> str:
    """The URL of an object given whole (kind, name and, if namespaced, namespace)."""
    meta = obj["metadata"]
    return resource(obj["kind"]).path(meta["name"], meta.get("namespace"), subresource)


def holds(live: dict[str, Any], sent: dict[str, Any]) -> bool:
    """``live`` carries everything of ``sent`` (its labels, annotations and every other
    field, the server's additions aside): the object a create of ``sent`` would have made."""
    meta = sent.get("metadata", {})
    return (
        _contains(labels_of(live), meta.get("labels") or {})
        and _contains(annotations_of(live), meta.get("annotations") or {})
        and all(
            _contains(live.get(key), value)
            for key, value in sent.items()
            if key not in ("metadata", "status")
        )
    )


def _contains(live: Any, sent: Any) -> bool:
    if isinstance(sent, dict):
        return isinstance(live, dict) and all(_contains(live.get(k), v) for k, v in sent.items())
    if isinstance(sent, list):
        return (
            isinstance(live, list)
            and len(live) == len(sent)
            and all(_contains(a, b) for a, b in zip(live, sent, strict=True))
        )
    return bool(live == sent)
