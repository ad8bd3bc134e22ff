"""Backups of the high scores: a CSI VolumeSnapshot of each MongoDB volume, named together.

A backup is the set of VolumeSnapshots labelled with its name, one per mongo claim, each
of the VolumeSnapshotClass whose driver is the claim's (snapshots.py chooses it). Taking
one survives being killed: every snapshot records all the claims the backup covers, so
a re-run finds what is missing and finishes. Automatic backups (before an `up` that
changes mongo, before a restore) are pruned to the newest few; named ones never are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pacdeploy.app.manifests import MANAGED_BY, STATEFULSET, claim_template, is_managed
from pacdeploy.data import consistency, retention, snapshots
from pacdeploy.data.backup_record import Backup
from pacdeploy.data.revisions import REVISION_LABEL
from pacdeploy.errors import Conflict, InvalidInput, NotFound
from pacdeploy.kube import fanout, permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import SNAPSHOT_API, annotations_of, labels_of, name_of
from pacdeploy.output import Output

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import PersistentVolumeClaim, VolumeSnapshot, VolumeSnapshotClass

BACKUP_LABEL = "pacdeploy.io/backup"
CLAIM_LABEL = "pacdeploy.io/claim"
# Why an automatic backup was taken (absent: the user asked for it).
REASON_LABEL = "pacdeploy.io/backup-reason"
BEFORE_UP, BEFORE_RESTORE, BEFORE_MOVE = "before-up", "before-restore", "before-move"
# Every claim a backup covers, on each of its snapshots: one that lacks some was interrupted.
CLAIMS_ANNOTATION = "pacdeploy.io/backup-claims"
MAX_NAME = 40  # the snapshot is named <backup>-<claim>; a label value holds 63

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
Claim = TypeVar("Claim", bound=Mapping[str, Any])  # a claim as read, or its view (bodies.py)


def validate_name(name: str) -> None:
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise InvalidInput(
            f"invalid backup name {name!r}",
            f"Use at most {MAX_NAME} lowercase letters, digits and '-', starting and ending "
            "alphanumeric",
        )


def default_name(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("backup-%Y%m%d-%H%M%S")


def mongo_claims(claims: list[Claim]) -> list[Claim]:
    """The StatefulSet's claims (`mongo-db-mongo-0`, ...), by ordinal."""
    pattern = re.compile(rf"^{re.escape(claim_template())}-{STATEFULSET}-(\d+)$")
    found = [(m, c) for c in claims if (m := pattern.match(name_of(c)))]
    return [c for m, c in sorted(found, key=lambda pair: int(pair[0].group(1)))]


@dataclass(frozen=True, kw_only=True)
class BackupRequest:
    """A backup to take: what `backup create`, `up`, a move and a restore ask of create()."""

    namespace: str
    name: str
    timeout: float
    snapshot_class: str | None = None  # None: each claim's driver's class (snapshots.py)
    revision: int | None = None  # the revision live while it is taken
    reason: str | None = None  # why it is taken automatically; None: asked for
    resume: bool = False  # a complete backup of that name is done, not a conflict
    keep_automatic: int = retention.KEEP_AUTOMATIC
    lock: bool = True  # mongo's writes held while the snapshots are cut (consistency.py)


def snapshot_for(
    request: BackupRequest, claim: str, snapshot_class: str, *, claims: list[str] | None = None
) -> dict[str, Any]:
    """``claims``: all the claims the backup covers (recorded on each snapshot)."""
    labels = {**MANAGED_BY, BACKUP_LABEL: request.name, CLAIM_LABEL: claim}
    if request.revision is not None:
        labels[REVISION_LABEL] = str(request.revision)
    if request.reason is not None:
        labels[REASON_LABEL] = request.reason
    annotations = {CLAIMS_ANNOTATION: ",".join(claims or [claim])}
    return {
        "apiVersion": SNAPSHOT_API,
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": f"{request.name}-{claim}",
            "namespace": request.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "volumeSnapshotClassName": snapshot_class,
            "source": {"persistentVolumeClaimName": claim},
        },
    }


