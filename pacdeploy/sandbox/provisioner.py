"""The sandbox's storage: what minikube's storage-provisioner and csi-hostpath driver do.

KWOK simulates kubelets but ships no storage. This process plays the external provisioner
for the sandbox's classes: for each pending claim it creates a PersistentVolume pre-bound to
that claim (hostPath for `standard`, a CSI volume of hostpath.csi.k8s.io for
`csi-hostpath-sc`, both a real directory), and the real PV controller in
kube-controller-manager does the binding. Released volumes of reclaimPolicy Delete are
deleted with their directory.

It is also the CSI driver's snapshot side (external-snapshotter's csi-snapshotter sidecar):
the real snapshot-controller creates a VolumeSnapshotContent per VolumeSnapshot, and here a
snapshot is a copy of the volume's directory; a claim whose dataSource is a VolumeSnapshot
is provisioned as a copy of it, as the external-provisioner would. What cannot be done is
told on the claim as a ProvisioningFailed event, the way real provisioners tell it.

It reacts to watch events on claims, volumes and snapshot contents (list, then watch from
the list's version; 410 Gone or a broken stream: list again), so an idle cluster costs it
no requests.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pacdeploy import storage
from pacdeploy.errors import Conflict, PacdeployError, WatchExpired
from pacdeploy.kube.client import Cluster, connect
from pacdeploy.sandbox.objects import CSI_DRIVER, STORAGE_CLASSES

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
# external-snapshotter's names (pkg/utils/util.go): the content finalizer the sidecar lifts
# once the snapshot is gone, and the annotation saying the controller wants it gone.
CONTENT_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
BEING_DELETED = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
COMPONENT = f"{CSI_DRIVER}_sandbox-provisioner"
# A full reconcile also runs this often, in case a change slipped between list and watch.
RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0  # after a failed list or watch (the API server may be restarting)
WATCHED = ("PersistentVolumeClaim", "PersistentVolume", "VolumeSnapshotContent")

log = logging.getLogger("pacdeploy.provisioner")


class CannotProvision(Exception):
    """Why a claim stays Pending, as its ProvisioningFailed event says."""


def volume_for(claim: dict[str, Any], storage_class: dict[str, Any], root: Path) -> dict[str, Any]:
    """The PersistentVolume that satisfies ``claim``, pre-bound to it."""
    meta = claim["metadata"]
    name = f"pvc-{meta['uid']}"
    path = str(root / name)
    driver = storage_class["provisioner"]
    if driver == CSI_DRIVER:
        source: dict[str, Any] = {
            "csi": {"driver": driver, "volumeHandle": name, "volumeAttributes": {"path": path}}
        }
    else:
        source = {"hostPath": {"path": path, "type": "DirectoryOrCreate"}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: driver}},
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
            **source,
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


def volume_path(pv: dict[str, Any]) -> Path | None:
    """The directory behind a volume, as a minikube user would find it from its PV."""
    spec = pv.get("spec", {})
    if "hostPath" in spec:
        return Path(spec["hostPath"]["path"])
    path = (spec.get("csi") or {}).get("volumeAttributes", {}).get("path")
    return Path(path) if path else None


def snapshot_source(claim: dict[str, Any]) -> str | None:
    """The VolumeSnapshot a claim is to be restored from, if any."""
    for key in ("dataSourceRef", "dataSource"):
        source = claim["spec"].get(key) or {}
        if source.get("kind") == "VolumeSnapshot" and source.get("apiGroup") == SNAPSHOT_GROUP:
            return str(source["name"])
    return None


def claims_to_provision(
    claims: list[dict[str, Any]],
    classes: dict[str, dict[str, Any]],
    volumes: dict[str, dict[str, Any]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(claim, its class) for each pending claim of our classes that has no volume yet."""
    defaults = storage.defaults(list(classes.values()))
    fallback = defaults[0] if defaults else None
    todo = []
    for claim in claims:
        if claim["spec"].get("volumeName") or claim.get("status", {}).get("phase") != "Pending":
            continue
        class_name = claim["spec"].get("storageClassName") or fallback
        if class_name in classes and f"pvc-{claim['metadata']['uid']}" not in volumes:
            todo.append((claim, classes[class_name]))
    return todo


