"""Backups of the high scores: a CSI VolumeSnapshot of each MongoDB volume, named together.

A backup is the set of VolumeSnapshots labelled with its name, one per mongo claim, each
of the VolumeSnapshotClass whose driver is the claim's (`--snapshot-class`, else the
driver's default-annotated one, else its only one). A cluster without the snapshot API,
or without a class for the driver, gets one line saying how to enable it (exit 7).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pacdeploy import permissions
from pacdeploy.errors import Conflict, InvalidInput, NotFound, NotReady
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import SNAPSHOT_API
from pacdeploy.manifests import MANAGED_BY, STATEFULSET, claim_template, is_managed
from pacdeploy.output import Output, Row
from pacdeploy.permissions import Need
from pacdeploy.revisions import REVISION_LABEL

BACKUP_LABEL = "pacdeploy.io/backup"
CLAIM_LABEL = "pacdeploy.io/claim"
# Why an automatic backup was taken (absent: the user asked for it).
REASON_LABEL = "pacdeploy.io/backup-reason"
BEFORE_UP, BEFORE_RESTORE = "before-up", "before-restore"
# Every claim a backup covers, on each of its snapshots: one that lacks some was interrupted.
CLAIMS_ANNOTATION = "pacdeploy.io/backup-claims"
DEFAULT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"
MAX_NAME = 40  # the snapshot is named <backup>-<claim>; a label value holds 63
KEEP_AUTOMATIC = 5  # automatic backups kept (up --keep-backups); named ones are never pruned
EVENTS_AFTER = 1.0  # seconds before a slow snapshot's events are read to say why
POLL = 0.25

ENABLE = (
    "Install the VolumeSnapshot CRDs and snapshot-controller "
    "(minikube: `minikube addons enable volumesnapshots`)"
)

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class NoSnapshots(NotFound):
    """The cluster cannot snapshot these volumes (exit 7, like any missing prerequisite)."""


@dataclass(frozen=True)
class Backup:
    name: str
    created: str
    size: str
    ready: bool
    revision: int | None
    snapshots: tuple[str, ...]
    reason: str | None = None  # why it was taken automatically; None: asked for
    deleting: bool = False  # `backup delete` is under way

    @property
    def state(self) -> str:
        return "deleting" if self.deleting else "true" if self.ready else "false"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "size": self.size,
            "ready": self.ready,
            "revision": self.revision,
            "automatic": self.reason,
            "deleting": self.deleting,
            "snapshots": list(self.snapshots),
        }


def validate_name(name: str) -> None:
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise InvalidInput(
            f"invalid backup name {name!r}",
            f"Use at most {MAX_NAME} lowercase letters, digits and '-', starting and ending "
            "alphanumeric",
        )


def default_name(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("backup-%Y%m%d-%H%M%S")


def mongo_claims(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The StatefulSet's claims (`mongo-db-mongo-0`, ...), by ordinal."""
    pattern = re.compile(rf"^{re.escape(claim_template())}-{STATEFULSET}-(\d+)$")
    found = [(m, c) for c in claims if (m := pattern.match(c["metadata"]["name"]))]
    return [c for m, c in sorted(found, key=lambda pair: int(pair[0].group(1)))]


def choose_class(
    classes: list[dict[str, Any]], driver: str, storage_class: str, requested: str | None
) -> str:
    """The VolumeSnapshotClass for ``driver``: the one asked for, else its default, else
    its only one."""
    if requested is not None:
        chosen = next((c for c in classes if c["metadata"]["name"] == requested), None)
        if chosen is None:
            have = ", ".join(sorted(c["metadata"]["name"] for c in classes)) or "none"
            raise NoSnapshots(
                f"VolumeSnapshotClass {requested!r} does not exist (available: {have})",
                "Pass --snapshot-class with one of them",
            )
        if chosen["driver"] != driver:
            raise InvalidInput(
                f"VolumeSnapshotClass {requested} is for driver {chosen['driver']}, but the "
                f"volumes are of {driver} (StorageClass {storage_class})",
                f"Pass a --snapshot-class whose driver is {driver}",
            )
        return requested
    matching = sorted(
        (c for c in classes if c.get("driver") == driver), key=lambda c: c["metadata"]["name"]
    )
    defaults = [
        c for c in matching if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    ]
    if not matching:
        raise NoSnapshots(
            f"no VolumeSnapshotClass for driver {driver} (of StorageClass {storage_class})",
            "Create one for that driver, or deploy on a CSI class that snapshots "
            "(minikube: `minikube addons enable volumesnapshots`, then "
            "`pacdeploy up --storage-class csi-hostpath-sc`)",
        )
    return str((defaults or matching)[0]["metadata"]["name"])


