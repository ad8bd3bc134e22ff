"""Killed at any point, finished by the next command: each multi-step command is run with
-vv, its request log read as it runs, and SIGKILLed right after a chosen write. Every
write of each is killed on the in-memory API server (`up`, `down --purge` and `up
--storage-size`: tests/unit/test_up_down_kill_points.py; restore, its undo, `rollback
--with-data` and `backup create`: tests/unit/test_restore_kill_points.py); here, the
writes where the real one's semantics matter: finalizers, bindings, conflicts,
controllers. Then the user's next command runs (the same command, and the undo where
there is one) and must leave what an uninterrupted run leaves: exit 0, every byte of the
marker where it should be, mongo's replicas as before, exactly one default StorageClass,
nothing left over.

On the sandbox (real bytes in the volumes' directories, the real snapshot controller).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from pacdeploy.app import storage
from tests.support.classes import class_annotations, others_purges_dropped
from tests.support.kill_points import (
    CLAIM_CREATED,
    CLAIM_DELETED,
    PARALLEL,
    SNAPSHOT,
    VOLUME,
    Namespaces,
    class_writes,
    first_write,
    left_over,
    next_command,
    nth_class_write,
    run_counting,
    unrecovered,
    write_to,
)
from tests.support.volumes import write_marker

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only, pytest.mark.long]


@pytest.fixture
def namespaces(cluster, request):
    made = Namespaces(cluster, request)
    yield made
    made.cleanup()


def one_default(cluster) -> list[str]:
    return storage.defaults(cluster.list("StorageClass"))


def with_backup(target, cluster, namespaces) -> str:
    """An app whose backup b1 holds "before" while the live volume holds "after"."""
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "before")
    target.succeeds("-n", ns, "backup", "create", "b1")
    write_marker(cluster, ns, "after")
    return ns


# The writes restore makes (restore/run.py), as their request lines show them.
MONGO = r"^PATCH \S*/statefulsets/mongo(\?|$)"  # its intent, mongo's lock record
SCALE = r"^PATCH \S*/statefulsets/mongo/scale"
RESTORED = write_to(MONGO, after=(VOLUME, 2))  # its last: the intent cleared
# Killed, then run again. The first write (the intent: the rerun resumes it); the
# automatic backup's snapshot (the real snapshot controller and CSI sidecar cut it after
# the kill, with mongo locked in the exec stand-in: the rerun unlocks, and resumes a
# backup that may not be ready yet); the claim deleted (pvc-protection's finalizer may
# hold it Terminating, and the real PV controller releases its Retain volume); the last.
RESTORE_POINTS = {
    "first": first_write,
    "snapshot": write_to(SNAPSHOT),
    "claim deleted": write_to(CLAIM_DELETED),
    "last": RESTORED,
}
# Killed, then undone. The replaced volume kept (Retain, through the real PV API: the undo
# puts its policy back); mongo scaled to 0 (the real StatefulSet controller deletes its
# pod with its grace period: the undo scales back); the new claim (the real provisioner
# restores a volume from the snapshot and the PV controller binds it after the kill: the
# undo replaces that claim); the kept volume released (policy Delete on a Released
# volume: the real PV controller deletes it, so the undo restores the automatic backup).
RESTORE_UNDONE_POINTS = {
    "volume kept": write_to(VOLUME),
    "scaled to 0": write_to(SCALE),
    "claim created": write_to(CLAIM_CREATED),
    "volume released": write_to(VOLUME, after=(VOLUME, 1)),
}


def test_restore_killed_where_it_matters_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("restore", "b1", "--yes")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731
    found = unrecovered(
        target, cluster, namespaces, with_backup, args, rerun, "before", points=RESTORE_POINTS
    )
    assert found == []
    assert one_default(cluster) == [target.storage_class]


def test_restore_killed_where_it_matters_is_undone_by_undo(target, cluster, namespaces):
    undo = lambda ns: next_command(target, ns, "restore", "--undo", "--yes")  # noqa: E731
    args = ("restore", "b1", "--yes")
    found = unrecovered(
        target, cluster, namespaces, with_backup, args, undo, "after", points=RESTORE_UNDONE_POINTS
    )
    assert found == []


def deployed(target, cluster, namespaces) -> str:
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "scores")
    return ns


# All three of its writes: mongo's lock recorded (the exec stand-in's lock not yet
# taken), its snapshot (the real snapshot controller cuts it after the kill, mongo locked),
# the record cleared (the snapshot perhaps not ready yet: the rerun waits for it).
BACKUP_POINTS = {
    "lock recorded": first_write,
    "snapshot": write_to(SNAPSHOT),
    "last": write_to(MONGO, after=(SNAPSHOT, 1)),
}


def test_backup_create_killed_at_every_write_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("backup", "create", "b1")

    def rerun(ns):
        again = next_command(target, ns, *args)
        if "already exists" in again.stderr:  # the killed run had finished it
            again.returncode = 0
        return again

    def one_ready_backup(cluster, ns):
        listed = target.succeeds("-n", ns, "backup", "list").splitlines()[1:]
        rows = [row.split() for row in listed]
        return [] if [(r[0], r[3]) for r in rows] == [("b1", "true")] else [f"backups {rows}"]

    found = unrecovered(
        target,
        cluster,
        namespaces,
        deployed,
        args,
        rerun,
        extra=one_ready_backup,
        points=BACKUP_POINTS,
    )
    assert found == []


PURGE = ("down", "--purge", "--yes")


# Every write of both is killed on the in-memory API server (tests/unit/
# test_up_down_kill_points.py); here, those where the real one's own semantics matter,
# and a first, a middle and a last. `up`: the namespace (first), the RBAC binding
# (checked against its role), each workload (its controller goes on without us), mongo's
# init script (a middle), the revision settled (last). The purge: its record on our class
# (first), each workload (pods terminating with their grace period), the namespace
# (finalizers, Terminating), and the record's removal (last). In pairs: one round each.
NAMESPACE_DELETED = r"^DELETE /api/v1/namespaces/[^/?]+$"
UP_POINTS = (
    write_to(r"^PATCH /api/v1/namespaces/[^/?]+\?"),
    write_to("/clusterrolebindings/"),
    write_to("/statefulsets/mongo"),
    write_to("/deployments/pacman"),
    write_to("/configmaps/mongo-init"),
    write_to(r"^PATCH .*/configmaps/pacdeploy\."),
)
PURGE_POINTS = (
    nth_class_write(1),
    write_to("^DELETE .*/statefulsets/mongo"),
    write_to("^DELETE .*/deployments/pacman"),
    write_to(NAMESPACE_DELETED),
    write_to("^DELETE .*/configmaps/mongo-init"),
    nth_class_write(2),
)
LAST = len(UP_POINTS) - 1  # a command killed after its last write may have exited first


def test_up_and_down_purge_killed_where_it_matters_are_finished_by_running_them_again(
    target, cluster, namespaces
):
    """Each round is one of each: `up` killed after one of UP_POINTS and run again, then,
    on the app that leaves, `down --purge` killed after one of PURGE_POINTS and run
    again. The suite's class is already the only default (tests/conftest.py), so `up`
    records it as the one to give back, the purge gives back what is there, and the
    rounds run beside other tests, side by side: each must leave every class's
    annotations as they were, the suite's class the only default. The writes that switch
    the default are killed in the exclusive test below."""
    before = class_annotations(cluster)

    def round_(n: int) -> None:
        up_and_purge(target, cluster, namespaces.new(), before, n)

    with ThreadPoolExecutor(max_workers=PARALLEL) as rounds:
        list(rounds.map(round_, range(len(UP_POINTS))))


def up_and_purge(target, cluster, ns, before, n: int) -> None:
    """Round ``n`` in ``ns`` on the suite's default class."""
    killed = (-9, 0) if n == LAST else (-9,)
    code, _, output = run_counting(target, "-n", ns, "up", kill_when=UP_POINTS[n])
    assert code in killed, (n, output[-2000:])
    again = next_command(target, ns, "up")
    assert again.returncode == 0, (n, again.stderr)
    history = target.succeeds("-n", ns, "history").splitlines()[1:]
    assert history and history[-1].split()[2] == "deployed", (n, history)
    write_marker(cluster, ns, "scores")
    code, _, output = run_counting(target, "-n", ns, *PURGE, kill_when=PURGE_POINTS[n])
    assert code in killed, (n, output[-2000:])
    again = next_command(target, ns, *PURGE)
    assert again.returncode == 0, (n, again.stderr)
    assert cluster.get("Namespace", ns) is None, n
    after = class_annotations(cluster)
    assert others_purges_dropped(after, [ns]) == others_purges_dropped(before, [ns]), n
    assert one_default(cluster) == [target.storage_class], n


