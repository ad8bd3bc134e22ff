"""Restore, its undo, `rollback --with-data` and `backup create` killed after every write,
on the in-memory API server (tests/support/memory.py), each finished by the user's next
command; and restore's orchestration (restore/plan.py, restore/run.py) run
plainly, step by step.

The real CLI runs (`pacdeploy.cli.main`) on a cluster whose volumes hold a small dict
each (memory_storage.py): a test writes a marker on mongo's live volume, and after the
next command asks which marker is live. After its Nth write the command dies as if
SIGKILLed; the next command must leave what an uninterrupted run leaves (:func:`left_over`,
as the integration tests' own): exit 0, the marker expected, mongo at its replicas and
Ready, no restore intent, no volume still kept, one claim, mongo's writes not held.
The real API server keeps the kill points where its own semantics matter
(tests/integration/test_kill_points.py).
"""

from __future__ import annotations

import re

import pytest

from pacdeploy import restore
from pacdeploy.data import consistency
from pacdeploy.output import PlainOutput
from pacdeploy.restore import intent, rules
from pacdeploy.sandbox.objects import SNAPSHOT_CLASS
from tests.support.memory import Memory, MemoryWire
from tests.support.memory_cli import UP, deployed, live, run

# The threads a killed command had started (its watches) die with what they were doing.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")

CLAIM = "mongo-db-mongo-0"
WAIT = ("--timeout", "10s")  # nothing here waits on time: a wait that lasts is a failure
RESTORE = ("restore", "b1", "--yes", *WAIT)
UNDO = ("restore", "--undo", "--yes", *WAIT)


def no_question(_question: str) -> None:  # what --yes answers
    pass


def marker(memory: Memory) -> str | None:
    return live(memory).get("marker")


def left_over(memory: Memory) -> list[str]:
    """What differs from the end of an uninterrupted run: mongo's replicas, the intent,
    volumes still held back, claims, mongo's writes still locked."""
    problems = []
    sts = memory.objects[("StatefulSet", "app", "mongo")]
    annotations = sts["metadata"].get("annotations") or {}
    if sts["spec"]["replicas"] != 1 or sts["status"].get("readyReplicas") != 1:
        problems.append(f"mongo at {sts['spec']['replicas']} replicas")
    if intent.INTENT in annotations:
        problems.append("restore intent left")
    for (kind, _, name), obj in memory.objects.items():
        labels = obj["metadata"].get("labels") or {}
        if kind == "PersistentVolume" and labels.get(rules.REPLACED_NAMESPACE) == "app":
            problems.append(f"volume {name} still kept")
    claims = {k[2]: o for k, o in memory.objects.items() if k[0] == "PersistentVolumeClaim"}
    if list(claims) != [CLAIM] or claims[CLAIM]["status"]["phase"] != "Bound":
        problems.append(f"claims {[(n, c['status']['phase']) for n, c in claims.items()]}")
    locks = {pod: n for pod, n in memory.locks.items() if n}
    if locks or consistency.HELD in annotations:
        problems.append(f"mongo still locked ({locks})")
    return problems


def with_backup() -> Memory:
    """An app whose backup b1 holds "before" while the live volume holds "after"."""
    memory = deployed(snapshots=True)
    live(memory)["marker"] = "before"
    assert run(memory, "backup", "create", "b1")[0] == 0
    live(memory)["marker"] = "after"
    return memory


def restored() -> Memory:
    """b1 restored ("before" live); the data it replaced ("after") in its automatic backup."""
    memory = with_backup()
    assert run(memory, *RESTORE)[0] == 0
    return memory


def changed_with_backup() -> Memory:
    """Revision 1's data ("v1") in the backup taken before revision 2 changed mongo."""
    memory = deployed(snapshots=True)
    live(memory)["marker"] = "v1"
    assert run(memory, *UP, "--volume-permissions")[0] == 0
    live(memory)["marker"] = "v2"
    return memory


def without_snapshots() -> Memory:
    """b1 restored where the snapshot class went after b1 was taken: no automatic backup
    of "after", so its volume is kept (Retain) as the way back."""
    memory = with_backup()
    with memory.changed:
        memory.remove(("VolumeSnapshotClass", "", SNAPSHOT_CLASS))
    assert run(memory, *RESTORE)[0] == 0
    return memory