def summarize(found: Iterable[VolumeSnapshot]) -> list[Backup]:
    """The backups among snapshots ``found`` (pacdeploy's, grouped by label), oldest first."""
    groups: dict[str, list[VolumeSnapshot]] = {}
    for snap in found:
        name = labels_of(snap).get(BACKUP_LABEL)
        if name and is_managed(snap):
            groups.setdefault(name, []).append(snap)
    backups = []
    for name, snaps in groups.items():
        sizes = sorted({str((s.get("status") or {}).get("restoreSize") or "") for s in snaps})
        revisions = {(s["metadata"]["labels"]).get(REVISION_LABEL) for s in snaps}
        revision = revisions.pop() if len(revisions) == 1 else None
        reasons = {(s["metadata"]["labels"]).get(REASON_LABEL) for s in snaps}
        backups.append(
            Backup(
                name=name,
                created=min(s["metadata"].get("creationTimestamp", "") for s in snaps),
                size="+".join(s for s in sizes if s) or "-",
                ready=all(snapshots.is_ready(s) for s in snaps),
                revision=int(revision) if revision else None,
                snapshots=tuple(sorted(name_of(s) for s in snaps)),
                reason=reasons.pop() if len(reasons) == 1 else None,
                deleting=any(s["metadata"].get("deletionTimestamp") for s in snaps),
            )
        )
    return sorted(backups, key=lambda b: (b.created, b.name))


# -- the cluster ---------------------------------------------------------------------
def selector(backup: str | None = None) -> str:
    """The label selector of one backup's snapshots, or of every backup's."""
    return f"{BACKUP_LABEL}={backup}" if backup else BACKUP_LABEL


def snapshot_list(
    cluster: Cluster, namespace: str, backup: str | None = None
) -> list[VolumeSnapshot]:
    found = snapshots.list_kind(cluster, "VolumeSnapshot", namespace, selector=selector(backup))
    return cast("list[VolumeSnapshot]", found)


def list_backups(cluster: Cluster, namespace: str) -> list[Backup]:
    return summarize(snapshot_list(cluster, namespace))


def of_revision(found: list[Backup], revision: int) -> Backup | None:
    """The newest ready backup of the data as it was while ``revision`` was live."""
    mine = [b for b in found if b.revision == revision and b.ready]
    return mine[-1] if mine else None


@dataclass(frozen=True)
class Source:
    """A volume to snapshot: the claim and the StorageClass and driver it lives on."""

    claim: str
    storage_class: str
    driver: str


def unfinished(taken: list[VolumeSnapshot]) -> list[str]:
    """The claims an interrupted `backup create` had yet to snapshot ([]: it finished)."""
    covered = {labels_of(t).get(CLAIM_LABEL) for t in taken}
    recorded: set[str] = set()
    for snap in taken:
        value = annotations_of(snap).get(CLAIMS_ANNOTATION, "")
        recorded.update(c for c in value.split(",") if c)
    return sorted(recorded - covered)


def sources(
    cluster: Cluster, namespace: str, backup: str
) -> tuple[list[Source], list[VolumeSnapshotClass], list[VolumeSnapshot], list[str]]:
    """The mongo volumes, the cluster's snapshot classes, the snapshots already called
    ``backup`` and the mongo pods an interrupted backup left locked, in one round trip."""
    classes, claims, storage_classes, taken, statefulset = fanout.together(
        lambda: snapshots.classes(cluster),
        lambda: mongo_claims(
            cast("list[PersistentVolumeClaim]", cluster.list("PersistentVolumeClaim", namespace))
        ),
        lambda: cluster.list("StorageClass"),
        lambda: snapshot_list(cluster, namespace, backup),
        lambda: cluster.get("StatefulSet", STATEFULSET, namespace),
    )
    storage = {name_of(sc): sc for sc in storage_classes}
    found = []
    for claim in claims:
        class_name = claim["spec"].get("storageClassName") or ""
        provisioner = (storage.get(class_name) or {}).get("provisioner", "unknown")
        found.append(Source(name_of(claim), class_name, provisioner))
    return found, classes, taken, consistency.held_by(statefulset)


def create(cluster: Cluster, request: BackupRequest, out: Output) -> Backup:
    """Snapshot every mongo volume under one backup name and wait until all are ready.

    Re-entrant: a backup of that name that an interrupted run left without some of its
    snapshots is finished; one being deleted is waited for. ``resume``: a complete one
    is taken as done (an automatic backup named ahead, as restore does) instead of a
    conflict. ``lock``: mongo's writes held while the snapshots are cut (consistency.py)."""
    name, namespace = request.name, request.namespace
    validate_name(name)
    volumes, classes, taken, locked = sources(cluster, namespace, name)
    consistency.release_stale(cluster, namespace, locked, out=out)  # before any answer
    volumes = _still_to_take(cluster, request, volumes=volumes, taken=taken, out=out)
    covered = [v.claim for v in volumes]
    wanted = [
        snapshot_for(
            request,
            v.claim,
            snapshots.choose_class(
                classes, v.driver, v.storage_class, requested=request.snapshot_class
            ),
            claims=covered,
        )
        for v in volumes
    ]
    permissions.require(
        cluster,
        {Need.on("create", "VolumeSnapshot", namespace), Need.on("list", "Event", namespace)},
        "take a backup",
    )
    _cut(cluster, request, wanted, out=out)
    ready = wait_ready(cluster, namespace, name, timeout=request.timeout, out=out)
    if request.reason is not None:
        _prune_automatic(cluster, request, out)
    return ready