def test_up_and_down_purge_killed_switching_the_default_class_give_it_back(
    target, cluster, namespaces, another_default
):
    """Another class is the only default, as on a fresh cluster: `up` makes the suite's
    class the only one (two class writes), the purge gives it back (its record, the two
    classes, the record's removal). Killed where the real API server's part matters (in
    memory at every write): `up` between its two class writes; the purge once its
    namespace is deleted (the record on our class is all that is left) and between the
    classes it gives back. One round after the other (each changes what every test
    sees); each ends with every class as it was before the first `up`."""
    before = class_annotations(cluster)
    assert one_default(cluster) == [another_default]
    rounds = [(nth_class_write(1), write_to(NAMESPACE_DELETED)), (None, nth_class_write(2))]
    for n, (kill_up, kill_purge) in enumerate(rounds):
        ns = namespaces.new()
        code, _, output = run_counting(target, "-n", ns, "up", kill_when=kill_up)
        assert code == -9 if kill_up else code == 0 and class_writes(output) == 2, output
        assert next_command(target, ns, "up").returncode == 0, n
        history = target.succeeds("-n", ns, "history").splitlines()[1:]
        assert history and history[-1].split()[2] == "deployed", (n, history)
        assert one_default(cluster) == [target.storage_class], n
        code, _, output = run_counting(target, "-n", ns, *PURGE, kill_when=kill_purge)
        assert code == -9, (n, output[-2000:])
        again = next_command(target, ns, *PURGE)
        assert again.returncode == 0, (n, again.stderr)
        assert cluster.get("Namespace", ns) is None, n
        # Exactly as before; a purge record of a namespace not this test's is another
        # process's (a second suite on the same cluster), not this one's to judge.
        after = others_purges_dropped(class_annotations(cluster), namespaces.made)
        assert after == others_purges_dropped(before, namespaces.made), n


