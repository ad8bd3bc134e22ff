"""The sandbox CSI driver's snapshot side: which snapshot a claim names, what a content needs."""

from pacdeploy.sandbox import objects
from pacdeploy.sandbox.csi_snapshots import (
    BEING_DELETED,
    CONTENT_FINALIZER,
    content_action,
    snapshot_source,
)


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
