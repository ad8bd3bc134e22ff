"""Ask the API server, before changing anything, whether we may do all that a command needs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pacdeploy.errors import PermissionDenied
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import resource


@dataclass(frozen=True, order=True)
class Need:
    verb: str
    group: str
    resource: str
    namespace: str | None = None
    subresource: str = ""

    @classmethod
    def on(cls, verb: str, kind: str, namespace: str | None = None, subresource: str = "") -> Need:
        found = resource(kind)
        return cls(verb, found.group, found.plural, namespace, subresource)

    def __str__(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.subresource:
            resource += f"/{self.subresource}"
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {resource} {where}"


def _allowed(cluster: Cluster, need: Need) -> bool:
    attributes = {
        "verb": need.verb,
        "group": need.group,
        "resource": need.resource,
        "subresource": need.subresource or None,
        "namespace": need.namespace,
    }
    review = cluster.request(
        "POST",
        resource("SelfSubjectAccessReview").path(),
        body={
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {k: v for k, v in attributes.items() if v}},
        },
    )
    return bool(review.get("status", {}).get("allowed"))


def require(cluster: Cluster, needs: set[Need], action: str) -> None:
    """PermissionDenied naming every missing (verb, resource, namespace), or nothing."""
    ordered = sorted(needs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda need: _allowed(cluster, need), ordered))
    missing = [str(need) for need, ok in zip(ordered, verdicts, strict=True) if not ok]
    if missing:
        raise PermissionDenied(
            f"context {cluster.context!r} may not {action}: missing permission to "
            + "; ".join(missing),
            "Nothing was changed. Ask an admin to bind the pacdeploy ClusterRole from the README",
        )
