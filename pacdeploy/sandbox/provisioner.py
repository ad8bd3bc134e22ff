"""The sandbox's volume provisioner: what minikube's storage-provisioner does, for KWOK.

KWOK simulates kubelets but ships no storage. This loop plays the external provisioner for
the sandbox's classes: for each pending claim it creates a hostPath PersistentVolume
pre-bound to that claim, and the real PV controller in kube-controller-manager does the
binding. Released volumes of class reclaimPolicy Delete are deleted with their directory.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

from pacdeploy.cluster import Cluster, connect
from pacdeploy.errors import Conflict, PacdeployError
from pacdeploy.sandbox.objects import DEFAULT_CLASS_ANNOTATION, STORAGE_CLASSES

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
# Short: claims bind within ~0.1s, like a real provisioner reacting to a watch event.
INTERVAL = 0.1

log = logging.getLogger("pacdeploy.provisioner")


def default_class(classes: dict[str, dict[str, Any]]) -> str | None:
    defaults = [
        name
        for name, sc in classes.items()
        if sc.get("metadata", {}).get("annotations", {}).get(DEFAULT_CLASS_ANNOTATION) == "true"
    ]
    return sorted(defaults)[0] if defaults else None


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


def reconcile(cluster: Cluster, root: Path) -> None:
    classes = {
        sc["metadata"]["name"]: sc
        for sc in cluster.list("StorageClass")
        if sc.get("provisioner") in STORAGE_CLASSES.values()
    }
    volumes = {pv["metadata"]["name"]: pv for pv in cluster.list("PersistentVolume")}
    fallback = default_class(classes)
    for claim in cluster.list("PersistentVolumeClaim"):
        if claim["spec"].get("volumeName") or claim.get("status", {}).get("phase") != "Pending":
            continue
        class_name = claim["spec"].get("storageClassName") or fallback
        if class_name not in classes or f"pvc-{claim['metadata']['uid']}" in volumes:
            continue
        pv = volume_for(claim, classes[class_name], root)
        Path(pv["spec"]["hostPath"]["path"]).mkdir(parents=True, exist_ok=True)
        try:
            cluster.create(pv)
        except Conflict:
            continue  # created by an earlier, retried request
        log.info("provisioned %s for %s/%s", pv["metadata"]["name"], *_claim_key(claim))
    for pv in volumes.values():
        ours = pv["metadata"].get("annotations", {}).get(PROVISIONED_BY) in STORAGE_CLASSES.values()
        released = pv.get("status", {}).get("phase") == "Released"
        if ours and released and pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            cluster.delete("PersistentVolume", pv["metadata"]["name"])
            shutil.rmtree(pv["spec"]["hostPath"]["path"], ignore_errors=True)
            log.info("deleted released volume %s", pv["metadata"]["name"])


def _claim_key(claim: dict[str, Any]) -> tuple[str, str]:
    return claim["metadata"]["namespace"], claim["metadata"]["name"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--volumes", required=True, type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = connect(args.kubeconfig)
    while not stop.is_set():
        try:
            reconcile(cluster, args.volumes)
        except PacdeployError as exc:
            # The API server may be restarting (tests do that on purpose): try again.
            log.warning("reconcile failed: %s", exc)
        stop.wait(INTERVAL)


if __name__ == "__main__":
    main()
