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

It works as a controller does (informer.py): a cache per kind kept by list and watch, and a
work queue of the objects that changed, each handled by itself and idempotently. An idle
cluster costs it no requests; a burst of changes to other drivers' volumes costs a glance
each and no place in the queue, and one elsewhere a queue entry each.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pacdeploy.app import storage
from pacdeploy.errors import Conflict, PacdeployError
from pacdeploy.kube.client import Cluster, connect
from pacdeploy.kube.resources import name_of
from pacdeploy.sandbox import csi_snapshots
from pacdeploy.sandbox.informer import Informer, Key, WorkQueue, key_of
from pacdeploy.sandbox.objects import CSI_DRIVER, STORAGE_CLASSES

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
# external-snapshotter's names (pkg/utils/util.go): the content finalizer the sidecar lifts
# once the snapshot is gone, and the annotation saying the controller wants it gone.
COMPONENT = f"{CSI_DRIVER}_sandbox-provisioner"
# A full reconcile also runs this often, in case a change slipped between list and watch.
RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0  # before an object whose handling failed is handled again
WATCHED = ("StorageClass", "PersistentVolumeClaim", "PersistentVolume", "VolumeSnapshotContent")

log = logging.getLogger("pacdeploy.provisioner")


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
            "storageClassName": name_of(storage_class),
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


def to_provision(
    claim: dict[str, Any],
    classes: dict[str, dict[str, Any]],
    has_volume: Callable[[str], bool],
) -> dict[str, Any] | None:
    """The class to provision ``claim`` with: a pending claim of our classes without a volume."""
    if claim["spec"].get("volumeName") or claim.get("status", {}).get("phase") != "Pending":
        return None
    defaults = storage.defaults(list(classes.values()))
    class_name = claim["spec"].get("storageClassName") or (defaults[0] if defaults else None)
    if class_name in classes and not has_volume(f"pvc-{claim['metadata']['uid']}"):
        return classes[class_name]
    return None


def to_resize(claim: dict[str, Any], classes: dict[str, dict[str, Any]]) -> str | None:
    """The size a bound claim of an expandable class of ours asks to grow to, else None:
    the external-resizer's job, which the sandbox plays (the volume is a directory, so any
    size fits; its bytes stay as they are)."""
    from pacdeploy.release.resize import capacity, quantity, requested

    have = capacity(claim)
    storage_class = classes.get(claim["spec"].get("storageClassName") or "")
    if not (storage_class or {}).get("allowVolumeExpansion") or have is None:
        return None
    if claim.get("status", {}).get("phase") != "Bound" or not claim["spec"].get("volumeName"):
        return None
    wanted = requested(claim)
    return wanted if quantity(wanted) > quantity(have) else None


def is_ours(pv: dict[str, Any]) -> bool:
    """A volume this provisioner made: the only volumes it can owe anything."""
    return pv["metadata"].get("annotations", {}).get(PROVISIONED_BY) in STORAGE_CLASSES.values()


def is_released(pv: dict[str, Any]) -> bool:
    """One of our volumes whose claim is gone and whose class says Delete."""
    return (
        is_ours(pv)
        and pv.get("status", {}).get("phase") == "Released"
        and pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
    )


# What each informer caches: of the volumes, only ours (a shared cluster's thousands of
# others would fill the queue ahead of our own claims' and snapshots' changes).
KEEP: dict[str, Callable[[dict[str, Any]], bool]] = {"PersistentVolume": is_ours}


