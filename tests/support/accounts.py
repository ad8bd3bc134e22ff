"""Real identities for tests: ServiceAccounts bound to a ClusterRole, their tokens from the
TokenRequest API (optionally bound to a Secret, so deleting it revokes them), and the
admin's own cluster and user entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def operator_rules() -> list[dict[str, Any]]:
    """The documented least-privilege role (rbac/pacdeploy-operator.yaml)."""
    return yaml.safe_load((ROOT / "rbac/pacdeploy-operator.yaml").read_text())["rules"]


def admin_entries(target: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cluster entry (server, CA) and user entry of the test's own context."""
    config = yaml.safe_load(target.kubeconfig.read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == target.context)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    return cluster, user


@dataclass
class Account:
    namespace: str
    name: str
    cleanup: list[tuple[str, str]] = field(default_factory=list)

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def service_account(cluster: Any, rules: list[dict[str, Any]], name: str) -> Account:
    """A fresh ServiceAccount in a namespace of its own, bound to a ClusterRole of ``rules``.
    ``Account.cleanup`` lists what to delete afterwards."""
    home = f"pd-rbac-{uuid.uuid4().hex[:6]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": home}})
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": home},
        }
    )
    role = f"{home}-{name}"
    rbac = "rbac.authorization.k8s.io"
    cluster.create(
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role},
            "rules": rules,
        }
    )
    cluster.create(
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": home}],
        }
    )
    cleanup = [("Namespace", home), ("ClusterRole", role), ("ClusterRoleBinding", role)]
    return Account(home, name, cleanup)


def secret(cluster: Any, account: Account, name: str) -> dict[str, Any]:
    """A Secret in the account's namespace for tokens to be bound to."""
    return cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": account.namespace},
        }
    )


def token(cluster: Any, account: Account, bound_to: dict[str, Any] | None = None) -> str:
    """A token from the TokenRequest API; bound to the Secret ``bound_to`` if given."""
    spec: dict[str, Any] = {"expirationSeconds": 3600}
    if bound_to is not None:
        meta = bound_to["metadata"]
        spec["boundObjectRef"] = {
            "kind": "Secret",
            "apiVersion": "v1",
            "name": meta["name"],
            "uid": meta["uid"],
        }
    return cluster.request(
        "POST",
        f"/api/v1/namespaces/{account.namespace}/serviceaccounts/{account.name}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
    )["status"]["token"]