def finish_as_status_says(memory: Memory, capsys: pytest.CaptureFixture[str]) -> int:
    """`status` names the command that finishes an interrupted restore; run it if it does."""
    capsys.readouterr()
    assert run(memory, "status")[0] == 0
    named = re.search(r"finish it with `pacdeploy ([^`]*)`", capsys.readouterr().out)
    if named is None:
        return 0  # nothing interrupted: the command had finished
    args = named.group(1).split()
    return run(memory, *args[: args.index("-n")], *WAIT)[0]


def killed_everywhere(prepare, args, then) -> list[tuple[int, object]]:
    """For each kill point N: a cluster made by ``prepare``, ``args`` killed after its Nth
    write, then ``then(memory)`` (the user's next command: its exit code). Each N's
    (N, what went wrong) where something did: [] when every kill point was recovered."""
    writes = run(prepare(), *args)[1]
    assert writes >= 3, writes
    found: list[tuple[int, object]] = []
    for n in range(1, writes + 1):
        memory = prepare()
        assert run(memory, *args, kill_after=n) in {(-9, n), (0, writes)}, n
        code = then(memory)
        if code != 0:
            found.append((n, f"exit {code}"))
        elif problems := left_over(memory):
            found.append((n, problems))
        else:
            found.append((n, marker(memory)))
    return found


def all_say(found: list[tuple[int, object]], expected: object) -> list[tuple[int, object]]:
    return [(n, said) for n, said in found if said != expected]


def test_restore_killed_at_every_write_is_finished_by_running_it_again():
    found = killed_everywhere(with_backup, RESTORE, lambda m: run(m, *RESTORE)[0])
    assert all_say(found, "before") == []


def test_restore_killed_at_every_write_is_undone_by_undo():
    found = killed_everywhere(with_backup, RESTORE, lambda m: run(m, *UNDO)[0])
    assert all_say(found, "after") == []


def test_restore_undo_killed_at_every_write_is_finished_as_status_says(capsys):
    # An undo run twice undoes twice: the user runs what `status` names, if anything.
    found = killed_everywhere(restored, UNDO, lambda m: finish_as_status_says(m, capsys))
    assert all_say(found, "after") == []


def test_undo_of_a_restore_that_kept_the_volume_killed_at_every_write_binds_it_again(capsys):
    """No snapshot class for an automatic backup: the undo binds the kept volume again
    (its claimRef's old uid cleared, then a claim naming it): killed anywhere, finished."""
    found = killed_everywhere(without_snapshots, UNDO, lambda m: finish_as_status_says(m, capsys))
    assert all_say(found, "after") == []


def test_rollback_with_data_killed_at_every_write_is_finished_by_running_it_again():
    args = ("rollback", "1", "--with-data", "--yes", *WAIT)

    def rerun(memory: Memory) -> int:
        code = run(memory, *args)[0]
        pod = memory.objects[("StatefulSet", "app", "mongo")]["spec"]["template"]["spec"]
        # Revision 2 added the volume-permissions init container: revision 1 has none.
        inits = [c["name"] for c in pod.get("initContainers") or []]
        return code or int("volume-permissions" in inits)

    found = killed_everywhere(changed_with_backup, args, rerun)
    assert all_say(found, "v1") == []


def test_backup_create_killed_at_every_write_is_finished_by_running_it_again(capsys):
    args = ("backup", "create", "b1", *WAIT)

    def rerun(memory: Memory) -> int:
        capsys.readouterr()
        code = run(memory, *args)[0]
        if code and "already exists" not in capsys.readouterr().err:
            return code  # otherwise the killed run had finished it
        snaps = [o for k, o in memory.objects.items() if k[0] == "VolumeSnapshot"]
        ready = [(s["metadata"]["name"], s["status"]["readyToUse"]) for s in snaps]
        handle = memory.objects[("VolumeSnapshotContent", "", _content(snaps[0]))]
        held = memory.snapshots[handle["status"]["snapshotHandle"]]
        return 0 if ready == [("b1-" + CLAIM, True)] and held == {"marker": "scores"} else 1

    def prepare() -> Memory:
        memory = deployed(snapshots=True)
        live(memory)["marker"] = "scores"
        return memory

    assert all_say(killed_everywhere(prepare, args, rerun), "scores") == []


