"""Put MongoDB's volumes back to a backup, or back to what they held before a restore.

A StatefulSet's claims are named by its template (`mongo-db-mongo-0`), so a restore
replaces each claim by a new one of the same name: provisioned from the backup's snapshot,
or (`--undo`) bound again to the volume it replaced. The volume being replaced is switched
to reclaimPolicy Retain first and labelled with the claim it held; it is released (its
policy put back) only once mongo is Ready on the restored data. A restore that fails at
any step has lost nothing, and says the one command that goes back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pacdeploy import backups, permissions, waiting
from pacdeploy.errors import NotFound, PacdeployError
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref
from pacdeploy.manifests import STATEFULSET
from pacdeploy.output import Output
from pacdeploy.permissions import Need

REPLACED_CLAIM = "pacdeploy.io/replaced-claim"  # label: the claim a kept volume held
REPLACED_NAMESPACE = "pacdeploy.io/replaced-namespace"
REPLACED_AT = "pacdeploy.io/replaced-at"  # annotation: when (the oldest is the original)
RECLAIM_POLICY = "pacdeploy.io/reclaim-policy"  # annotation: the policy to put back
RESTORED_FROM = "pacdeploy.io/restored-from"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
MONGO_PODS = f"name={STATEFULSET}"


@dataclass
class Swap:
    """One claim replaced: what holds it now, and the claim that takes its place."""

    claim: str
    current: dict[str, Any] | None  # the claim as it is (None: already gone)
    keep: dict[str, Any] | None  # its volume, kept until the restore is confirmed
    replacement: dict[str, Any] | None  # None: the claim already holds the wanted volume
    reuse: dict[str, Any] | None = None  # --undo: the kept volume to bind again


@dataclass
class RestorePlan:
    namespace: str
    source: str  # "backup b1" or "the volumes kept by the last restore"
    replicas: int
    swaps: list[Swap] = field(default_factory=list)

    @property
    def kept(self) -> list[str]:
        """Every volume holding data from before, kept while the restore runs."""
        names = [s.keep["metadata"]["name"] for s in self.swaps if s.keep]
        names += [s.reuse["metadata"]["name"] for s in self.swaps if s.reuse]
        return sorted(set(names))


def claim_like(template: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    """A new claim with ``template``'s class, size, modes and labels (and nothing it was
    bound to)."""
    spec = template["spec"]
    kept = ("accessModes", "resources", "storageClassName", "volumeMode")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": copy.deepcopy(template["metadata"].get("labels") or {}),
            "annotations": {},
        },
        "spec": {k: copy.deepcopy(spec[k]) for k in kept if spec.get(k) is not None},
    }


def from_snapshot(
    template: dict[str, Any], name: str, ns: str, snapshot: str, backup: str
) -> dict[str, Any]:
    claim = claim_like(template, name, ns)
    claim["spec"]["dataSource"] = {
        "apiGroup": SNAPSHOT_GROUP,
        "kind": "VolumeSnapshot",
        "name": snapshot,
    }
    claim["metadata"]["annotations"][RESTORED_FROM] = f"backup {backup}"
    return claim


def on_volume(
    template: dict[str, Any], name: str, ns: str, volume: dict[str, Any]
) -> dict[str, Any]:
    claim = claim_like(template, name, ns)
    claim["spec"]["volumeName"] = volume["metadata"]["name"]
    claim["spec"]["storageClassName"] = volume["spec"].get("storageClassName", "")
    claim["metadata"]["annotations"][RESTORED_FROM] = f"volume {volume['metadata']['name']}"
    return claim


def keep_patch(volume: dict[str, Any], namespace: str, claim: str, now: str) -> dict[str, Any]:
    """Retain ``volume`` and say whose it was; a volume kept before keeps its first record."""
    meta = volume["metadata"]
    annotations = meta.get("annotations") or {}
    return {
        "metadata": {
            "labels": {REPLACED_CLAIM: claim, REPLACED_NAMESPACE: namespace},
            "annotations": {
                RECLAIM_POLICY: annotations.get(
                    RECLAIM_POLICY, volume["spec"].get("persistentVolumeReclaimPolicy", "Delete")
                ),
                REPLACED_AT: annotations.get(REPLACED_AT, now),
            },
        },
        "spec": {"persistentVolumeReclaimPolicy": "Retain"},
    }


def release_patch(volume: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`keep_patch`: the policy it had, no labels (a Delete volume then goes)."""
    policy = (volume["metadata"].get("annotations") or {}).get(RECLAIM_POLICY, "Delete")
    return {
        "metadata": {
            "labels": {REPLACED_CLAIM: None, REPLACED_NAMESPACE: None},
            "annotations": {RECLAIM_POLICY: None, REPLACED_AT: None},
        },
        "spec": {"persistentVolumeReclaimPolicy": policy},
    }


