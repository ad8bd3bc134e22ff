"""Put MongoDB's volumes back to a backup, or back to what a restore replaced.

A StatefulSet's claims are named by its template (`mongo-db-mongo-0`), so a restore
replaces each claim by a new one of the same name: provisioned from the backup's snapshot,
or (`--undo`) bound again to a volume a restore kept.

A restore survives being killed at any point. Before its first change it records its
intent on the StatefulSet (``pacdeploy.io/restore``: what it restores, the replicas to
come back to, the automatic backup of the data it replaces), and each step checks what is
already done: a claim it made carries the intent's id, a volume it kept says so. Running
the same command again finishes it; `--undo` goes back instead. Nothing is final until
mongo is Ready on the restored data: only then does the intent go, and what replaced data
there was stays recoverable, in the automatic backup taken first or, where the cluster
cannot snapshot it, on the kept volume (Retain) until the next restore.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from typing import Any

from pacdeploy.data.kept_volumes import RECLAIM_POLICY
from pacdeploy.errors import Conflict, NotFound
from pacdeploy.kube.resources import annotations_of, labels_of, name_of
from pacdeploy.restore.intent import Intent

RESTORE_ID = "pacdeploy.io/restore-id"  # on a claim a restore made, and a volume it kept
REPLACED_CLAIM = "pacdeploy.io/replaced-claim"  # label: the claim a kept volume held
REPLACED_NAMESPACE = "pacdeploy.io/replaced-namespace"
REPLACED_AT = "pacdeploy.io/replaced-at"  # annotation: when it was first kept
RESTORED_FROM = "pacdeploy.io/restored-from"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
SAFETY_PREFIX = "before-restore-"


def new_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"r-{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Swap:
    """One claim replaced: what holds it now, and the claim that takes its place."""

    claim: str
    current: dict[str, Any] | None  # the claim as it is (None: already gone)
    _: KW_ONLY
    keep: dict[str, Any] | None = None  # the volume it holds, kept while the restore runs
    replacement: dict[str, Any] | None = None  # None: done already (this restore made it)
    reuse: dict[str, Any] | None = None  # --undo: the kept volume to bind again


@dataclass(frozen=True)
class RestorePlan:
    """A restore decided once; the intent it carries out is replaced, in a new plan, once
    the safety backup is known not to be taken (run.py)."""

    namespace: str
    intent: Intent
    resumed: bool  # the intent was found on the cluster: finishing an interrupted restore
    swaps: tuple[Swap, ...] = ()
    earlier: tuple[dict[str, Any], ...] = ()  # kept by older restores
    locked: tuple[str, ...] = ()  # mongo pods a killed backup left locked

    @property
    def source(self) -> str:
        return self.intent.source

    @property
    def kept(self) -> list[str]:
        return kept_by_swaps(self.swaps)


def kept_by_swaps(swaps: Iterable[Swap]) -> list[str]:
    """Every volume holding data from before, kept while the restore runs."""
    return sorted({name_of(v) for s in swaps for v in (s.keep, s.reuse) if v})


# -- pure: the objects -------------------------------------------------------------------
def claim_like(template: dict[str, Any], name: str, namespace: str, *, rid: str) -> dict[str, Any]:
    """A new claim with ``template``'s class, size, modes and labels, made by restore ``rid``."""
    spec = template["spec"]
    kept = ("accessModes", "resources", "storageClassName", "volumeMode")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": copy.deepcopy(labels_of(template)),
            "annotations": {RESTORE_ID: rid},
        },
        "spec": {k: copy.deepcopy(spec[k]) for k in kept if spec.get(k) is not None},
    }


def from_snapshot(
    template: dict[str, Any], name: str, ns: str, *, snapshot: str, intent: Intent
) -> dict[str, Any]:
    claim = claim_like(template, name, ns, rid=intent.id)
    claim["spec"]["dataSource"] = {
        "apiGroup": SNAPSHOT_GROUP,
        "kind": "VolumeSnapshot",
        "name": snapshot,
    }
    claim["metadata"]["annotations"][RESTORED_FROM] = f"backup {intent.backup}"
    return claim


def on_volume(
    template: dict[str, Any], name: str, ns: str, *, volume: dict[str, Any], intent: Intent
) -> dict[str, Any]:
    claim = claim_like(template, name, ns, rid=intent.id)
    claim["spec"]["volumeName"] = name_of(volume)
    claim["spec"]["storageClassName"] = volume["spec"].get("storageClassName", "")
    claim["metadata"]["annotations"][RESTORED_FROM] = f"volume {volume['metadata']['name']}"
    return claim