def _still_to_take(
    cluster: Cluster,
    request: BackupRequest,
    *,
    volumes: list[Source],
    taken: list[VolumeSnapshot],
    out: Output,
) -> list[Source]:
    """Every volume, or those an interrupted run of this backup left out. One of that name
    being deleted is waited for; a complete one is a conflict unless ``resume``."""
    name, namespace = request.name, request.namespace
    if any(t["metadata"].get("deletionTimestamp") for t in taken):
        out.info(f"backup {name} is being deleted: waiting until it is gone")
        snapshots.wait_deleted(cluster, namespace, taken, timeout=request.timeout, out=out)
        taken = []
    if taken:
        missing = unfinished(taken)
        if not missing and not request.resume and all(snapshots.is_ready(t) for t in taken):
            raise Conflict(
                f"backup {name} already exists in namespace {namespace}",
                "Choose another name, or `pacdeploy backup delete` it first",
            )
        if missing or not all(snapshots.is_ready(t) for t in taken):
            out.info(f"finishing backup {name} (an earlier run was interrupted)")
        return [v for v in volumes if v.claim in missing]
    if not volumes:
        raise NotFound(
            f"no MongoDB volume in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    return volumes


def _cut(
    cluster: Cluster, request: BackupRequest, wanted: list[dict[str, Any]], *, out: Output
) -> None:
    """Create the ``wanted`` snapshots, mongo's writes held until they are cut."""
    name, namespace = request.name, request.namespace
    enabled = request.lock and bool(wanted)
    required = request.reason is None  # automatic backups never block
    with consistency.locked(
        cluster, namespace, enabled=enabled, required=required, out=out
    ) as held:
        fanout.each(cluster.create, wanted)
        if held is not None:
            cut = snapshots.wait_cut(cluster, namespace, selector(name), deadline=held.deadline)
            consistency.cut_or_not(f"backup {name}", cut, held, out=out)


def _prune_automatic(cluster: Cluster, request: BackupRequest, out: Output) -> None:
    """Automatic backups do not pile up: the oldest beyond ``keep_automatic`` go."""
    doomed = retention.to_prune(
        list_backups(cluster, request.namespace), keep=request.keep_automatic
    )
    for backup in doomed:
        delete(cluster, request.namespace, backup.name, timeout=request.timeout, out=out)
    if doomed:
        pruned = ", ".join(b.name for b in doomed)
        out.info(f"pruned automatic backup(s) {pruned} (keeping {request.keep_automatic})")


def wait_ready(
    cluster: Cluster, namespace: str, name: str, *, timeout: float, out: Output
) -> Backup:
    """Block until every snapshot of the backup is readyToUse, saying what each waits on."""
    fix = f"Check the snapshot controller and driver, then `pacdeploy backup delete {name}"
    awaited = snapshots.Awaited(
        f"backup {name}", selector(name), f"{fix} -n {namespace}` and retry"
    )
    found = snapshots.wait_ready(cluster, namespace, awaited, timeout=timeout, out=out)
    return summarize(found)[0]


def delete(
    cluster: Cluster, namespace: str, name: str, *, timeout: float, out: Output
) -> list[str]:
    """Delete the backup's snapshots and wait until they and their contents are gone:
    a deleted backup is gone when this returns, so its name can be taken again."""
    found = snapshot_list(cluster, namespace, name)
    if not found:
        raise NotFound(
            f"no backup {name!r} in namespace {namespace}",
            f"See `pacdeploy backup list -n {namespace}`",
        )
    permissions.require(
        cluster,
        {
            Need.on("delete", "VolumeSnapshot", namespace),
            Need.on("list", "VolumeSnapshotContent"),
        },
        "delete a backup",
    )
    names = [name_of(s) for s in found]
    fanout.each(lambda n: cluster.delete("VolumeSnapshot", n, namespace), names)
    snapshots.wait_deleted(cluster, namespace, found, timeout=timeout, out=out)
    return names