def restored(target, cluster, namespaces) -> str:
    """b1 restored ("before" live); the data it replaced ("after") in its automatic backup."""
    ns = with_backup(target, cluster, namespaces)
    target.succeeds("-n", ns, "restore", "b1", "--yes")
    return ns


# An undo restores the automatic backup the restore took: the same writes. Its first (its
# own intent: `status` must name `restore --undo` to finish it); the claim deleted
# (pvc-protection's finalizer, the real PV controller releasing the volume); the claim
# made from the snapshot (provisioned and bound by the real controllers after the kill);
# the last.
UNDO_POINTS = {
    "first": first_write,
    "claim deleted": write_to(CLAIM_DELETED),
    "claim created": write_to(CLAIM_CREATED),
    "last": RESTORED,
}


def test_restore_undo_killed_where_it_matters_is_finished_as_status_says(
    target, cluster, namespaces
):
    # An undo run twice undoes twice: the user runs what `status` names, if anything.
    args = ("restore", "--undo", "--yes")
    finish = lambda ns: finish_as_status_says(target, ns)  # noqa: E731
    found = unrecovered(
        target, cluster, namespaces, restored, args, finish, "after", points=UNDO_POINTS
    )
    assert found == []


def finish_as_status_says(target, ns: str):
    """`status` names the command that finishes an interrupted restore; run it if it does."""
    shown = target.pacdeploy("-n", ns, "status")
    assert shown.returncode == 0, shown.stderr
    named = re.search(r"finish it with `pacdeploy ([^`]*)`", shown.stdout)
    if named is None:
        return shown  # nothing interrupted: the command had finished
    return target.pacdeploy(*named.group(1).split())