def snapshot_for(
    backup: str,
    claim: str,
    namespace: str,
    snapshot_class: str,
    revision: int | None,
    *,
    claims: list[str] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """``claims``: all the claims the backup covers (recorded on each snapshot)."""
    labels = {**MANAGED_BY, BACKUP_LABEL: backup, CLAIM_LABEL: claim}
    if revision is not None:
        labels[REVISION_LABEL] = str(revision)
    if reason is not None:
        labels[REASON_LABEL] = reason
    annotations = {CLAIMS_ANNOTATION: ",".join(claims or [claim])}
    return {
        "apiVersion": SNAPSHOT_API,
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": f"{backup}-{claim}",
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "volumeSnapshotClassName": snapshot_class,
            "source": {"persistentVolumeClaimName": claim},
        },
    }


def is_ready(snapshot: dict[str, Any]) -> bool:
    return bool((snapshot.get("status") or {}).get("readyToUse"))


def why_not_ready(snapshot: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """What a snapshot waits on, in the controller's own words where it has said any."""
    status = snapshot.get("status") or {}
    if error := (status.get("error") or {}).get("message"):
        return f"error: {error}"
    uid = snapshot["metadata"].get("uid")
    said = [e for e in events if e.get("involvedObject", {}).get("uid") == uid]
    if said:
        latest = max(said, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        return f"{latest.get('reason')}: {latest.get('message', '')}".strip()
    if not status.get("boundVolumeSnapshotContentName"):
        return "waiting for the snapshot controller to bind a snapshot content"
    return "waiting for the CSI driver to cut the snapshot"


def summarize(snapshots: Iterable[dict[str, Any]]) -> list[Backup]:
    """The backups among ``snapshots`` (pacdeploy's, grouped by their label), oldest first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for snap in snapshots:
        name = (snap["metadata"].get("labels") or {}).get(BACKUP_LABEL)
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
                ready=all(is_ready(s) for s in snaps),
                revision=int(revision) if revision else None,
                snapshots=tuple(sorted(s["metadata"]["name"] for s in snaps)),
                reason=reasons.pop() if len(reasons) == 1 else None,
                deleting=any(s["metadata"].get("deletionTimestamp") for s in snaps),
            )
        )
    return sorted(backups, key=lambda b: (b.created, b.name))


# -- the cluster ---------------------------------------------------------------------
def _list_snapshot_kind(
    cluster: Cluster, kind: str, namespace: str | None = None, selector: str | None = None
) -> list[dict[str, Any]]:
    """A list of one of the snapshot API's kinds; NoSnapshots if the cluster lacks the API."""
    try:
        return cluster.list(kind, namespace, label_selector=selector)
    except NotFound:
        raise NoSnapshots(
            f"this cluster does not serve the VolumeSnapshot API ({SNAPSHOT_API})", ENABLE
        ) from None


def snapshot_classes(cluster: Cluster) -> list[dict[str, Any]]:
    return _list_snapshot_kind(cluster, "VolumeSnapshotClass")


def snapshots(cluster: Cluster, namespace: str, backup: str | None = None) -> list[dict[str, Any]]:
    selector = f"{BACKUP_LABEL}={backup}" if backup else BACKUP_LABEL
    return _list_snapshot_kind(cluster, "VolumeSnapshot", namespace, selector)


def list_backups(cluster: Cluster, namespace: str) -> list[Backup]:
    return summarize(snapshots(cluster, namespace))


def to_prune(
    found: list[Backup],
    *,
    keep: int,
    older_than: float | None = None,
    now: datetime | None = None,
    automatic_only: bool = True,
) -> list[Backup]:
    """What pruning deletes, oldest first: beyond the newest ``keep`` (of the automatic
    ones, unless all were asked for), and of those only what is older than ``older_than``
    seconds. A backup being deleted already is left to that."""
    pool = [b for b in found if not b.deleting and (b.reason or not automatic_only)]
    pool.sort(key=lambda b: (b.created, b.name))
    excess = pool[: max(len(pool) - keep, 0)]
    if older_than is None:
        return excess
    moment = now or datetime.now(UTC)

    def age(backup: Backup) -> float:
        taken = datetime.fromisoformat(backup.created.replace("Z", "+00:00"))
        return (moment - taken).total_seconds()

    return [b for b in excess if age(b) > older_than]


def prune(
    cluster: Cluster,
    namespace: str,
    *,
    keep: int,
    older_than: float | None,
    automatic_only: bool,
    timeout: float,
    out: Output,
) -> list[str]:
    """Delete what :func:`to_prune` picks, each waited for until gone."""
    doomed = to_prune(
        list_backups(cluster, namespace),
        keep=keep,
        older_than=older_than,
        automatic_only=automatic_only,
    )
    for backup in doomed:
        delete(cluster, namespace, backup.name, timeout, out)
    return [b.name for b in doomed]


def of_revision(found: list[Backup], revision: int) -> Backup | None:
    """The newest ready backup of the data as it was while ``revision`` was live."""
    mine = [b for b in found if b.revision == revision and b.ready]
    return mine[-1] if mine else None


def require(cluster: Cluster, namespace: str, name: str) -> tuple[Backup, list[dict[str, Any]]]:
    """The backup called ``name``, ready to restore from, and its VolumeSnapshots."""
    taken = snapshots(cluster, namespace, name)
    found = summarize(taken)
    if not found:
        have = ", ".join(b.name for b in list_backups(cluster, namespace)) or "none"
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


@dataclass(frozen=True)
class Source:
    """A volume to snapshot: the claim and the StorageClass and driver it lives on."""

    claim: str
    storage_class: str
    driver: str


def unfinished(taken: list[dict[str, Any]]) -> list[str]:
    """The claims an interrupted `backup create` had yet to snapshot ([]: it finished)."""
    covered = {(t["metadata"].get("labels") or {}).get(CLAIM_LABEL) for t in taken}
    recorded: set[str] = set()
    for snap in taken:
        value = (snap["metadata"].get("annotations") or {}).get(CLAIMS_ANNOTATION, "")
        recorded.update(c for c in value.split(",") if c)
    return sorted(recorded - covered)


def sources(cluster: Cluster, namespace: str, backup: str) -> tuple[list[Source], list, list]:
    """The mongo volumes, the cluster's snapshot classes and the snapshots already called
    ``backup``, read in one round trip."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        classes_read = pool.submit(snapshot_classes, cluster)
        claims_read = pool.submit(cluster.list, "PersistentVolumeClaim", namespace)
        storage_read = pool.submit(cluster.list, "StorageClass")
        existing = pool.submit(snapshots, cluster, namespace, backup)
        classes = classes_read.result()
        claims = mongo_claims(claims_read.result())
        storage = {sc["metadata"]["name"]: sc for sc in storage_read.result()}
        taken = existing.result()
    found = []
    for claim in claims:
        class_name = claim["spec"].get("storageClassName") or ""
        provisioner = (storage.get(class_name) or {}).get("provisioner", "unknown")
        found.append(Source(claim["metadata"]["name"], class_name, provisioner))
    return found, classes, taken


def create(
    cluster: Cluster,
    namespace: str,
    name: str,
    *,
    snapshot_class: str | None,
    revision: int | None,
    timeout: float,
    out: Output,
    reason: str | None = None,
    resume: bool = False,
    keep_automatic: int = KEEP_AUTOMATIC,
) -> Backup:
    """Snapshot every mongo volume under one backup name and wait until all are ready.

    Re-entrant: a backup of that name that an interrupted run left without some of its
    snapshots is finished; one being deleted is waited for. ``resume``: a complete one
    is taken as done (an automatic backup named ahead, as restore does) instead of a
    conflict."""
    validate_name(name)
    volumes, classes, taken = sources(cluster, namespace, name)
    if any(t["metadata"].get("deletionTimestamp") for t in taken):
        out.info(f"backup {name} is being deleted: waiting until it is gone")
        wait_deleted(cluster, namespace, taken, timeout, out)
        taken = []
    if taken:
        missing = unfinished(taken)
        if not missing and not resume and all(is_ready(t) for t in taken):
            raise Conflict(
                f"backup {name} already exists in namespace {namespace}",
                "Choose another name, or `pacdeploy backup delete` it first",
            )
        if missing or not all(is_ready(t) for t in taken):
            out.info(f"finishing backup {name} (an earlier run was interrupted)")
        volumes = [v for v in volumes if v.claim in missing]
    elif not volumes:
        raise NotFound(
            f"no MongoDB volume in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    covered = [v.claim for v in volumes]
    wanted = [
        snapshot_for(
            name,
            v.claim,
            namespace,
            choose_class(classes, v.driver, v.storage_class, snapshot_class),
            revision,
            claims=covered,
            reason=reason,
        )
        for v in volumes
    ]
    permissions.require(
        cluster,
        {Need.on("create", "VolumeSnapshot", namespace), Need.on("list", "Event", namespace)},
        "take a backup",
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(cluster.create, wanted))
    ready = wait_ready(cluster, namespace, name, timeout, out)
    if reason is not None:  # automatic backups do not pile up: the oldest beyond the cap go
        pruned = prune(
            cluster,
            namespace,
            keep=keep_automatic,
            older_than=None,
            automatic_only=True,
            timeout=timeout,
            out=out,
        )
        if pruned:
            out.info(f"pruned automatic backup(s) {', '.join(pruned)} (keeping {keep_automatic})")
    return ready


def wait_ready(cluster: Cluster, namespace: str, name: str, timeout: float, out: Output) -> Backup:
    """Block until every snapshot of the backup is readyToUse, saying what each waits on."""
    started = time.monotonic()
    events: list[dict[str, Any]] = []
    with out.board(("snapshot", "status")) as board:
        while True:
            found = snapshots(cluster, namespace, name)
            elapsed = time.monotonic() - started
            waiting = [s for s in found if not is_ready(s)]
            if waiting and elapsed >= EVENTS_AFTER:
                events = cluster.list(
                    "Event", namespace, field_selector="involvedObject.kind=VolumeSnapshot"
                )
            rows = [
                Row(
                    (s["metadata"]["name"], "ready" if is_ready(s) else why_not_ready(s, events)),
                    style="ok" if is_ready(s) else "waiting",
                    key=s["metadata"]["name"],
                )
                for s in found
            ]
            board.update(rows, f"waiting for backup {name} ({elapsed:.0f}s of {timeout:.0f}s)")
            if found and not waiting:
                board.settle([(True, f"{r.cells[0]} ready") for r in rows])
                return summarize(found)[0]
            if elapsed >= timeout:
                board.settle([(is_ready(s), r.text) for s, r in zip(found, rows, strict=True)])
                details = "; ".join(r.text for r in rows if r.style != "ok") or "none created"
                raise NotReady(
                    f"backup {name} not ready after {timeout:.0f}s: {details}",
                    f"Check the snapshot controller and driver, then `pacdeploy backup delete "
                    f"{name} -n {namespace}` and retry",
                )
            time.sleep(POLL)


def delete(cluster: Cluster, namespace: str, name: str, timeout: float, out: Output) -> list[str]:
    """Delete the backup's snapshots and wait until they and their contents are gone:
    a deleted backup is gone when this returns, so its name can be taken again."""
    found = snapshots(cluster, namespace, name)
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
    names = [s["metadata"]["name"] for s in found]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda n: cluster.delete("VolumeSnapshot", n, namespace), names))
    wait_deleted(cluster, namespace, found, timeout, out)
    return names


def wait_deleted(
    cluster: Cluster, namespace: str, taken: list[dict[str, Any]], timeout: float, out: Output
) -> None:
    """Until every snapshot of ``taken`` and the content it was bound to are gone, saying
    what holds each (the snapshot controller's finalizers while it deletes the data)."""
    from pacdeploy import waiting

    for snap in taken:
        waiting.wait_gone(
            cluster, "VolumeSnapshot", snap["metadata"]["name"], timeout, out, namespace
        )
    for snap in taken:
        content = (snap.get("status") or {}).get("boundVolumeSnapshotContentName")
        if content:
            waiting.wait_gone(cluster, "VolumeSnapshotContent", content, timeout, out)