def released_volumes(volumes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Our volumes whose claim is gone and whose class says Delete."""
    return [
        pv
        for pv in volumes.values()
        if pv["metadata"].get("annotations", {}).get(PROVISIONED_BY) in STORAGE_CLASSES.values()
        and pv.get("status", {}).get("phase") == "Released"
        and pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
    ]


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


class Provisioner:
    """One reconcile pass at a time over the cluster's claims, volumes and snapshots."""

    def __init__(self, cluster: Cluster, volumes: Path, snapshots: Path) -> None:
        self.cluster = cluster
        self.volumes = volumes
        self.snapshots = snapshots
        self._told: dict[str, str] = {}  # claim uid -> the failure last told in an event

    def reconcile(self) -> None:
        classes = {
            sc["metadata"]["name"]: sc
            for sc in self.cluster.list("StorageClass")
            if sc.get("provisioner") in STORAGE_CLASSES.values()
        }
        volumes = {pv["metadata"]["name"]: pv for pv in self.cluster.list("PersistentVolume")}
        for content in self._contents():
            action = content_action(content)
            if action == "create":
                self._cut(content, volumes)
            elif action == "delete":
                self._drop(content)
        for claim, storage_class in claims_to_provision(
            self.cluster.list("PersistentVolumeClaim"), classes, volumes
        ):
            self._provision(claim, storage_class)
        for pv in released_volumes(volumes):
            self.cluster.delete("PersistentVolume", pv["metadata"]["name"])
            if path := volume_path(pv):
                shutil.rmtree(path, ignore_errors=True)
            log.info("deleted released volume %s", pv["metadata"]["name"])

    def _contents(self) -> list[dict[str, Any]]:
        try:
            return self.cluster.list("VolumeSnapshotContent")
        except PacdeployError as exc:  # the CRDs may not be installed (yet)
            log.debug("no snapshot contents: %s", exc)
            return []

    # -- volumes ------------------------------------------------------------------
    def _provision(self, claim: dict[str, Any], storage_class: dict[str, Any]) -> None:
        meta = claim["metadata"]
        pv = volume_for(claim, storage_class, self.volumes)
        target = volume_path(pv)
        assert target is not None  # volume_for always sets one
        try:
            origin = self._restore_source(claim, storage_class)
        except CannotProvision as exc:
            self._tell(claim, str(exc))
            return
        if origin is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            shutil.rmtree(target, ignore_errors=True)  # a half copy from an interrupted try
            shutil.copytree(origin, target, symlinks=True)
        try:
            self.cluster.create(pv)
        except Conflict:
            return  # created by an earlier, retried request
        restored = f" from snapshot {snapshot_source(claim)}" if origin else ""
        log.info(
            "provisioned %s for %s/%s%s",
            pv["metadata"]["name"],
            meta["namespace"],
            meta["name"],
            restored,
        )

    def _restore_source(self, claim: dict[str, Any], storage_class: dict[str, Any]) -> Path | None:
        """The snapshot directory a claim is restored from; None for an empty volume."""
        name = snapshot_source(claim)
        if name is None:
            return None
        ns = claim["metadata"]["namespace"]
        where = f"error getting handle for DataSource Type VolumeSnapshot by Name {name}"
        snapshot = self.cluster.get("VolumeSnapshot", name, ns)
        if snapshot is None:
            raise CannotProvision(f'{where}: volumesnapshots.{SNAPSHOT_GROUP} "{name}" not found')
        if snapshot["metadata"].get("deletionTimestamp"):
            raise CannotProvision(f"{where}: snapshot {name} is currently being deleted")
        status = snapshot.get("status") or {}
        if not status.get("readyToUse") or not status.get("boundVolumeSnapshotContentName"):
            raise CannotProvision(f"{where}: snapshot {name} is not Ready")
        content = self.cluster.get(
            "VolumeSnapshotContent", status["boundVolumeSnapshotContentName"]
        )
        handle = ((content or {}).get("status") or {}).get("snapshotHandle")
        if content is None or content["spec"]["driver"] != storage_class["provisioner"]:
            raise CannotProvision(
                f"{where}: snapshot {name} is not of driver {storage_class['provisioner']}"
            )
        origin = self.snapshots / str(handle)
        if not handle or not origin.is_dir():
            raise CannotProvision(f"{where}: snapshot data {handle} not found on the driver")
        return origin

    def _tell(self, claim: dict[str, Any], message: str) -> None:
        """A Warning event on the claim, once per distinct message (kubectl describe shows it)."""
        meta = claim["metadata"]
        if self._told.get(meta["uid"]) == message:
            return
        self._told[meta["uid"]] = message
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": meta["namespace"],
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "reason": "ProvisioningFailed",
            "message": message,
            "type": "Warning",
            "source": {"component": COMPONENT},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self.cluster.create(event)
        log.info("%s/%s: %s", meta["namespace"], meta["name"], message)

    # -- snapshots ----------------------------------------------------------------
    def _cut(self, content: dict[str, Any], volumes: dict[str, dict[str, Any]]) -> None:
        """CreateSnapshot: copy the volume's directory; report it ready on the content."""
        handle = content["spec"]["source"]["volumeHandle"]
        pv = next(
            (
                v
                for v in volumes.values()
                if (v["spec"].get("csi") or {}).get("volumeHandle") == handle
            ),
            None,
        )
        source = volume_path(pv) if pv else None
        if source is None or not source.is_dir():
            log.warning("snapshot %s: volume %s not found", content["metadata"]["name"], handle)
            return
        snapshot_handle = f"snap-{content['metadata']['uid']}"
        target = self.snapshots / snapshot_handle
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        from kubernetes.utils import parse_quantity

        status = {
            "snapshotHandle": snapshot_handle,
            "readyToUse": True,
            "creationTime": time.time_ns(),
            # As the hostpath driver reports it: the source volume's capacity.
            "restoreSize": int(parse_quantity(pv["spec"]["capacity"]["storage"])),
        }
        self.cluster.merge_patch(
            "VolumeSnapshotContent",
            content["metadata"]["name"],
            {"status": status},
            subresource="status",
        )
        log.info("snapshot %s of %s cut", snapshot_handle, handle)

    def _drop(self, content: dict[str, Any]) -> None:
        """DeleteSnapshot (if the policy says so), then lift the finalizer."""
        meta, status = content["metadata"], content.get("status") or {}
        handle = status.get("snapshotHandle")
        if content["spec"].get("deletionPolicy") == "Delete" and handle:
            shutil.rmtree(self.snapshots / handle, ignore_errors=True)
        finalizers = [f for f in meta.get("finalizers") or [] if f != CONTENT_FINALIZER]
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        try:
            self.cluster.merge_patch("VolumeSnapshotContent", meta["name"], patch)
        except Conflict:
            return  # changed meanwhile: the next pass sees the new version
        log.info("snapshot %s deleted", handle)


def _watch(cluster: Cluster, kind: str, changed: threading.Event, stop: threading.Event) -> None:
    """Set ``changed`` on every change of ``kind``, forever: list, watch, repeat."""
    while not stop.is_set():
        try:
            _, version = cluster.list_with_version(kind)
            changed.set()  # whatever happened before this list
            for _event in cluster.watch(kind, resource_version=version):
                changed.set()
        except WatchExpired:
            continue
        except PacdeployError as exc:
            log.warning("watching %s failed: %s", kind, exc)
            stop.wait(RETRY_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--volumes", required=True, type=Path)
    parser.add_argument("--snapshots", required=True, type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop, changed = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = connect(args.kubeconfig)
    provisioner = Provisioner(cluster, args.volumes, args.snapshots)
    for kind in WATCHED:
        threading.Thread(target=_watch, args=(cluster, kind, changed, stop), daemon=True).start()
    while not stop.is_set():
        changed.wait(RESYNC_SECONDS)
        changed.clear()
        if stop.is_set():
            break
        try:
            provisioner.reconcile()
        except PacdeployError as exc:
            # The API server may be restarting (tests do that on purpose): try again.
            log.warning("reconcile failed: %s", exc)
            stop.wait(RETRY_SECONDS)
            changed.set()


if __name__ == "__main__":
    main()
