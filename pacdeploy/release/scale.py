"""`scale`: the web Deployment's replicas through its Scale subresource, then the rollout."""

from __future__ import annotations

from typing import Any

from pacdeploy.app import deployed
from pacdeploy.app.manifests import DEPLOYMENT, validate_replicas
from pacdeploy.kube import fanout, permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import ref
from pacdeploy.output import Output
from pacdeploy.release.change import Change
from pacdeploy.release.needs import for_wait
from pacdeploy.wait import rollout

_DEPLOYMENT_REF = ref("Deployment", DEPLOYMENT)


def scale(
    cluster: Cluster, namespace: str, replicas: int, *, timeout: float, out: Output
) -> Change:
    validate_replicas(replicas)
    needs = {
        Need.on("patch", "Deployment", namespace, subresource="scale"),
        *for_wait(namespace),
    }
    _, before = fanout.together(  # both before any change, in parallel
        lambda: permissions.require(cluster, needs, f"scale {_DEPLOYMENT_REF}"),
        lambda: deployed.get(cluster, "Deployment", DEPLOYMENT, namespace=namespace),
    )
    patch = {"spec": {"replicas": replicas}}
    scale = cluster.merge_patch(
        "Deployment", DEPLOYMENT, patch, namespace=namespace, subresource="scale"
    )
    written = as_scaled(before, scale)  # watched from there: no read between write and wait
    web = rollout.Workloads(namespace, [("Deployment", DEPLOYMENT)], {_DEPLOYMENT_REF: written})
    rollout.wait_ready(cluster, web, timeout=timeout, out=out)
    same = before["spec"].get("replicas") == replicas
    return Change(_DEPLOYMENT_REF, "unchanged" if same else "scaled")


def as_scaled(before: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """The Deployment ``before`` as a write to its Scale subresource (``scale``, as the
    server returned it) left it: a new count, version and, if the count changed, generation;
    its status is still the controller's last word."""
    replicas = scale["spec"].get("replicas", 0)
    meta = dict(before["metadata"], resourceVersion=scale["metadata"]["resourceVersion"])
    if replicas != before["spec"].get("replicas", 1):
        meta["generation"] = before["metadata"].get("generation", 1) + 1
    return {**before, "metadata": meta, "spec": {**before["spec"], "replicas": replicas}}
