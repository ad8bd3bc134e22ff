"""The CSI snapshot API as pacdeploy uses it: which VolumeSnapshotClass, whether a
snapshot is ready and why not, and waiting for snapshots to be ready or gone.

A cluster without the snapshot API, or without a class for the volumes' driver, gets one
line saying how to enable it (NoSnapshots, exit 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pacdeploy.errors import InvalidInput, NotFound, NotReady
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import SNAPSHOT_API, annotations_of, name_of
from pacdeploy.kube.watch import Selection
from pacdeploy.output import Output, Row
from pacdeploy.wait import changes, gone
from pacdeploy.wait.polling import Deadline
from pacdeploy.wait.readiness import last_said

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import Event, VolumeSnapshot, VolumeSnapshotClass

DEFAULT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"
EVENTS_AFTER = 1.0  # seconds before a slow snapshot's events are read to say why
EVENTS_EVERY = 1.0  # and then at most this often

ENABLE = (
    "Install the VolumeSnapshot CRDs and snapshot-controller "
    "(minikube: `minikube addons enable volumesnapshots`)"
)


class NoSnapshots(NotFound):
    """The cluster cannot snapshot these volumes (exit 7, like any missing prerequisite)."""


def choose_class(
    classes: list[VolumeSnapshotClass], driver: str, storage_class: str, *, requested: str | None
) -> str:
    """The VolumeSnapshotClass for ``driver``: the one asked for, else its default, else
    its only one."""
    if requested is not None:
        chosen = next((c for c in classes if name_of(c) == requested), None)
        if chosen is None:
            have = ", ".join(sorted(name_of(c) for c in classes)) or "none"
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
    matching = sorted((c for c in classes if c.get("driver") == driver), key=name_of)
    defaults = [c for c in matching if annotations_of(c).get(DEFAULT_CLASS) == "true"]
    if not matching:
        raise NoSnapshots(
            f"no VolumeSnapshotClass for driver {driver} (of StorageClass {storage_class})",
            "Create one for that driver, or deploy on a CSI class that snapshots "
            "(minikube: `minikube addons enable volumesnapshots`, then "
            "`pacdeploy up --storage-class csi-hostpath-sc`)",
        )
    return name_of((defaults or matching)[0])


def is_ready(snapshot: VolumeSnapshot) -> bool:
    return bool((snapshot.get("status") or {}).get("readyToUse"))


def why_not_ready(snapshot: VolumeSnapshot, events: list[Event]) -> str:
    """What a snapshot waits on, in the controller's own words where it has said any."""
    status = snapshot.get("status") or {}
    if error := (status.get("error") or {}).get("message"):
        return f"error: {error}"
    if said := last_said(snapshot, events):
        return said
    if not status.get("boundVolumeSnapshotContentName"):
        return "waiting for the snapshot controller to bind a snapshot content"
    return "waiting for the CSI driver to cut the snapshot"


def list_kind(
    cluster: Cluster, kind: str, namespace: str | None = None, *, selector: str | None = None
) -> list[dict[str, Any]]:
    """A list of one of the snapshot API's kinds; NoSnapshots if the cluster lacks the API."""
    try:
        return cluster.list(kind, namespace, label_selector=selector)
    except NotFound:
        raise NoSnapshots(
            f"this cluster does not serve the VolumeSnapshot API ({SNAPSHOT_API})", ENABLE
        ) from None


def classes(cluster: Cluster) -> list[VolumeSnapshotClass]:
    return cast("list[VolumeSnapshotClass]", list_kind(cluster, "VolumeSnapshotClass"))


def is_cut(snapshot: VolumeSnapshot) -> bool:
    """Its point in time is taken (the data may still be on its way to readyToUse)."""
    status = snapshot.get("status") or {}
    return bool(status.get("creationTime") or status.get("readyToUse"))


def watched(
    cluster: Cluster, namespace: str, selector: str, *, deadline: Deadline
) -> Iterator[tuple[float, list[VolumeSnapshot]]]:
    """The selected snapshots at each change (changes.py), until ``deadline``."""
    found = changes.selection(
        cluster,
        Selection("VolumeSnapshot", namespace, label_selector=selector),
        deadline=deadline,
        read=lambda: list_kind(cluster, "VolumeSnapshot", namespace, selector=selector),
    )
    return cast("Iterator[tuple[float, list[VolumeSnapshot]]]", found)


def wait_cut(cluster: Cluster, namespace: str, selector: str, *, deadline: Deadline) -> bool:
    """Whether every selected snapshot is cut within ``deadline`` (mongo's lock)."""
    for _, found in watched(cluster, namespace, selector, deadline=deadline):
        if found and all(is_cut(s) for s in found):
            return True
    return False


@dataclass(frozen=True)
class Awaited:
    """Snapshots to wait for: how they are named to people, their selector, and what to do
    if they are not ready in time."""

    what: str
    selector: str
    fix: str


def wait_ready(
    cluster: Cluster, namespace: str, awaited: Awaited, *, timeout: float, out: Output
) -> list[VolumeSnapshot]:
    """Until every selected snapshot is readyToUse, saying what each waits on (in the
    controller's words, from the Events of the slow ones, read once a second at most)."""
    what = awaited.what
    deadline = Deadline(timeout)
    rows: list[Row] = []
    events: list[Event] = []
    events_read = -EVENTS_EVERY
    with out.board(("snapshot", "status")) as board:
        for elapsed, found in watched(cluster, namespace, awaited.selector, deadline=deadline):
            waiting = [s for s in found if not is_ready(s)]
            if waiting and elapsed >= EVENTS_AFTER and elapsed - events_read >= EVENTS_EVERY:
                events, events_read = _events(cluster, namespace, waiting), elapsed
            rows = [
                Row(
                    (name_of(s), "ready" if is_ready(s) else why_not_ready(s, events)),
                    style="ok" if is_ready(s) else "waiting",
                    key=name_of(s),
                )
                for s in found
            ]
            board.update(rows, f"waiting for {what} ({elapsed:.0f}s of {timeout:.0f}s)")
            if found and not waiting:
                board.settle([(True, f"{r.cells[0]} ready") for r in rows])
                return found
        board.settle([(r.style == "ok", r.text) for r in rows])
    details = "; ".join(r.text for r in rows if r.style != "ok") or "none created"
    raise NotReady(f"{what} not ready after {timeout:.0f}s: {details}", awaited.fix)


def _events(cluster: Cluster, namespace: str, about: list[VolumeSnapshot]) -> list[Event]:
    return cast("list[Event]", cluster.events_about(namespace, about))


def wait_deleted(
    cluster: Cluster, namespace: str, taken: list[VolumeSnapshot], *, timeout: float, out: Output
) -> None:
    """Until every snapshot of ``taken`` and the content it was bound to are gone, saying
    what holds each (the snapshot controller's finalizers while it deletes the data)."""
    for snap in taken:
        gone.wait_gone(
            cluster, "VolumeSnapshot", name_of(snap), timeout=timeout, out=out, namespace=namespace
        )
    for snap in taken:
        content = (snap.get("status") or {}).get("boundVolumeSnapshotContentName")
        if content:
            gone.wait_gone(cluster, "VolumeSnapshotContent", content, timeout=timeout, out=out)