class Provisioner:
    """Handles one changed object at a time, from the informers' caches."""

    def __init__(
        self, cluster: Cluster, volumes: Path, snapshots: Path, *, caches: dict[str, Informer]
    ) -> None:
        self.cluster = cluster
        self.volumes = volumes
        self.snapshots = snapshots
        self.caches = caches
        self._told: dict[str, str] = {}  # claim uid -> the failure last told in an event

    def handle(self, key: Key) -> None:
        obj = self.caches[key[0]].get(key)
        if key[0] == "StorageClass":  # a class appeared or changed: its claims may be due
            for claim in self.caches["PersistentVolumeClaim"].items():
                self.handle(key_of("PersistentVolumeClaim", claim))
        if obj is None:
            return  # deleted: nothing is owed to what is gone
        if key[0] == "PersistentVolumeClaim":
            self._claim_changed(obj)
        elif key[0] == "PersistentVolume" and is_released(obj):
            # A second event of the same volume may come before its deletion: said once.
            if self.cluster.delete("PersistentVolume", name_of(obj)):
                log.info("deleted released volume %s", name_of(obj))
            if path := volume_path(obj):
                shutil.rmtree(path, ignore_errors=True)
        elif key[0] == "VolumeSnapshotContent":
            action = csi_snapshots.content_action(obj)
            if action == "create":
                handle = obj["spec"]["source"]["volumeHandle"]  # our handles: the PV's name
                pv = self.caches["PersistentVolume"].get(("PersistentVolume", "", handle))
                source, size = None, "0"
                if pv is not None and (pv["spec"].get("csi") or {}).get("volumeHandle") == handle:
                    source, size = volume_path(pv), pv["spec"]["capacity"]["storage"]
                csi_snapshots.cut(self.cluster, obj, source, size=size, snapshots=self.snapshots)
            elif action == "delete":
                csi_snapshots.drop(self.cluster, obj, self.snapshots)

    def _claim_changed(self, claim: dict[str, Any]) -> None:
        classes = {
            name_of(sc): sc
            for sc in self.caches["StorageClass"].items()
            if sc.get("provisioner") in STORAGE_CLASSES.values()
        }
        if (storage_class := to_provision(claim, classes, self._has_volume)) is not None:
            self._provision(claim, storage_class)
        elif (size := to_resize(claim, classes)) is not None:
            self._resize(claim, size)

    def _has_volume(self, name: str) -> bool:
        return self.caches["PersistentVolume"].get(("PersistentVolume", "", name)) is not None

    # -- volumes ------------------------------------------------------------------
    def _provision(self, claim: dict[str, Any], storage_class: dict[str, Any]) -> None:
        meta = claim["metadata"]
        pv = volume_for(claim, storage_class, self.volumes)
        target = volume_path(pv)
        assert target is not None  # volume_for always sets one
        try:
            origin = csi_snapshots.restore_source(
                self.cluster, claim, storage_class, snapshots=self.snapshots
            )
        except csi_snapshots.CannotProvision as exc:
            self._tell(claim, str(exc))
            raise  # asked again shortly: the snapshot may yet become ready
        if origin is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            shutil.rmtree(target, ignore_errors=True)  # a half copy from an interrupted try
            shutil.copytree(origin, target, symlinks=True)
        try:
            self.cluster.create(pv)
        except Conflict:
            return  # made by an earlier pass, not yet in the cache
        restored = f" from snapshot {csi_snapshots.snapshot_source(claim)}" if origin else ""
        log.info(
            "provisioned %s for %s/%s%s",
            name_of(pv),
            meta["namespace"],
            meta["name"],
            restored,
        )

    def _resize(self, claim: dict[str, Any], size: str) -> None:
        """As an external-resizer whose driver grows a volume online, with no node step:
        the volume's capacity first, then the claim's status says it is done."""
        meta = claim["metadata"]
        volume = claim["spec"]["volumeName"]
        self.cluster.merge_patch(
            "PersistentVolume", volume, {"spec": {"capacity": {"storage": size}}}
        )
        status = {
            "capacity": {"storage": size},
            "allocatedResources": {"storage": size},
            "allocatedResourceStatuses": None,
            "conditions": None,
        }
        self.cluster.merge_patch(
            "PersistentVolumeClaim",
            meta["name"],
            {"status": status},
            namespace=meta["namespace"],
            subresource="status",
        )
        log.info("resized %s for %s/%s to %s", volume, meta["namespace"], meta["name"], size)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--volumes", required=True, type=Path)
    parser.add_argument("--snapshots", required=True, type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = connect(args.kubeconfig)
    queue = WorkQueue()
    caches = {kind: Informer(cluster, kind, queue, keep=KEEP.get(kind)) for kind in WATCHED}
    for informer in caches.values():
        threading.Thread(target=informer.run, args=(stop,), daemon=True).start()
    provisioner = Provisioner(cluster, args.volumes, args.snapshots, caches=caches)
    resync = time.monotonic() + RESYNC_SECONDS
    while not stop.is_set():
        if (key := queue.get(timeout=0.5)) is not None:
            try:
                provisioner.handle(key)
            except (PacdeployError, csi_snapshots.CannotProvision) as exc:
                # The API server may be restarting, a snapshot not ready yet: ask again soon.
                log.debug("%s: %s", "/".join(k for k in key if k), exc)
                threading.Timer(RETRY_SECONDS, queue.add, args=(key,)).start()
        if time.monotonic() >= resync:  # a change that slipped between list and watch
            resync = time.monotonic() + RESYNC_SECONDS
            for kind, informer in caches.items():
                for obj in informer.items():
                    queue.add(key_of(kind, obj))


if __name__ == "__main__":
    main()
