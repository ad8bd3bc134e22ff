"""Backups, restore, revisions, diff and rollback against a real API server.

On the sandbox the snapshots are taken by the real snapshot-controller and the volumes are
real directories, so these tests check real bytes: a marker file written into mongo-0's
volume (found from its PV, as a minikube user would) must come back after a restore.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import threading

import pytest

from pacdeploy.app import stacks
from pacdeploy.data.revisions import SELECTOR
from pacdeploy.kube import watch
from tests.integration.conftest import snapshotter_stopped
from tests.support import cli, one_line
from tests.support.credentials import admin_password
from tests.support.mongo_shell import exec_calls, exec_log_size, lock_count
from tests.support.volumes import CLAIM, marker, volume_dir, volume_of

pytestmark = pytest.mark.integration
OTHER_IMAGE = "quay.io/ifont/pacman-nodejs-app:v2"


@pytest.mark.sandbox_only
def test_restore_brings_the_marker_back_and_the_replaced_data_stays_recoverable(
    target, cluster, app_ns
):
    target.succeeds("-n", app_ns, "up")
    (volume_dir(cluster, app_ns) / "marker").write_text("before")
    created = target.pacdeploy("-n", app_ns, "backup", "create", "b1")
    assert created.returncode == 0, created.stderr
    assert "backup b1 ready (1Gi)" in created.stdout

    listed = target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()
    assert listed[0].split() == ["NAME", "CREATED", "SIZE", "READY", "REVISION", "AUTOMATIC"]
    assert listed[1].split()[0] == "b1" and listed[1].split()[2:] == ["1Gi", "true", "1", "no"]

    old = volume_of(cluster, app_ns)
    (volume_dir(cluster, app_ns) / "marker").write_text("after")
    restored = target.pacdeploy("-n", app_ns, "restore", "b1", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert f"kept {old} (reclaimPolicy Retain)" in restored.stdout
    assert marker(cluster, app_ns) == "before"
    assert volume_of(cluster, app_ns) != old
    sts = cluster.get("StatefulSet", "mongo", app_ns)
    assert sts["status"].get("readyReplicas") == 1 and sts["spec"]["replicas"] == 1
    # The replaced data was backed up first, so its volume goes as its class says (Delete).
    released = cluster.get("PersistentVolume", old)
    assert released is None or released["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    automatic = [
        line.split()
        for line in target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()
    ]
    assert [row[-1] for row in automatic[1:]] == ["no", "before-restore"]

    # Restored the wrong backup: one command brings back what was live a minute ago.
    back = target.pacdeploy("-n", app_ns, "restore", "--undo", "--yes")
    assert back.returncode == 0, back.stderr
    assert marker(cluster, app_ns) == "after"

    deleted = target.pacdeploy("-n", app_ns, "backup", "delete", "b1")
    assert deleted.returncode == 0, deleted.stderr
    names = [
        line.split()[0]
        for line in target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()
    ]
    assert "b1" not in names
    again = target.pacdeploy("-n", app_ns, "backup", "create", "b1")
    assert again.returncode == 0, again.stderr


@pytest.mark.sandbox_only
def test_backup_and_restore_on_a_terminal_show_their_live_displays(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    env = target.env()
    context = ("--context", target.context, "-n", app_ns)
    code, shown = cli.run_on_terminal(*context, "backup", "create", "b1", env=env)
    assert code == 0, shown
    seen = cli.without_ansi(shown)
    # The live board, its title naming what is waited on, then its settled line.
    assert "waiting for backup b1 (" in seen, seen
    assert "✓ b1-mongo-db-mongo-0 ready" in seen, seen
    code, shown = cli.run_on_terminal(*context, "restore", "b1", "--yes", env=env)
    assert code == 0, shown
    seen = cli.without_ansi(shown)
    assert "Traceback" not in seen
    assert "waiting for backup before-restore-" in seen, seen  # the automatic backup
    assert "waiting for rollout (" in seen, seen  # mongo coming back on the restored data
    assert "✓ statefulset/mongo" in seen, seen
    assert "mongo is ready on the data from backup b1" in seen


@pytest.mark.sandbox_only
def test_a_restore_failing_half_way_keeps_the_data_and_says_how_to_go_back(target, cluster, app_ns):
    from pacdeploy.sandbox import paths

    target.succeeds("-n", app_ns, "up")
    assert target.pacdeploy("-n", app_ns, "backup", "create", "b1").returncode == 0
    original = volume_dir(cluster, app_ns)
    (original / "marker").write_text("scores")
    old = volume_of(cluster, app_ns)
    # The storage loses the snapshot's data: the restored claim can never be provisioned.
    snapshot = cluster.get("VolumeSnapshot", f"b1-{CLAIM}", app_ns)
    content = cluster.get(
        "VolumeSnapshotContent", snapshot["status"]["boundVolumeSnapshotContentName"]
    )
    shutil.rmtree(paths.state_root() / "snapshots" / content["status"]["snapshotHandle"])

    # Long enough for the steps before it (the replaced data's backup holds the old claim
    # until its snapshot is cut: seconds on a loaded machine), so what fails is the new claim.
    failed = target.pacdeploy("-n", app_ns, "restore", "b1", "--yes", "--timeout", "20s")
    assert failed.returncode == 6, failed.stderr
    line = one_line(failed.stderr)
    assert line.startswith("error: restore failed: not ready after 20s")
    assert "snapshot data" in line and "not found" in line  # the provisioner's own words
    assert f"kept on {old}" in line
    assert f"pacdeploy restore --undo --yes -n {app_ns}" in line
    kept = cluster.get("PersistentVolume", old)
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert (original / "marker").read_text() == "scores"

    back = target.pacdeploy("-n", app_ns, "restore", "--undo", "--yes")
    assert back.returncode == 0, back.stderr
    assert volume_of(cluster, app_ns) == old
    assert (volume_dir(cluster, app_ns) / "marker").read_text() == "scores"
    again = cluster.get("PersistentVolume", old)
    assert again["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert "pacdeploy.io/replaced-claim" not in (again["metadata"].get("labels") or {})


def test_history_diff_and_rollback_of_the_web_image(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    target.succeeds("-n", app_ns, "up", "--pacman-image", OTHER_IMAGE)

    history = target.pacdeploy("-n", app_ns, "history").stdout.splitlines()
    assert [line.split()[:3] for line in history[1:]] == [
        ["1", history[1].split()[1], "superseded"],
        ["2", history[2].split()[1], "deployed"],
    ]
    assert "deployment/pacman configured" in history[2]

    changed = target.pacdeploy(
        "-n", app_ns, "diff", "--replicas", "3", "--pacman-image", OTHER_IMAGE
    )
    assert changed.returncode == 1, changed.stderr
    assert changed.stdout.splitlines() == [
        "deployment/pacman configured",
        "  spec.replicas: 1 -> 3",
    ]
    same = target.pacdeploy("-n", app_ns, "diff", "--pacman-image", OTHER_IMAGE)
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip() == "no changes"
    # The rollback, previewed: revision 1's image instead of the live one.
    preview = target.pacdeploy("-n", app_ns, "diff", "--revision", "1")
    assert preview.returncode == 1, preview.stderr
    assert preview.stdout.splitlines()[0] == "deployment/pacman configured"
    assert f"spec.template.spec.containers[pacman].image: {OTHER_IMAGE} ->" in preview.stdout

    rolled = target.pacdeploy("-n", app_ns, "rollback", "1")
    assert rolled.returncode == 0, rolled.stderr
    assert "rolled back to revision 1 as revision 3" in rolled.stdout
    pod = cluster.get("Deployment", "pacman", app_ns)["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] != OTHER_IMAGE
    last = target.pacdeploy("-n", app_ns, "history").stdout.splitlines()[-1]
    assert last.split()[:3] == ["3", last.split()[1], "deployed"] and "rollback to 1" in last

    # Nothing secret is recorded or printed: revisions hold manifests and options only.
    secret = cluster.get("Secret", "mongodb-users-secret", app_ns)
    values = [base64.b64decode(v).decode() for k, v in secret["data"].items() if "password" in k]
    assert len(values) >= 2
    records = cluster.list("ConfigMap", app_ns, label_selector=SELECTOR)
    assert len(records) == 3
    text = str(records) + history[0] + changed.stdout + rolled.stdout + rolled.stderr
    assert not [v for v in values if v in text]


@pytest.mark.sandbox_only
def test_a_change_to_mongo_is_backed_up_first_and_rollback_with_data_restores_it(
    target, cluster, app_ns
):
    target.succeeds("-n", app_ns, "up")
    (volume_dir(cluster, app_ns) / "marker").write_text("scores of revision 1")
    changed = target.pacdeploy("-n", app_ns, "up", "--volume-permissions")
    assert changed.returncode == 0, changed.stderr
    assert "backup before-v2-" in changed.stdout
    (taken,) = [
        line.split()
        for line in target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()[1:]
    ]
    assert taken[0].startswith("before-v2-") and taken[3:] == ["true", "1", "before-up"]
    (volume_dir(cluster, app_ns) / "marker").write_text("broken by revision 2")

    rolled = target.pacdeploy("-n", app_ns, "rollback", "1", "--with-data", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert (volume_dir(cluster, app_ns) / "marker").read_text() == "scores of revision 1"
    pod = cluster.get("StatefulSet", "mongo", app_ns)["spec"]["template"]["spec"]
    assert not pod.get("initContainers")  # revision 2's volume-permissions is gone
    last = target.pacdeploy("-n", app_ns, "history").stdout.splitlines()[-1]
    assert f"rollback to 1 with data from backup {taken[0]}" in last

    skipped = target.pacdeploy("-n", app_ns, "up", "--volume-permissions", "--no-snapshot")
    assert skipped.returncode == 0, skipped.stderr
    assert "backup" not in skipped.stdout
    kinds = [
        line.split()[-1]
        for line in target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()[1:]
    ]
    assert kinds == ["before-up", "before-restore"]  # the rollback's restore backed up first


@pytest.mark.exclusive  # `up --storage-class standard` makes it the default
def test_a_backup_needs_a_snapshot_class_for_the_volumes_driver(target, app_ns):
    target.succeeds("-n", app_ns, "up", "--storage-class", "standard")
    result = target.pacdeploy("-n", app_ns, "backup", "create")
    assert result.returncode == 7, result.stderr
    line = one_line(result.stderr)
    assert (
        "no VolumeSnapshotClass for driver" in line
        and "minikube addons enable volumesnapshots" in line
    )


@pytest.mark.exclusive  # deletes a CRD every backup needs
@pytest.mark.sandbox_only
def test_without_the_snapshot_api_backup_says_how_to_enable_it(target, cluster, app_ns):
    from pacdeploy.sandbox import lifecycle

    target.succeeds("-n", app_ns, "up")
    crd = "volumesnapshotclasses.snapshot.storage.k8s.io"
    # Deleting the CRD deletes every VolumeSnapshotClass: put back any the user had.
    saved = cluster.list("VolumeSnapshotClass")
    cluster.delete("CustomResourceDefinition", crd)
    try:
        for found in watch.follow(
            cluster, watch.Selection.one("CustomResourceDefinition", crd), seconds=30
        ):
            if found is None:
                break
        result = target.pacdeploy("-n", app_ns, "backup", "create", "b1")
        assert result.returncode == 7, result.stderr
        assert one_line(result.stderr) == (
            "error: this cluster does not serve the VolumeSnapshot API "
            "(snapshot.storage.k8s.io/v1). Install the VolumeSnapshot CRDs and "
            "snapshot-controller (minikube: `minikube addons enable volumesnapshots`)"
        )
        assert cluster.list("VolumeSnapshot", app_ns) == []
    finally:
        lifecycle.up()  # puts the CRD and the sandbox's snapshot class back
        for snapclass in saved:
            if cluster.get("VolumeSnapshotClass", snapclass["metadata"]["name"]) is None:
                meta = snapclass["metadata"]
                kept = {k: meta[k] for k in ("name", "labels", "annotations") if k in meta}
                cluster.create(
                    {
                        **snapclass,
                        "metadata": kept,
                        "kind": "VolumeSnapshotClass",
                        "apiVersion": "snapshot.storage.k8s.io/v1",
                    }
                )
    assert cluster.get("VolumeSnapshotClass", "csi-hostpath-snapclass") is not None


@pytest.mark.sandbox_only
def test_automatic_backups_are_capped_and_named_ones_are_kept(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    assert target.pacdeploy("-n", app_ns, "backup", "create", "mine").returncode == 0
    for turn in range(8):  # each flips the init container: a change to mongo, backed up first
        flags = ["--volume-permissions"] if turn % 2 == 0 else []
        changed = target.pacdeploy("-n", app_ns, "up", *flags)
        assert changed.returncode == 0, changed.stderr
        assert "backup before-v" in changed.stdout
    rows = [
        line.split()
        for line in target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()[1:]
    ]
    automatic = [row[0] for row in rows if row[-1] == "before-up"]
    assert len(automatic) == 5 and [row[0] for row in rows if row[-1] == "no"] == ["mine"]
    assert automatic[-1].startswith("before-v9-")  # the newest are the ones kept

    recent = target.pacdeploy(
        "-n", app_ns, "backup", "prune", "--keep", "0", "--older-than", "1h", "--yes"
    )
    assert recent.returncode == 0 and "nothing to prune" in recent.stdout
    pruned = target.pacdeploy("-n", app_ns, "backup", "prune", "--keep", "1", "--yes")
    assert pruned.returncode == 0, pruned.stderr
    left = target.pacdeploy("-n", app_ns, "backup", "list").stdout.splitlines()[1:]
    assert [line.split()[0] for line in left] == [automatic[-1]]


def test_a_change_behind_pacdeploys_back_is_drift_in_status(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    assert target.pacdeploy("-n", app_ns, "status", "-o", "json").returncode == 0
    target.kubectl_run("-n", app_ns, "set", "image", "deployment/pacman", f"pacman={OTHER_IMAGE}")
    shown = target.pacdeploy("-n", app_ns, "status")
    assert "drift: changed behind pacdeploy's back" in shown.stdout
    assert "spec.template.spec.containers[pacman].image: applied" in shown.stdout
    document = json.loads(target.pacdeploy("-n", app_ns, "status", "-o", "json").stdout)
    (change,) = document["drift"]
    assert change["object"] == "deployment/pacman" and change["live"] == OTHER_IMAGE
    assert change["applied"] == stacks.SAINTDLE_PACMAN.ref  # the default stack's, by digest
    # The field is kubectl's now: `up` names the conflict, `up --force` takes it back.
    refused = target.pacdeploy("-n", app_ns, "up")
    assert refused.returncode == 5 and 'conflict with "kubectl-set"' in refused.stderr
    target.succeeds("-n", app_ns, "up", "--force")
    again = json.loads(target.pacdeploy("-n", app_ns, "status", "-o", "json").stdout)
    assert again["drift"] == []


# -- consistent backups: mongo's writes held while the snapshot is cut -----------------------
@pytest.mark.sandbox_only
def test_a_backup_locks_mongo_then_snapshots_then_unlocks(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    since = exec_log_size()
    out = target.succeeds("-n", app_ns, "backup", "create", "b1").splitlines()
    steps = [
        next(i for i, line in enumerate(out) if text in line)
        for text in ("mongo locked in pod mongo-0", "cut while mongo was locked", "mongo unlocked")
    ]
    assert steps == sorted(steps), out
    calls = exec_calls(since, app_ns)
    assert [("lock: true" in c, "fsyncUnlock" in c) for c in calls] == [
        (True, False),
        (False, True),
    ], calls
    assert lock_count(app_ns, "mongo-0") == 0
    assert not any(admin_password(cluster, app_ns) in c for c in calls)  # read from its file


@pytest.mark.exclusive  # stops the snapshotter
@pytest.mark.sandbox_only
def test_a_snapshot_that_is_not_cut_in_time_still_unlocks_mongo(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    since = exec_log_size()
    env = {**target.env(), "PACDEPLOY_LOCK_SECONDS": "3"}
    with snapshotter_stopped():
        args = ("--context", target.context, "-n", app_ns, "backup", "create", "b1")
        failed = cli.run(*args, env=env)
    assert failed.returncode == 6, failed.stderr
    assert "not cut within the 3s mongo may stay locked" in one_line(failed.stderr)
    assert "mongo unlocked in pod mongo-0" in failed.stdout
    assert ["fsyncUnlock" in c for c in exec_calls(since, app_ns)] == [False, True]
    assert lock_count(app_ns, "mongo-0") == 0


@pytest.mark.exclusive  # stops the snapshotter
@pytest.mark.sandbox_only
def test_an_automatic_backup_not_cut_in_time_goes_on_crash_consistent(target, cluster, app_ns):
    """The lock ends before the snapshot is cut: the `up` it protects goes on (the
    snapshot is cut later, crash-consistent) instead of failing."""
    target.succeeds("-n", app_ns, "up")
    env = {**target.env(), "PACDEPLOY_LOCK_SECONDS": "2"}
    with snapshotter_stopped() as snapshotter:
        resume = threading.Timer(6, os.kill, (snapshotter, signal.SIGCONT))
        resume.start()
        args = ("--context", target.context, "-n", app_ns, "up", "--volume-permissions")
        changed = cli.run(*args, env=env)
        resume.cancel()
    assert changed.returncode == 0, changed.stderr
    assert "the backup is crash-consistent" in one_line(changed.stderr)
    assert "mongo unlocked in pod mongo-0" in changed.stdout
    assert lock_count(app_ns, "mongo-0") == 0
    listed = target.succeeds("-n", app_ns, "backup", "list").splitlines()[1:]
    assert [row.split()[3] for row in listed] == ["true"], listed


@pytest.mark.exclusive  # stops the snapshotter
@pytest.mark.sandbox_only
def test_a_backup_killed_while_mongo_is_locked_is_released_by_the_next(target, cluster, app_ns):
    """SIGKILL between db.fsyncLock and db.fsyncUnlock: mongod keeps the lock (it is not
    tied to the connection). `status` says so, and the same command run again releases it
    before it locks anew."""
    target.succeeds("-n", app_ns, "up")
    with snapshotter_stopped():  # no snapshot is cut while the backup runs
        args = ("--context", target.context, "-n", app_ns, "backup", "create", "b1")
        proc = cli.start(*args, env=target.env(), merge_stderr=True)
        for line in proc.stdout:
            if "mongo locked in pod mongo-0" in line:
                proc.kill()
                break
        proc.stdout.close()
        proc.wait(timeout=60)
    assert lock_count(app_ns, "mongo-0") == 1
    document = json.loads(target.succeeds("-n", app_ns, "status", "-o", "json"))
    assert document["mongoLocked"]["pods"] == ["mongo-0"]
    shown = target.succeeds("-n", app_ns, "status")
    assert "mongo's writes held (db.fsyncLock in mongo-0)" in shown

    again = target.pacdeploy("-n", app_ns, "backup", "create", "b1")
    finished = again.returncode == 0 or "already exists" in again.stderr  # the killed run's
    assert finished, again.stderr
    assert "releasing the lock an interrupted backup left on mongo" in again.stdout
    assert lock_count(app_ns, "mongo-0") == 0
    document = json.loads(target.succeeds("-n", app_ns, "status", "-o", "json"))
    assert document["mongoLocked"] is None


@pytest.mark.sandbox_only
def test_no_lock_backs_up_without_exec(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    since = exec_log_size()
    out = target.succeeds("-n", app_ns, "backup", "create", "b1", "--no-lock")
    assert "locked" not in out
    assert exec_calls(since, app_ns) == []
