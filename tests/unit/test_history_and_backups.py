"""Pure decisions behind backups, restore, revisions, diff and rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pacdeploy.app.manifests import MANAGED_BY, Options, render
from pacdeploy.data import backups, retention, revisions, snapshots
from pacdeploy.data.backup_record import Backup
from pacdeploy.data.kept_volumes import RECLAIM_POLICY
from pacdeploy.data.revisions import DEPLOYED, FAILED, SUPERSEDED, Revision
from pacdeploy.errors import Conflict, InvalidInput, NotFound
from pacdeploy.kube.errors import only_own_conflicts
from pacdeploy.output import aligned
from pacdeploy.release import fields, rollback
from pacdeploy.release.fields import FieldChange, drift, dry_run_changes, field_changes
from pacdeploy.restore import rules


def rev(number: int, status: str = DEPLOYED, **kw) -> Revision:
    return Revision(number, Options(), "csi-hostpath-sc", [], f"change {number}", status, **kw)


# -- revisions -------------------------------------------------------------------------
def test_only_the_newest_deployed_revision_is_live() -> None:
    shown = revisions.shown_status([rev(1), rev(2), rev(3, FAILED), rev(4, "pending")])
    assert shown == {1: SUPERSEDED, 2: DEPLOYED, 3: FAILED, 4: "pending"}


def test_history_keeps_the_newest_ten() -> None:
    history = [rev(n) for n in range(1, 13)]
    assert [r.number for r in revisions.expired(history)] == [1, 2]
    assert revisions.expired(history[:10]) == []
    assert revisions.next_number(history) == 13
    assert revisions.next_number([]) == 1


def test_a_revision_survives_its_configmap() -> None:
    """(That it holds no credential is checked where credentials exist: after a real `up`,
    in test_app.py's test_up_from_nothing_...)"""
    objects = render(Options(pacman_image="example.org/pacman:v2"))
    original = Revision(
        7,
        Options(pacman_image="example.org/pacman:v2"),
        "standard",
        objects,
        "deployment/pacman configured",
        backup="before-v7",
    )
    cm = revisions.to_configmap(original, "pacman")
    assert cm["metadata"]["name"] == "pacdeploy.v7"
    assert cm["metadata"]["labels"] == {**MANAGED_BY, revisions.REVISION_LABEL: "7"}
    assert revisions.from_configmap(cm) == original


def test_describe_names_only_what_changed() -> None:
    assert revisions.describe(
        [("deployment/pacman", "configured"), ("service/mongo", "unchanged")]
    ) == ("deployment/pacman configured")
    assert revisions.describe([("service/mongo", "unchanged")]) == "no change"


def test_rollback_goes_to_the_deployed_revision_before_the_live_one() -> None:
    history = [rev(1), rev(2, FAILED), rev(3), rev(4, FAILED)]
    assert rollback.target(history, None, "pacman").number == 1
    assert rollback.target(history, 2, "pacman").number == 2
    with pytest.raises(NotFound, match="revision 9 is not recorded"):
        rollback.target(history, 9, "pacman")
    with pytest.raises(NotFound, match="no deployed revision before"):
        rollback.target([rev(1)], None, "pacman")


def test_a_recorded_manifest_drops_the_digest_that_up_recomputes() -> None:
    obj = fields.with_digest(render(Options())[0])
    assert fields.APPLIED not in fields.without_digest(obj)["metadata"].get("annotations", {})
    assert fields.with_digest(fields.without_digest(obj)) == obj


# -- backups ---------------------------------------------------------------------------
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


def test_the_mongo_claims_are_found_by_template_in_ordinal_order() -> None:
    names = ["mongo-db-mongo-10", "data-other-0", "mongo-db-mongo-2", "mongo-db-mongo-x"]
    found = backups.mongo_claims([{"metadata": {"name": n}} for n in names])
    assert [c["metadata"]["name"] for c in found] == ["mongo-db-mongo-2", "mongo-db-mongo-10"]


@pytest.mark.parametrize("name", ["B1", "-b", "b_1", "x" * 41])
def test_backup_names_must_fit_a_label(name: str) -> None:
    with pytest.raises(InvalidInput):
        backups.validate_name(name)


def snapshot(name: str, backup: str, ready: bool, created: str, revision: str = "2") -> dict:
    labels = {**MANAGED_BY, backups.BACKUP_LABEL: backup, revisions.REVISION_LABEL: revision}
    return {
        "metadata": {"name": name, "labels": labels, "creationTimestamp": created, "uid": name},
        "status": {"readyToUse": ready, "restoreSize": "1Gi"},
    }


def test_a_backup_is_ready_only_when_each_of_its_snapshots_is() -> None:
    found = backups.summarize(
        [
            snapshot("b2-0", "b2", True, "2026-01-02T00:00:00Z"),
            snapshot("b1-0", "b1", True, "2026-01-01T00:00:00Z"),
            snapshot("b1-1", "b1", False, "2026-01-01T00:00:01Z"),
        ]
    )
    assert [(b.name, b.ready, b.size, b.revision) for b in found] == [
        ("b1", False, "1Gi", 2),
        ("b2", True, "1Gi", 2),
    ]


def test_a_revisions_data_is_its_newest_ready_backup() -> None:
    found = backups.summarize(
        [
            snapshot("old-0", "old", True, "2026-01-01T00:00:00Z", revision="1"),
            snapshot("new-0", "new", True, "2026-01-02T00:00:00Z", revision="1"),
            snapshot("broken-0", "broken", False, "2026-01-03T00:00:00Z", revision="1"),
            snapshot("other-0", "other", True, "2026-01-04T00:00:00Z", revision="2"),
        ]
    )
    assert backups.of_revision(found, 1).name == "new"
    assert backups.of_revision(found, 3) is None


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


# -- restore ---------------------------------------------------------------------------
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


INTENT = rules.Intent("r-1", "backup b1", 3, backup="b1", safety="before-restore-x")


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
    sts = {"metadata": {"annotations": {rules.INTENT: INTENT.dump()}}}
    assert rules.intent_of(sts) == INTENT
    assert rules.intent_of({"metadata": {"annotations": {rules.INTENT: "{oops"}}}) is None
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


def test_an_interrupted_backup_is_told_by_the_claims_it_recorded() -> None:
    def snap(claim, claims):
        request = backups.BackupRequest(namespace="pacman", name="b1", timeout=1)
        made = backups.snapshot_for(request, claim, "c", claims=claims)
        return made

    both = ["mongo-db-mongo-0", "mongo-db-mongo-1"]
    assert backups.unfinished([snap("mongo-db-mongo-0", both)]) == ["mongo-db-mongo-1"]
    assert backups.unfinished([snap(c, both) for c in both]) == []


# -- diff ------------------------------------------------------------------------------
def test_named_lists_are_compared_by_name() -> None:
    live = {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}
    desired = {"containers": [{"name": "b", "image": "y"}, {"name": "a", "image": "z"}]}
    assert field_changes(live, desired) == [FieldChange("containers[a].image", "x", "z")]
    assert field_changes({"args": [1, 2]}, {"args": [2, 1]}) == [
        FieldChange("args", [1, 2], [2, 1])
    ]


def test_the_digest_is_shown_only_when_it_is_the_only_change() -> None:
    def obj(replicas: int, digest: str) -> dict:
        return {
            "metadata": {
                "name": "p",
                "annotations": {fields.APPLIED: digest},
                "resourceVersion": digest,
            },
            "spec": {"replicas": replicas},
            "status": {"readyReplicas": 1},
        }

    assert [c.path for c in dry_run_changes(obj(1, "a"), obj(3, "b"))] == ["spec.replicas"]
    assert [c.path for c in dry_run_changes(obj(1, "a"), obj(1, "b"))] == [
        f"metadata.annotations.{fields.APPLIED}"
    ]
    assert dry_run_changes(obj(1, "a"), obj(1, "a")) == []


def test_only_a_conflict_naming_no_manager_but_ours_is_ours() -> None:
    """The words the real server uses, and the forced retry they lead to, are checked on it:
    test_api_rules.py."""
    own = 'Apply failed with 1 conflict: conflict with "pacdeploy" with subresource "scale"'
    assert only_own_conflicts(own, "pacdeploy")
    other = own + '; conflict with "kubectl-edit" using apps/v1'
    assert not only_own_conflicts(other, "pacdeploy")
    assert not only_own_conflicts("namespace is terminating", "pacdeploy")


def test_tables_align_like_kubectl_get() -> None:
    assert aligned(("name", "ready"), [("b1", "true"), ("backup-long", "false")]) == [
        "NAME          READY",
        "b1            true",
        "backup-long   false",
    ]


def _backup(name: str, created: str, reason: str | None = None, deleting: bool = False):
    return Backup(name, created, "1Gi", True, None, (name,), reason, deleting)


def test_pruning_keeps_the_newest_automatic_backups_and_every_named_one() -> None:
    found = [
        _backup("mine", "2026-12-01T00:00:00Z"),
        *(
            _backup(f"before-v{n}", f"2026-12-01T0{n}:00:00Z", backups.BEFORE_UP)
            for n in range(1, 9)
        ),
    ]
    doomed = [b.name for b in retention.to_prune(found, keep=5)]
    assert doomed == ["before-v1", "before-v2", "before-v3"]
    everything = retention.to_prune(found, keep=5, automatic_only=False)
    assert [b.name for b in everything] == ["mine", "before-v1", "before-v2", "before-v3"]


def test_pruning_older_than_spares_the_recent_and_what_is_being_deleted() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    found = [
        _backup("old", "2026-11-01T00:00:00Z", backups.BEFORE_UP),
        _backup("going", "2026-11-02T00:00:00Z", backups.BEFORE_UP, deleting=True),
        _backup("recent", "2026-12-02T11:00:00Z", backups.BEFORE_UP),
    ]
    doomed = retention.to_prune(found, keep=0, older_than=7 * 86400, now=now)
    assert [b.name for b in doomed] == ["old"]


def test_drift_is_a_field_that_no_longer_holds_what_was_applied() -> None:
    applied = {
        "metadata": {"name": "pacman", "labels": {"name": "pacman"}},
        "spec": {
            "replicas": 1,
            "template": {"spec": {"containers": [{"name": "pacman", "image": "app:v1"}]}},
        },
    }
    live = {
        "metadata": {"name": "pacman", "labels": {"name": "pacman"}, "uid": "u", "generation": 3},
        "spec": {
            "replicas": 10,  # pacdeploy scale: not drift
            "template": {
                "spec": {
                    "containers": [{"name": "pacman", "image": "app:v2", "imagePullPolicy": "X"}]
                }
            },
        },
        "status": {"readyReplicas": 10},
    }
    assert drift(applied, live) == [
        FieldChange("spec.template.spec.containers[pacman].image", "app:v2", "app:v1")
    ]
    assert drift(applied, {**live, "spec": {**applied["spec"], "replicas": 10}}) == []
    # up compares the same way, replicas included
    assert not fields.covers(live, applied)


def test_a_lock_an_interrupted_backup_recorded_is_read_back_and_garbage_is_not() -> None:
    from pacdeploy.data.consistency import HELD, held_by

    def sts(value: str) -> dict:
        return {"metadata": {"name": "mongo", "annotations": {HELD: value}}}

    assert held_by(sts('["mongo-0", "mongo-1"]')) == ["mongo-0", "mongo-1"]
    assert held_by(sts("not json")) == held_by(sts('{"a": 1}')) == held_by(None) == []


def test_snapshots_not_cut_in_time_fail_a_backup_asked_for_and_not_an_automatic_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pacdeploy.data.consistency import CRASH_CONSISTENT, Held, cut_or_not
    from pacdeploy.errors import NotReady
    from pacdeploy.output import PlainOutput
    from pacdeploy.wait.polling import Deadline

    with pytest.raises(NotReady, match="not cut within the 30s"):
        cut_or_not("backup b1", False, Held(Deadline(30), required=True), out=PlainOutput())
    cut_or_not("backup before-v3", False, Held(Deadline(30), required=False), out=PlainOutput())
    assert CRASH_CONSISTENT in capsys.readouterr().err
