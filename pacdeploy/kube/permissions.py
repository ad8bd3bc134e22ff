"""Ask the API server, before changing anything, whether we may do all that a command needs."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

from pacdeploy.errors import PermissionDenied
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import resource


class Need(NamedTuple):
    verb: str
    group: str
    resource: str
    namespace: str | None = None
    subresource: str = ""

    @classmethod
    def on(
        cls, verb: str, kind: str, namespace: str | None = None, *, subresource: str = ""
    ) -> Need:
        found = resource(kind)
        return cls(verb, found.group, found.plural, namespace, subresource)

    def __str__(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.subresource:
            resource += f"/{self.subresource}"
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {resource} {where}"


# No namespace can have this name (not a DNS label), so it holds no RoleBindings: its rules
# review lists only what ClusterRoleBindings grant, which is what decides a cluster-scoped
# request.
CLUSTER_SCOPE = "-cluster-scope-"


def _matches(values: list[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rules_allow(rules: list[dict[str, Any]], need: Need) -> bool:
    """Whether RBAC rules (a rules review's resourceRules) grant ``need`` on any name."""
    wanted = f"{need.resource}/{need.subresource}" if need.subresource else need.resource
    for rule in rules:
        if rule.get("resourceNames"):
            continue  # only some names: not enough to promise the request succeeds
        resources = rule.get("resources", [])
        if (
            _matches(rule.get("verbs", []), need.verb)
            and _matches(rule.get("apiGroups", []), need.group)
            and (
                _matches(resources, wanted)
                or (need.subresource and f"*/{need.subresource}" in resources)
            )
        ):
            return True
    return False


def _review(cluster: Cluster, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Ask the authorizer about ourselves; the review's status."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}
    status: dict[str, Any] = cluster.request("POST", resource(kind).path(), body=body).get(
        "status", {}
    )
    return status


def _rules(cluster: Cluster, namespace: str) -> list[dict[str, Any]] | None:
    """The caller's rules in ``namespace``, or None where the review is incomplete."""
    status = _review(cluster, "SelfSubjectRulesReview", {"namespace": namespace})
    return None if status.get("incomplete") else status.get("resourceRules", [])


def allowed(cluster: Cluster, need: Need) -> bool:
    """The authoritative answer for one need: a SelfSubjectAccessReview."""
    attributes = {
        "verb": need.verb,
        "group": need.group,
        "resource": need.resource,
        "subresource": need.subresource or None,
        "namespace": need.namespace,
    }
    spec = {"resourceAttributes": {k: v for k, v in attributes.items() if v}}
    return bool(_review(cluster, "SelfSubjectAccessReview", spec).get("allowed"))


Rules = dict[str, list[dict[str, Any]] | None]  # scope -> rules (None: incomplete review)


def rules_for(cluster: Cluster, namespaces: list[str | None]) -> Rules:
    """The caller's RBAC rules for each namespace (None: cluster scope), asked in parallel.
    A command that knows early it will write asks this beside its reads, saving a round trip.
    """
    scopes = sorted({ns or CLUSTER_SCOPE for ns in namespaces})
    return dict(zip(scopes, fanout.each(lambda ns: _rules(cluster, ns), scopes), strict=True))


def require(
    cluster: Cluster, needs: AbstractSet[Need], action: str, *, rules: Rules | None = None
) -> None:
    """PermissionDenied naming every missing (verb, resource, namespace), or nothing.

    One rules review per namespace (and one for cluster scope) answers most needs in a
    request or two (``rules`` may hold some, asked earlier); what the rules do not grant,
    or an incomplete review (a webhook authorizer), is asked again one access review each,
    which is authoritative.
    """
    ordered = sorted(needs)
    known = dict(rules or {})
    missing_scopes = {n.namespace for n in ordered if (n.namespace or CLUSTER_SCOPE) not in known}
    known.update(rules_for(cluster, list(missing_scopes)) if missing_scopes else {})
    unsure = [
        need
        for need in ordered
        if (granted := known[need.namespace or CLUSTER_SCOPE]) is None
        or not rules_allow(granted, need)
    ]
    verdicts = fanout.each(lambda need: allowed(cluster, need), unsure)
    missing = [str(need) for need, ok in zip(unsure, verdicts, strict=True) if not ok]
    if missing:
        raise PermissionDenied(
            f"context {cluster.context!r} may not {action}: missing permission to "
            + "; ".join(missing),
            "Nothing was changed. Ask an admin to bind the pacdeploy ClusterRole from the README",
        )
