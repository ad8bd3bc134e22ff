"""What restore decides: the volumes it keeps, the intent it records and resumes, the claims
it makes again."""

from __future__ import annotations

import pytest

from pacdeploy.data.kept_volumes import RECLAIM_POLICY
from pacdeploy.errors import Conflict, NotFound
from pacdeploy.restore import intent, rules


def pv(name: str, claim: str | None = None, at: str | None = None, policy: str = "Delete") -> dict:
    labels = {rules.REPLACED_CLAIM: claim, rules.REPLACED_NAMESPACE: "pacman"} if claim else {}
    annotations = {rules.REPLACED_AT: at} if at else {}
    return {
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {"persistentVolumeReclaimPolicy": policy, "storageClassName": "csi-hostpath-sc"},
    }


def test_a_kept_volume_is_retained_and_remembers_its_first_policy_and_restore() -> None:
    first = rules.keep_patch(pv("pv1"), "pacman", "mongo-db-mongo-0", rid="r-1", now="t1")
    assert first["spec"] == {"persistentVolumeReclaimPolicy": "Retain"}
    assert first["metadata"]["annotations"] == {
        RECLAIM_POLICY: "Delete",
        rules.REPLACED_AT: "t1",
        rules.RESTORE_ID: "r-1",
    }
    kept = pv("pv1", "mongo-db-mongo-0", "t1", policy="Retain")
    kept["metadata"]["annotations"].update({RECLAIM_POLICY: "Delete", rules.RESTORE_ID: "r-1"})
    again = rules.keep_patch(kept, "pacman", "mongo-db-mongo-0", rid="r-2", now="t2")
    assert again["metadata"]["annotations"] == first["metadata"]["annotations"]
    assert rules.release_patch(kept)["spec"] == {"persistentVolumeReclaimPolicy": "Delete"}


def test_undo_binds_the_volumes_that_restore_kept() -> None:
    mine = pv("first", "mongo-db-mongo-0", "t1")
    mine["metadata"]["annotations"][rules.RESTORE_ID] = "r-1"
    other = pv("later", "mongo-db-mongo-0", "t2")
    other["metadata"]["annotations"][rules.RESTORE_ID] = "r-2"
    kept = rules.kept_by([mine, other, pv("free")], "r-1")
    assert {c: v["metadata"]["name"] for c, v in kept.items()} == {"mongo-db-mongo-0": "first"}
    assert rules.kept_by([mine], "r-9") == {}


INTENT = intent.Intent("r-1", "backup b1", 3, backup="b1", safety="before-restore-x")


def choose(intent=None, last=None, backup="b1", replicas=1):
    asked = rules.Asked("pacman", backup, replicas, "r-new", "safe-new")
    return rules.choose(intent, last or {}, asked)


def test_a_new_restore_records_the_replicas_before_it_and_a_safety_backup() -> None:
    intent, resumed = choose(replicas=2)
    assert not resumed
    assert (intent.id, intent.replicas, intent.backup, intent.safety) == (
        "r-new",
        2,
        "b1",
        "safe-new",
    )


def test_an_interrupted_restore_is_finished_with_its_recorded_replicas() -> None:
    """mongo is at 0 after the kill: the replicas come from the intent, not the cluster."""
    intent, resumed = choose(INTENT, replicas=0)
    assert resumed and intent == INTENT and intent.replicas == 3


def test_undo_of_an_interrupted_restore_goes_back_to_what_it_kept() -> None:
    intent, resumed = choose(INTENT, backup=None, replicas=0)
    assert not resumed and intent.undo_of == "r-1" and intent.replicas == 3


def test_another_backup_while_one_is_interrupted_is_refused_naming_both_ways() -> None:
    with pytest.raises(Conflict) as caught:
        choose(INTENT, backup="b2")
    assert "pacdeploy restore b1 --yes -n pacman" in str(caught.value)
    assert "pacdeploy restore --undo --yes -n pacman" in str(caught.value)


def test_undo_after_a_completed_restore_restores_its_safety_backup() -> None:
    intent, _ = choose(last={"safety": "before-restore-x", "id": "r-1"}, backup=None)
    assert intent.backup == "before-restore-x" and "replaced" in intent.source
    assert intent.command("pacman") == "pacdeploy restore --undo --yes -n pacman"
    again, resumed = choose(intent, backup=None)  # --undo again finishes that undo
    assert resumed and again == intent
    intent, _ = choose(last={"kept_by": "r-1"}, backup=None)
    assert intent.undo_of == "r-1"
    with pytest.raises(NotFound):
        choose(backup=None)


def test_the_intent_survives_its_annotation() -> None:
    sts = {"metadata": {"annotations": {intent.INTENT: INTENT.dump()}}}
    assert intent.intent_of(sts) == INTENT
    assert intent.intent_of({"metadata": {"annotations": {intent.INTENT: "{oops"}}}) is None
    assert INTENT.command("pacman") == "pacdeploy restore b1 --yes -n pacman"


def test_a_restored_claim_is_like_the_old_one_but_bound_to_nothing_old() -> None:
    old = {
        "metadata": {"name": "mongo-db-mongo-0", "labels": {"name": "mongo"}, "uid": "u"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "csi-hostpath-sc",
            "volumeName": "pv-old",
        },
    }
    new = rules.from_snapshot(
        old, "mongo-db-mongo-0", "pacman", snapshot="b1-mongo-db-mongo-0", intent=INTENT
    )
    assert "volumeName" not in new["spec"] and "uid" not in new["metadata"]
    assert new["spec"]["dataSource"]["name"] == "b1-mongo-db-mongo-0"
    assert new["spec"]["storageClassName"] == "csi-hostpath-sc"
    assert rules.made_by(new, "r-1") and not rules.made_by(new, "r-2")
    back = rules.on_volume(old, "mongo-db-mongo-0", "pacman", volume=pv("pv-first"), intent=INTENT)
    assert back["spec"]["volumeName"] == "pv-first" and "dataSource" not in back["spec"]
