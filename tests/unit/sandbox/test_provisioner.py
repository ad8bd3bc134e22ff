"""The sandbox's provisioner: which volume a claim gets, what it provisions, frees and queues."""

from __future__ import annotations

from pathlib import Path

from pacdeploy.sandbox import objects
from pacdeploy.sandbox.informer import Informer, WorkQueue, key_of
from pacdeploy.sandbox.provisioner import (
    KEEP,
    is_released,
    to_provision,
    to_resize,
    volume_for,
    volume_path,
)
from tests.support.claims import claim, storage_class

CLAIM = {
    "metadata": {"name": "mongo-db-mongo-0", "namespace": "pacman", "uid": "u1"},
    "spec": {"resources": {"requests": {"storage": "1Gi"}}},
}


def _class(name: str) -> dict:
    return objects.storage_class(name, objects.STORAGE_CLASSES[name], default=False)


def test_csi_class_gets_a_csi_volume_whose_directory_is_found_from_the_pv() -> None:
    pv = volume_for(CLAIM, _class("csi-hostpath-sc"), Path("/v"))
    assert pv["spec"]["csi"]["driver"] == "hostpath.csi.k8s.io"
    assert pv["spec"]["csi"]["volumeHandle"] == "pvc-u1"
    assert "hostPath" not in pv["spec"]
    assert volume_path(pv) == Path("/v/pvc-u1")


def test_minikube_class_gets_a_hostpath_volume() -> None:
    pv = volume_for(CLAIM, _class("standard"), Path("/v"))
    assert "csi" not in pv["spec"]
    assert volume_path(pv) == Path("/v/pvc-u1")


def test_only_a_pending_claim_of_our_classes_without_a_volume_is_provisioned() -> None:
    classes = {"csi-hostpath-sc": _class("csi-hostpath-sc")}
    pending = {
        **CLAIM,
        "spec": {**CLAIM["spec"], "storageClassName": "csi-hostpath-sc"},
        "status": {"phase": "Pending"},
    }
    assert to_provision(pending, classes, lambda name: False) is classes["csi-hostpath-sc"]
    assert to_provision(pending, classes, lambda name: name == "pvc-u1") is None  # made already
    assert to_provision({**pending, "status": {"phase": "Bound"}}, classes, lambda n: False) is None
    other = {**pending, "spec": {**pending["spec"], "storageClassName": "gp3"}}
    assert to_provision(other, classes, lambda name: False) is None


def test_a_released_volume_of_ours_with_delete_goes() -> None:
    pv = volume_for(CLAIM, _class("csi-hostpath-sc"), Path("/v"))
    assert not is_released(pv)
    assert is_released({**pv, "status": {"phase": "Released"}})
    kept = {**pv, "spec": {**pv["spec"], "persistentVolumeReclaimPolicy": "Retain"}}
    assert not is_released({**kept, "status": {"phase": "Released"}})


def test_other_drivers_volumes_take_no_place_in_the_queue() -> None:
    queue = WorkQueue()
    volumes = Informer(None, "PersistentVolume", queue, keep=KEEP["PersistentVolume"])  # type: ignore[arg-type]
    ours = volume_for(CLAIM, _class("csi-hostpath-sc"), Path("/v"))
    foreign = {"metadata": {"name": "foreign-00001"}, "spec": {"hostPath": {"path": "/x"}}}
    volumes._apply("ADDED", foreign)
    volumes._apply("DELETED", foreign)
    assert len(queue) == 0 and volumes.items() == []
    volumes._apply("ADDED", ours)
    volumes._apply("DELETED", ours)
    assert queue.get(timeout=0) == key_of("PersistentVolume", ours)
    assert len(queue) == 0 and volumes.items() == []


def test_the_sandbox_resizes_only_bound_claims_of_expandable_classes():
    classes = {"csi-hostpath-sc": storage_class("csi-hostpath-sc", True)}
    assert to_resize(claim("c", "2Gi", have="1Gi"), classes) == "2Gi"
    assert to_resize(claim("c", "2Gi", have="2Gi"), classes) is None  # done
    fixed = {"csi-hostpath-sc": storage_class("csi-hostpath-sc", False)}
    assert to_resize(claim("c", "2Gi", have="1Gi"), fixed) is None
    pending = claim("c", "2Gi", have="1Gi")
    pending["status"]["phase"] = "Pending"
    assert to_resize(pending, classes) is None
