"""Which VolumeSnapshotClass a backup uses, and why a snapshot is not ready yet."""

from __future__ import annotations

import pytest

from pacdeploy.data import snapshots
from pacdeploy.errors import InvalidInput
from tests.support.records import snapshot


def snapclass(name: str, driver: str, default: bool = False) -> dict:
    annotations = {snapshots.DEFAULT_CLASS: "true"} if default else {}
    return {"metadata": {"name": name, "annotations": annotations}, "driver": driver}


def test_the_snapshot_class_is_the_drivers_default_else_its_only_one() -> None:
    classes = [
        snapclass("a", "hostpath.csi.k8s.io"),
        snapclass("b", "hostpath.csi.k8s.io", True),
        snapclass("c", "ebs.csi.aws.com"),
    ]
    assert snapshots.choose_class(classes, "hostpath.csi.k8s.io", "sc", requested=None) == "b"
    assert snapshots.choose_class(classes, "ebs.csi.aws.com", "sc", requested=None) == "c"
    assert snapshots.choose_class(classes, "hostpath.csi.k8s.io", "sc", requested="a") == "a"


def test_a_driver_without_a_snapshot_class_says_how_to_get_one() -> None:
    with pytest.raises(snapshots.NoSnapshots) as no_class:
        snapshots.choose_class([], "k8s.io/minikube-hostpath", "standard", requested=None)
    assert no_class.value.exit_code == 7
    assert "minikube addons enable volumesnapshots" in str(no_class.value)
    with pytest.raises(InvalidInput, match=r"is for driver ebs\.csi\.aws\.com"):
        snapshots.choose_class(
            [snapclass("c", "ebs.csi.aws.com")], "hostpath.csi.k8s.io", "sc", requested="c"
        )


def test_a_waiting_snapshot_says_why_in_the_controllers_words() -> None:
    snap = snapshot("s", "b", False, "")
    assert "snapshot controller" in snapshots.why_not_ready(snap, [])
    snap["status"]["boundVolumeSnapshotContentName"] = "c"
    assert "CSI driver" in snapshots.why_not_ready(snap, [])
    event = {
        "involvedObject": {"uid": "s"},
        "reason": "SnapshotCreationFailed",
        "message": "boom",
        "lastTimestamp": "1",
    }
    assert snapshots.why_not_ready(snap, [event]) == "SnapshotCreationFailed: boom"
    snap["status"]["error"] = {"message": "driver said no"}
    assert snapshots.why_not_ready(snap, [event]) == "error: driver said no"