def changed_with_backup(target, cluster, namespaces) -> str:
    """Revision 1's data ("v1") in the backup taken before revision 2 changed mongo."""
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "v1")
    target.succeeds("-n", ns, "up", "--volume-permissions")
    write_marker(cluster, ns, "v2")
    return ns


# Its `up` (no backup: the data is being replaced), then the restore. Revision 1's
# StatefulSet applied (the real StatefulSet controller rolls mongo after the kill, and the
# rerun's restore scales it); the revision settled (the `up` done, the restore not begun:
# the rerun applies again, then restores); the claim made from the snapshot (provisioned
# and bound after the kill); the last.
ROLLBACK_POINTS = {
    "statefulset applied": write_to(MONGO),
    "revision settled": write_to(r"^PATCH \S*/configmaps/pacdeploy\."),
    "claim created": write_to(CLAIM_CREATED),
    "last": RESTORED,
}


def test_rollback_with_data_killed_where_it_matters_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("rollback", "1", "--with-data", "--yes")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731

    def revision_1_live(cluster, ns):
        pod = cluster.get("StatefulSet", "mongo", ns)["spec"]["template"]["spec"]
        # Revision 2 added the volume-permissions init container: revision 1 has none.
        inits = [c["name"] for c in pod.get("initContainers") or []]
        return left_over(cluster, ns) + ([f"{inits}"] if "volume-permissions" in inits else [])

    found = unrecovered(
        target,
        cluster,
        namespaces,
        changed_with_backup,
        args,
        rerun,
        "v1",
        revision_1_live,
        points=ROLLBACK_POINTS,
    )
    assert found == []


# After the automatic backup (its own writes, as `backup create`'s): the claim's request
# grown (the volume's resizer acts after the kill); the StatefulSet deleted with its pods
# orphaned (the garbage collector's orphan finalizer); applied again (the real StatefulSet
# controller adopts the orphaned pod); the revision settled (last).
GROWN = r"^DELETE \S*/statefulsets/mongo"
GROW_POINTS = {
    "claim grown": write_to(r"^PATCH \S*/persistentvolumeclaims/"),
    "statefulset orphaned": write_to(GROWN),
    "statefulset applied": write_to(MONGO, after=(GROWN, 1)),
    "last": write_to(r"^PATCH \S*/configmaps/pacdeploy\."),
}


def test_up_storage_size_killed_where_it_matters_is_finished_by_running_it_again(
    target, cluster, namespaces, expandable
):
    """Killed while growing mongo's volume: the same command finishes it (claims and
    template at 2Gi, the same bytes, mongo Ready)."""
    from pacdeploy.app.manifests import claim_size

    args = ("up", "--storage-size", "2Gi")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731

    def grown(cluster, ns):
        claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", ns)
        sizes = (
            claim["status"]["capacity"]["storage"],
            claim_size(cluster.get("StatefulSet", "mongo", ns)),
        )
        return left_over(cluster, ns) + ([] if sizes == ("2Gi", "2Gi") else [f"sizes {sizes}"])

    found = unrecovered(
        target, cluster, namespaces, deployed, args, rerun, "scores", grown, points=GROW_POINTS
    )
    assert found == []
