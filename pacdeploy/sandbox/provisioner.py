"""The sandbox's volume provisioner: what minikube's storage-provisioner does, for KWOK.

KWOK simulates kubelets but ships no storage. This process plays the external provisioner
for the sandbox's classes: for each pending claim it creates a hostPath PersistentVolume
pre-bound to that claim, and the real PV controller in kube-controller-manager does the
binding. Released volumes of class reclaimPolicy Delete are deleted with their directory.

It reacts to watch events on claims and volumes (list, then watch from the list's version;
410 Gone or a broken stream: list again), so an idle cluster costs it no requests.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

from pacdeploy import storage
from pacdeploy.errors import Conflict, PacdeployError, WatchExpired
from pacdeploy.kube.client import Cluster, connect
from pacdeploy.sandbox.objects import STORAGE_CLASSES

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
# A full reconcile also runs this often, in case a change slipped between list and watch.
RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0  # after a failed list or watch (the API server may be restarting)

log = logging.getLogger("pacdeploy.provisioner")


def volume_for(claim: dict[str, Any], storage_class: dict[str, Any], root: Path) -> dict[str, Any]:
    """The PersistentVolume that satisfies ``claim``, pre-bound to it."""
    meta = claim["metadata"]
    name = f"pvc-{meta['uid']}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {PROVISIONED_BY: storage_class["provisioner"]},
        },
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
            "hostPath": {"path": str(root / name), "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


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


def reconcile(cluster: Cluster, root: Path) -> None:
    classes = {
        sc["metadata"]["name"]: sc
        for sc in cluster.list("StorageClass")
        if sc.get("provisioner") in STORAGE_CLASSES.values()
    }
    volumes = {pv["metadata"]["name"]: pv for pv in cluster.list("PersistentVolume")}
    for claim, storage_class in claims_to_provision(
        cluster.list("PersistentVolumeClaim"), classes, volumes
    ):
        pv = volume_for(claim, storage_class, root)
        Path(pv["spec"]["hostPath"]["path"]).mkdir(parents=True, exist_ok=True)
        try:
            cluster.create(pv)
        except Conflict:
            continue  # created by an earlier, retried request
        meta = claim["metadata"]
        log.info(
            "provisioned %s for %s/%s", pv["metadata"]["name"], meta["namespace"], meta["name"]
        )
    for pv in released_volumes(volumes):
        cluster.delete("PersistentVolume", pv["metadata"]["name"])
        shutil.rmtree(pv["spec"]["hostPath"]["path"], ignore_errors=True)
        log.info("deleted released volume %s", pv["metadata"]["name"])


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
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop, changed = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = connect(args.kubeconfig)
    for kind in ("PersistentVolumeClaim", "PersistentVolume"):
        threading.Thread(target=_watch, args=(cluster, kind, changed, stop), daemon=True).start()
    while not stop.is_set():
        changed.wait(RESYNC_SECONDS)
        changed.clear()
        if stop.is_set():
            break
        try:
            reconcile(cluster, args.volumes)
        except PacdeployError as exc:
            # The API server may be restarting (tests do that on purpose): try again.
            log.warning("reconcile failed: %s", exc)
            stop.wait(RETRY_SECONDS)
            changed.set()


if __name__ == "__main__":
    main()