def kept_volumes(volumes: list[dict[str, Any]], namespace: str) -> dict[str, dict[str, Any]]:
    """claim -> the oldest volume a restore kept for it (the data from before any restore)."""
    found: dict[str, dict[str, Any]] = {}
    for pv in volumes:
        labels = pv["metadata"].get("labels") or {}
        if labels.get(REPLACED_NAMESPACE) != namespace or REPLACED_CLAIM not in labels:
            continue
        claim = labels[REPLACED_CLAIM]
        when = (pv["metadata"].get("annotations") or {}).get(REPLACED_AT, "")
        older = found.get(claim)
        if older is None or when < (older["metadata"].get("annotations") or {}).get(
            REPLACED_AT, ""
        ):
            found[claim] = pv
    return found


def way_back(plan: RestorePlan) -> str:
    return (
        f"The data from before is kept on {', '.join(plan.kept) or 'no volume'} "
        f"(reclaimPolicy Retain). To go back: `pacdeploy restore --undo --yes -n {plan.namespace}`"
    )


# -- the cluster ---------------------------------------------------------------------
def _read(
    cluster: Cluster, namespace: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    statefulset = waiting.require(cluster, "StatefulSet", STATEFULSET, namespace)
    claims = {
        c["metadata"]["name"]: c
        for c in backups.mongo_claims(cluster.list("PersistentVolumeClaim", namespace))
    }
    return statefulset, claims, cluster.list("PersistentVolume")


def _replicas(statefulset: dict[str, Any]) -> int:
    """What mongo is scaled back to: what it runs now."""
    return int(statefulset["spec"].get("replicas", 1))


def _template(statefulset: dict[str, Any], claims: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a new claim is made like: an existing claim, else the StatefulSet's template."""
    if claims:
        return next(iter(claims.values()))
    return statefulset["spec"]["volumeClaimTemplates"][0]


def _bound_volume(
    claim: dict[str, Any] | None, volumes: list[dict[str, Any]]
) -> dict[str, Any] | None:
    name = (claim or {}).get("spec", {}).get("volumeName")
    return next((v for v in volumes if v["metadata"]["name"] == name), None) if name else None


def plan_from_backup(cluster: Cluster, namespace: str, name: str) -> RestorePlan:
    backup, taken = backups.require(cluster, namespace, name)
    statefulset, claims, volumes = _read(cluster, namespace)
    snapshots = {
        (s["metadata"].get("labels") or {}).get(backups.CLAIM_LABEL): s["metadata"]["name"]
        for s in taken
    }
    template = _template(statefulset, claims)
    plan = RestorePlan(namespace, f"backup {backup.name}", _replicas(statefulset))
    for claim_name, snapshot in sorted(snapshots.items()):
        current = claims.get(claim_name)
        plan.swaps.append(
            Swap(
                claim_name,
                current,
                _bound_volume(current, volumes),
                from_snapshot(template, claim_name, namespace, snapshot, backup.name),
            )
        )
    return plan


def plan_undo(cluster: Cluster, namespace: str) -> RestorePlan:
    statefulset, claims, volumes = _read(cluster, namespace)
    kept = kept_volumes(volumes, namespace)
    if not kept:
        raise NotFound(
            f"no volume kept by a restore in namespace {namespace}: nothing to go back to",
            f"See `pacdeploy backup list -n {namespace}` to restore a backup instead",
        )
    template = _template(statefulset, claims)
    plan = RestorePlan(namespace, "the volumes kept by the last restore", _replicas(statefulset))
    for claim_name, volume in sorted(kept.items()):
        current = claims.get(claim_name)
        holds_it = (
            current is not None and current["spec"].get("volumeName") == volume["metadata"]["name"]
        )
        bound = _bound_volume(current, volumes)
        plan.swaps.append(
            Swap(
                claim_name,
                current,
                None if holds_it or bound is volume else bound,
                None if holds_it else on_volume(template, claim_name, namespace, volume),
                reuse=volume,
            )
        )
    return plan


def _scale(cluster: Cluster, namespace: str, replicas: int, report: Callable[[str], None]) -> None:
    patch = {"spec": {"replicas": replicas}}
    cluster.merge_patch("StatefulSet", STATEFULSET, patch, namespace, subresource="scale")
    report(f"scaled {ref('StatefulSet', STATEFULSET)} to {replicas}")


def _needs(namespace: str) -> set[Need]:
    return {
        Need.on("patch", "StatefulSet", namespace, "scale"),
        Need.on("patch", "PersistentVolume"),
        Need.on("delete", "PersistentVolumeClaim", namespace),
        Need.on("create", "PersistentVolumeClaim", namespace),
        Need.on("list", "Pod", namespace),
    }


def restore(
    cluster: Cluster,
    plan: RestorePlan,
    *,
    timeout: float,
    out: Output,
    confirm: Callable[[str], None],
) -> None:
    """Carry out ``plan``; on any failure after the first change, say how to go back."""
    ns = plan.namespace
    permissions.require(cluster, _needs(ns), "restore mongo's volumes")
    confirm(
        f"Restore mongo in namespace {ns} from {plan.source}? MongoDB stops while its "
        f"volumes are swapped; the current data is kept on {', '.join(plan.kept) or 'no volume'} "
        "until mongo is Ready"
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # One live display at a time: each wait below shows its own, so the steps come in turns.
    try:
        with out.steps(f"restoring mongo from {plan.source}") as report:
            for swap in plan.swaps:
                for volume in (swap.keep, swap.reuse):
                    if volume is not None:
                        cluster.merge_patch(
                            "PersistentVolume",
                            volume["metadata"]["name"],
                            keep_patch(volume, ns, swap.claim, now),
                        )
            if plan.kept:
                report(f"kept {', '.join(plan.kept)} (reclaimPolicy Retain)")
            _scale(cluster, ns, 0, report)
            waiting.wait_pods_gone(cluster, ns, MONGO_PODS, timeout)
        for swap in plan.swaps:
            if swap.replacement is None:
                continue
            if swap.current is not None:
                cluster.delete("PersistentVolumeClaim", swap.claim, ns)
                waiting.wait_gone(cluster, "PersistentVolumeClaim", swap.claim, timeout, out, ns)
            if swap.reuse is not None:  # a Released volume binds again once unclaimed
                cluster.merge_patch(
                    "PersistentVolume", swap.reuse["metadata"]["name"], {"spec": {"claimRef": None}}
                )
            cluster.create(swap.replacement)
            origin = swap.replacement["metadata"]["annotations"][RESTORED_FROM]
            out.info(f"{ref('PersistentVolumeClaim', swap.claim)} recreated from {origin}")
        with out.steps(f"restoring mongo from {plan.source}") as report:
            _scale(cluster, ns, plan.replicas, report)
        waiting.wait_ready(cluster, ns, [("StatefulSet", STATEFULSET)], timeout, out)
    except PacdeployError as exc:
        raise type(exc)(f"restore failed: {exc.problem}", way_back(plan)) from exc
    except KeyboardInterrupt:
        out.error(f"restore interrupted. {way_back(plan)}")
        raise
    # mongo is Ready on the restored data: what was kept may go as its policy says.
    for volume in {
        v["metadata"]["name"]: v for s in plan.swaps for v in (s.keep, s.reuse) if v
    }.values():
        current = cluster.get("PersistentVolume", volume["metadata"]["name"])
        if current is not None:
            cluster.merge_patch(
                "PersistentVolume", volume["metadata"]["name"], release_patch(current)
            )
