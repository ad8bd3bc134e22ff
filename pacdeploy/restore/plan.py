"""Planning a restore: read only what is the app's, and decide (by rules.py)
each claim to replace, resuming a restore that was interrupted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pacdeploy.app import deployed
from pacdeploy.app.manifests import STATEFULSET
from pacdeploy.data import backups, consistency
from pacdeploy.data.backup_record import Backup
from pacdeploy.errors import NotFound, NotReady
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import labels_of, name_of
from pacdeploy.restore.intent import Intent, intent_of, last_of
from pacdeploy.restore.rules import (
    REPLACED_NAMESPACE,
    SAFETY_PREFIX,
    Asked,
    RestorePlan,
    Swap,
    choose,
    from_snapshot,
    kept_by,
    kept_by_swaps,
    made_by,
    new_id,
    on_volume,
)

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import VolumeSnapshot


@dataclass
class Found:
    statefulset: dict[str, Any]
    claims: dict[str, dict[str, Any]]
    bound: dict[str, dict[str, Any]]  # volume name -> the volume a mongo claim holds
    kept: list[dict[str, Any]]  # volumes restores kept for this namespace


def read(cluster: Cluster, namespace: str) -> Found:
    """Only what is the app's: its StatefulSet and claims, their volumes by name, and the
    volumes restores kept, by label (never every volume of the cluster)."""
    sts, claim_list, kept = fanout.together(
        lambda: deployed.get(cluster, "StatefulSet", STATEFULSET, namespace=namespace),
        lambda: backups.mongo_claims(cluster.list("PersistentVolumeClaim", namespace)),
        lambda: cluster.list(
            "PersistentVolume", label_selector=f"{REPLACED_NAMESPACE}={namespace}"
        ),
    )
    claims = {name_of(c): c for c in claim_list}
    names = [n for c in claims.values() if (n := c["spec"].get("volumeName"))]
    volumes = fanout.each(lambda n: cluster.get("PersistentVolume", n), names)
    bound = {name_of(v): v for v in volumes if v is not None}
    return Found(sts, claims, bound, kept)


def _template(found: Found) -> dict[str, Any]:
    """What a new claim is made like: an existing claim, else the StatefulSet's template."""
    if found.claims:
        return next(iter(found.claims.values()))
    template: dict[str, Any] = found.statefulset["spec"]["volumeClaimTemplates"][0]
    return template


def _holds(found: Found, claim: dict[str, Any] | None) -> dict[str, Any] | None:
    name = (claim or {}).get("spec", {}).get("volumeName")
    return found.bound.get(name) if name else None


def plan(cluster: Cluster, namespace: str, backup: str | None) -> RestorePlan:
    """The restore of ``backup`` (None: --undo), resuming one that was interrupted."""
    found = read(cluster, namespace)
    sts = found.statefulset
    rid = new_id()
    asked = Asked(
        namespace,
        backup,
        int(sts["spec"].get("replicas", 1)),
        rid,
        SAFETY_PREFIX + rid.removeprefix("r-"),  # unique: two restores in one second
    )
    intent, resumed = choose(intent_of(sts), last_of(sts), asked)
    interrupted = intent_of(sts)
    if (
        intent.undo_of
        and not intent.backup
        and interrupted is not None
        and interrupted.id == intent.undo_of
        and interrupted.safety
        and not kept_by(found.kept, intent.undo_of)
        and any(made_by(c, interrupted.id) for c in found.claims.values())
    ):
        # It had already let the replaced volumes go: their data is in its safety backup.
        source = f"backup {interrupted.safety} (the data the interrupted restore replaced)"
        intent = replace(intent, source=source, backup=interrupted.safety)
    if intent.backup:
        swaps = _from_backup(cluster, found, namespace, intent=intent)
    else:
        swaps = _onto_kept(found, namespace, intent=intent)
    if not resumed and intent.safety and not any(s.keep for s in swaps):
        intent = replace(intent, safety=None)  # nothing is replaced: nothing to save
    mine = set(kept_by_swaps(swaps))
    return RestorePlan(
        namespace,
        intent,
        resumed,
        tuple(swaps),
        earlier=tuple(v for v in found.kept if name_of(v) not in mine),
        locked=tuple(consistency.held_by(sts)),
    )


def _from_backup(cluster: Cluster, found: Found, namespace: str, *, intent: Intent) -> list[Swap]:
    """Each claim the backup has a snapshot of, made anew from it (unless made already)."""
    assert intent.backup is not None
    _, taken = _ready_backup(cluster, namespace, intent.backup)
    template = _template(found)
    swaps = []
    for snap in sorted(taken, key=name_of):
        name = str(labels_of(snap).get(backups.CLAIM_LABEL, ""))
        current = found.claims.get(name)
        if made_by(current, intent.id):
            swaps.append(Swap(name, current))  # this restore made it: done
            continue
        wanted = from_snapshot(template, name, namespace, snapshot=name_of(snap), intent=intent)
        swaps.append(Swap(name, current, keep=_holds(found, current), replacement=wanted))
    return swaps


def _onto_kept(found: Found, namespace: str, *, intent: Intent) -> list[Swap]:
    """--undo: each claim bound again to the volume the restore undone kept for it."""
    template = _template(found)
    swaps = []
    for name, volume in sorted(kept_by(found.kept, intent.undo_of or "").items()):
        current = found.claims.get(name)
        holder = _holds(found, current)
        if current is not None and current["spec"].get("volumeName") == name_of(volume):
            swaps.append(Swap(name, current, reuse=volume))  # bound again already
            continue
        wanted = on_volume(template, name, namespace, volume=volume, intent=intent)
        swaps.append(Swap(name, current, keep=holder, replacement=wanted, reuse=volume))
    return swaps


def _ready_backup(
    cluster: Cluster, namespace: str, name: str
) -> tuple[Backup, list[VolumeSnapshot]]:
    """The backup called ``name``, ready to restore from, and its VolumeSnapshots."""
    taken = backups.snapshot_list(cluster, namespace, name)
    found = backups.summarize(taken)
    if not found:
        have = ", ".join(b.name for b in backups.list_backups(cluster, namespace)) or "none"
        raise NotFound(
            f"no backup {name!r} in namespace {namespace} (backups: {have})",
            f"See `pacdeploy backup list -n {namespace}`",
        )
    if found[0].deleting:
        raise NotFound(
            f"backup {name} is being deleted in namespace {namespace}",
            f"See `pacdeploy backup list -n {namespace}` for the others",
        )
    if not found[0].ready:
        raise NotReady(
            f"backup {name} is not ready to restore from",
            f"See `pacdeploy backup list -n {namespace}`; wait or take another",
        )
    return found[0], taken
