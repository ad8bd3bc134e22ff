"""The sandbox CSI driver's snapshot side, as external-snapshotter's csi-snapshotter sidecar
plays it for a real driver (its rules read from v8.7.0's source): the real snapshot
controller makes a VolumeSnapshotContent per VolumeSnapshot, and here a snapshot is a copy
of the volume's directory; a claim restored from a snapshot is provisioned as a copy of it.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from pacdeploy.errors import Conflict
from pacdeploy.kube import official
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of
from pacdeploy.sandbox.objects import CSI_DRIVER

# external-snapshotter's names (pkg/utils/util.go): the content finalizer the sidecar lifts
# once the snapshot is gone, and the annotation saying the controller wants it gone.
CONTENT_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
BEING_DELETED = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"

log = logging.getLogger("pacdeploy.provisioner")


class CannotProvision(Exception):
    """Why a claim stays Pending, as its ProvisioningFailed event says."""


def snapshot_source(claim: dict[str, Any]) -> str | None:
    """The VolumeSnapshot a claim is to be restored from, if any."""
    for key in ("dataSourceRef", "dataSource"):
        source = claim["spec"].get(key) or {}
        if source.get("kind") == "VolumeSnapshot" and source.get("apiGroup") == SNAPSHOT_GROUP:
            return str(source["name"])
    return None


def content_action(content: dict[str, Any]) -> str | None:
    """What the driver's snapshot side owes a VolumeSnapshotContent: create, delete, or None.

    The sidecar's rules: a content being deleted (the controller's annotation set) loses its
    snapshot if its policy says Delete, then its finalizer; a dynamically provisioned one
    with no status yet gets its snapshot cut.
    """
    spec, meta = content["spec"], content["metadata"]
    if spec.get("driver") != CSI_DRIVER:
        return None
    if meta.get("deletionTimestamp"):
        unbound = "snapshotHandle" in spec["source"] and not spec["volumeSnapshotRef"].get("uid")
        being_deleted = BEING_DELETED in (meta.get("annotations") or {})
        if (unbound or being_deleted) and CONTENT_FINALIZER in (meta.get("finalizers") or []):
            return "delete"
        return None
    if spec["source"].get("volumeHandle") and not content.get("status"):
        return "create"
    return None


def restore_source(
    cluster: Cluster, claim: dict[str, Any], storage_class: dict[str, Any], *, snapshots: Path
) -> Path | None:
    """The snapshot directory a claim is restored from; None for an empty volume."""
    name = snapshot_source(claim)
    if name is None:
        return None
    ns = claim["metadata"]["namespace"]
    where = f"error getting handle for DataSource Type VolumeSnapshot by Name {name}"
    snapshot = cluster.get("VolumeSnapshot", name, ns)
    if snapshot is None:
        raise CannotProvision(f'{where}: volumesnapshots.{SNAPSHOT_GROUP} "{name}" not found')
    if snapshot["metadata"].get("deletionTimestamp"):
        raise CannotProvision(f"{where}: snapshot {name} is currently being deleted")
    status = snapshot.get("status") or {}
    if not status.get("readyToUse") or not status.get("boundVolumeSnapshotContentName"):
        raise CannotProvision(f"{where}: snapshot {name} is not Ready")
    content = cluster.get("VolumeSnapshotContent", status["boundVolumeSnapshotContentName"])
    handle = ((content or {}).get("status") or {}).get("snapshotHandle")
    if content is None or content["spec"]["driver"] != storage_class["provisioner"]:
        raise CannotProvision(
            f"{where}: snapshot {name} is not of driver {storage_class['provisioner']}"
        )
    origin = snapshots / str(handle)
    if not handle or not origin.is_dir():
        raise CannotProvision(f"{where}: snapshot data {handle} not found on the driver")
    return origin


def cut(
    cluster: Cluster, content: dict[str, Any], source: Path | None, *, size: str, snapshots: Path
) -> None:
    """CreateSnapshot: copy the volume's directory ``source`` (of capacity ``size``); report
    it ready on the content."""
    handle = content["spec"]["source"]["volumeHandle"]
    if source is None or not source.is_dir():
        log.warning("snapshot %s: volume %s not found", name_of(content), handle)
        return
    snapshot_handle = f"snap-{content['metadata']['uid']}"
    target = snapshots / snapshot_handle
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    status = {
        "snapshotHandle": snapshot_handle,
        "readyToUse": True,
        "creationTime": time.time_ns(),
        # As the hostpath driver reports it: the source volume's capacity.
        "restoreSize": int(official.parse_quantity(size)),
    }
    cluster.merge_patch(
        "VolumeSnapshotContent",
        name_of(content),
        {"status": status},
        subresource="status",
    )
    log.info("snapshot %s of %s cut", snapshot_handle, handle)


def drop(cluster: Cluster, content: dict[str, Any], snapshots: Path) -> None:
    """DeleteSnapshot (if the policy says so), then lift the finalizer."""
    meta, status = content["metadata"], content.get("status") or {}
    handle = status.get("snapshotHandle")
    if content["spec"].get("deletionPolicy") == "Delete" and handle:
        shutil.rmtree(snapshots / handle, ignore_errors=True)
    finalizers = [f for f in meta.get("finalizers") or [] if f != CONTENT_FINALIZER]
    patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
    try:
        cluster.merge_patch("VolumeSnapshotContent", meta["name"], patch)
    except Conflict:
        return  # changed meanwhile: the next pass sees the new version
    log.info("snapshot %s deleted", handle)
