"""The sandbox's storage decisions: which volume a claim gets, what a snapshot content needs."""

from pathlib import Path

from pacdeploy.sandbox import objects
from pacdeploy.sandbox.csi_snapshots import (
    BEING_DELETED,
    CONTENT_FINALIZER,
    content_action,
    snapshot_source,
)
from pacdeploy.sandbox.informer import Informer, WorkQueue, key_of
from pacdeploy.sandbox.provisioner import (
    KEEP,
    is_released,
    to_provision,
    volume_for,
    volume_path,
)

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


def test_a_claim_names_its_snapshot_by_data_source_or_ref() -> None:
    source = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "b1"}
    assert snapshot_source({"spec": {"dataSource": source}}) == "b1"
    assert snapshot_source({"spec": {"dataSourceRef": source}}) == "b1"
    assert (
        snapshot_source({"spec": {"dataSource": {**source, "kind": "PersistentVolumeClaim"}}})
        is None
    )
    assert snapshot_source({"spec": {}}) is None


def _content(**meta: object) -> dict:
    return {
        "metadata": {"name": "c", **meta},
        "spec": {
            "driver": objects.CSI_DRIVER,
            "source": {"volumeHandle": "pvc-u1"},
            "volumeSnapshotRef": {"uid": "s1"},
            "deletionPolicy": "Delete",
        },
    }


def test_a_new_content_is_cut_once() -> None:
    assert content_action(_content()) == "create"
    assert content_action({**_content(), "status": {"readyToUse": True}}) is None


def test_another_drivers_content_is_left_alone() -> None:
    content = _content()
    content["spec"]["driver"] = "ebs.csi.aws.com"
    assert content_action(content) is None


def test_a_content_is_dropped_only_when_the_controller_says_so() -> None:
    deleting = {"deletionTimestamp": "now", "finalizers": [CONTENT_FINALIZER]}
    assert content_action(_content(**deleting)) is None  # the snapshot may still be in use
    annotated = {**deleting, "annotations": {BEING_DELETED: "yes"}}
    assert content_action(_content(**annotated)) == "delete"
    assert content_action(_content(**{**annotated, "finalizers": []})) is None


def test_the_snapshot_controller_is_stamped_with_the_version_its_module_pins() -> None:
    from pacdeploy.sandbox import binaries

    go_mod = (binaries.GOMOD_DIR / "snapshotter" / "go.mod").read_text()
    assert f"external-snapshotter/v8 {binaries.SNAPSHOTTER_VERSION}\n" in go_mod
    (controller,) = [b for b in binaries.BINARIES if b.name == "snapshot-controller"]
    assert f"-X main.version={binaries.SNAPSHOTTER_VERSION}" in controller.ldflags


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