def _content(snapshot: dict) -> str:
    return snapshot["status"]["boundVolumeSnapshotContentName"]


# -- the orchestration, step by step ----------------------------------------------------
def cluster_of(memory: Memory):
    return MemoryWire(memory).cluster()


def test_a_restore_plans_one_swap_per_claim_keeps_the_volume_and_releases_it_once_done():
    memory = with_backup()
    cluster, replaced = cluster_of(memory), live_volume(memory)
    plan = restore.plan.plan(cluster, "app", "b1")
    assert (plan.resumed, plan.intent.backup, plan.intent.replicas) == (False, "b1", 1)
    assert plan.intent.safety and plan.intent.safety.startswith(rules.SAFETY_PREFIX)
    [swap] = plan.swaps
    assert (swap.claim, swap.keep["metadata"]["name"], swap.reuse) == (CLAIM, replaced, None)
    assert swap.replacement["spec"]["dataSource"]["name"] == "b1-" + CLAIM
    restore.run.run(cluster, plan, timeout=10, out=PlainOutput(), confirm=no_question)
    assert marker(memory) == "before" and left_over(memory) == []
    # The automatic backup holds "after": the replaced volume went as its policy said.
    assert ("PersistentVolume", "", replaced) not in memory.objects
    last = intent.last_of(memory.objects[("StatefulSet", "app", "mongo")])
    assert last == {"source": "backup b1", "id": plan.intent.id, "safety": plan.intent.safety}


def test_an_undo_restores_the_backup_the_restore_took_of_what_it_replaced():
    memory = restored()
    cluster = cluster_of(memory)
    safety = intent.last_of(memory.objects[("StatefulSet", "app", "mongo")])["safety"]
    plan = restore.plan.plan(cluster, "app", None)
    assert (plan.intent.backup, plan.intent.undo_of is not None) == (safety, True)
    restore.run.run(cluster, plan, timeout=10, out=PlainOutput(), confirm=no_question)
    assert marker(memory) == "after" and left_over(memory) == []


def test_without_snapshots_the_replaced_volume_stays_kept_until_the_undo_binds_it_again():
    memory = without_snapshots()
    [kept] = [o for k, o in memory.objects.items() if k[0] == "PersistentVolume" and _labelled(o)]
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert kept["status"]["phase"] == "Released" and memory.volumes[kept["metadata"]["name"]] == {
        "marker": "after"
    }
    plan = restore.plan.plan(cluster_of(memory), "app", None)
    [swap] = plan.swaps
    assert swap.reuse["metadata"]["name"] == kept["metadata"]["name"]
    assert swap.replacement["spec"]["volumeName"] == kept["metadata"]["name"]
    restore.run.run(cluster_of(memory), plan, timeout=10, out=PlainOutput(), confirm=no_question)
    assert live_volume(memory) == kept["metadata"]["name"] and marker(memory) == "after"
    assert left_over(memory) == []


def test_a_killed_restore_is_resumed_with_the_intent_it_recorded():
    memory = with_backup()
    assert run(memory, *RESTORE, kill_after=5) == (-9, 5)  # the volume kept, mongo up
    sts = memory.objects[("StatefulSet", "app", "mongo")]
    recorded = intent.intent_of(sts)
    plan = restore.plan.plan(cluster_of(memory), "app", "b1")
    assert plan.resumed and plan.intent == recorded
    with pytest.raises(Exception, match="interrupted"):
        restore.plan.plan(cluster_of(memory), "app", "b2")


def live_volume(memory: Memory) -> str:
    return str(memory.objects[("PersistentVolumeClaim", "app", CLAIM)]["spec"]["volumeName"])


def _labelled(volume: dict) -> bool:
    return rules.REPLACED_NAMESPACE in (volume["metadata"].get("labels") or {})