def keep_patch(
    volume: dict[str, Any], namespace: str, claim: str, *, rid: str, now: str
) -> dict[str, Any]:
    """Retain ``volume`` and say whose it was; a volume kept before keeps its first record."""
    annotations = annotations_of(volume)
    return {
        "metadata": {
            "labels": {REPLACED_CLAIM: claim, REPLACED_NAMESPACE: namespace},
            "annotations": {
                RECLAIM_POLICY: annotations.get(
                    RECLAIM_POLICY, volume["spec"].get("persistentVolumeReclaimPolicy", "Delete")
                ),
                REPLACED_AT: annotations.get(REPLACED_AT, now),
                RESTORE_ID: annotations.get(RESTORE_ID, rid),
            },
        },
        "spec": {"persistentVolumeReclaimPolicy": "Retain"},
    }


def prebind_patch(claim: str, namespace: str) -> dict[str, Any]:
    """A kept (Released) volume reserved for the claim about to be made again by name: its
    old claim's uid goes, the name stays. Cleared instead, the volume would be Available,
    and the PV controller could bind it to any pending claim of its class and size in the
    cluster (another namespace's data); pre-bound, only this claim may have it
    (`kubernetes.io` docs, "Reserving a PersistentVolume")."""
    return {
        "spec": {
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": namespace,
                "name": claim,
                "uid": None,
                "resourceVersion": None,
            }
        }
    }


def release_patch(volume: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`keep_patch`: the policy it had, no labels (a Delete volume then goes)."""
    policy = annotations_of(volume).get(RECLAIM_POLICY, "Delete")
    return {
        "metadata": {
            "labels": {REPLACED_CLAIM: None, REPLACED_NAMESPACE: None},
            "annotations": {
                RECLAIM_POLICY: None,
                REPLACED_AT: None,
                RESTORE_ID: None,
                RESTORED_FROM: None,
            },
        },
        "spec": {"persistentVolumeReclaimPolicy": policy},
    }


def kept_by(volumes: list[dict[str, Any]], rid: str) -> dict[str, dict[str, Any]]:
    """claim -> the volume restore ``rid`` kept for it."""
    return {
        labels_of(pv)[REPLACED_CLAIM]: pv
        for pv in volumes
        if annotations_of(pv).get(RESTORE_ID) == rid and REPLACED_CLAIM in labels_of(pv)
    }


def made_by(claim: dict[str, Any] | None, rid: str) -> bool:
    return claim is not None and annotations_of(claim).get(RESTORE_ID) == rid


def way_back(plan: RestorePlan) -> str:
    ns = plan.namespace
    kept = ", ".join(plan.kept) or "the volumes as they were"
    finish = plan.intent.command(ns)
    back = f"pacdeploy restore --undo --yes -n {ns}"
    if plan.intent.undo_of:
        return f"The data from before is kept on {kept}. To finish going back: `{back}`"
    return (
        f"The data from before is kept on {kept} (reclaimPolicy Retain). To finish the "
        f"restore: `{finish}`; to go back: `{back}`"
    )


@dataclass(frozen=True)
class Asked:
    """A restore as asked for: ``backup`` (None: --undo) in ``namespace``, with mongo's
    replicas now and the id and safety backup a new restore takes."""

    namespace: str
    backup: str | None
    replicas: int
    rid: str
    safety: str


def choose(intent: Intent | None, last: dict[str, Any], asked: Asked) -> tuple[Intent, bool]:
    """What to do, given what is recorded: (intent, resumed). ``backup`` None means --undo."""
    backup, replicas, namespace = asked.backup, asked.replicas, asked.namespace
    rid, safety = asked.rid, asked.safety
    if intent is not None:
        if backup is None:
            if intent.undo_of:
                return intent, True
            source = f"the data from before the interrupted restore from {intent.source}"
            return Intent(rid, source, intent.replicas, undo_of=intent.id), False
        if backup == intent.backup:
            return intent, True
        raise Conflict(
            f"a restore from {intent.source} was interrupted in namespace {namespace}",
            f"Finish it with `{intent.command(namespace)}`, or go back with "
            f"`pacdeploy restore --undo --yes -n {namespace}`",
        )
    if backup is not None:
        return Intent(rid, f"backup {backup}", replicas, backup=backup, safety=safety), False
    if last.get("safety"):
        source = f"backup {last['safety']} (the data the last restore replaced)"
        undo_of = last.get("id") or "last"  # marks it an undo, so --undo again finishes it
        return (
            Intent(rid, source, replicas, backup=last["safety"], undo_of=undo_of, safety=safety),
            False,
        )
    if last.get("kept_by"):
        source = f"the volumes restore {last['kept_by']} replaced"
        return Intent(rid, source, replicas, undo_of=last["kept_by"], safety=safety), False
    raise NotFound(
        f"no restore to undo in namespace {namespace}",
        f"See `pacdeploy backup list -n {namespace}` to restore a backup instead",
    )
