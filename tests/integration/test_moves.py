"""The scores cross stacks: `up --stack modern` on the lesson's data dumps it from MongoDB
4.4 and restores it into 8.0 on a new claim; `up --stack lesson` goes back to the kept
volume; killed after any of its writes, the same command finishes the move (after every
write on the in-memory API server: tests/unit/test_move_kill_points.py; here, where the
real one's semantics matter).

On the sandbox the documents are files in the volumes' directories, moved by the
mongodump/mongorestore stand-ins (pacdeploy/sandbox/mongo_tools.py), so the tests count
what crossed; the snapshots are the real snapshot-controller's.
"""

from __future__ import annotations

import pytest

from pacdeploy.app import stacks
from pacdeploy.data import moves
from tests.support import one_line
from tests.support.documents import SCORES, documents, write_documents
from tests.support.kill_points import (
    CLAIM_CREATED,
    CLAIM_DELETED,
    SNAPSHOT,
    VOLUME,
    Namespaces,
    first_write,
    next_command,
    unrecovered,
    write_to,
)

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]
CLAIM = "mongo-db-mongo-0"


def release_moved(cluster, ns: str) -> None:
    """The volumes moves kept for ``ns`` (Retain) outlive it: a test lets them go."""
    for volume in cluster.list("PersistentVolume", label_selector=f"{moves.MOVED_NAMESPACE}={ns}"):
        cluster.delete("PersistentVolume", volume["metadata"]["name"])


@pytest.fixture
def namespaces(cluster, request):
    made = Namespaces(cluster, request)
    yield made
    for ns in made.made:  # first: the cleanup below may fail the test
        release_moved(cluster, ns)
    made.cleanup()


@pytest.fixture
def kept_volumes(cluster):
    """Namespaces whose kept volumes a test leaves: let go after it."""
    made: list[str] = []
    yield made
    for ns in made:
        release_moved(cluster, ns)


def lesson_with_scores(target, cluster, ns: str) -> str:
    target.succeeds("-n", ns, "up", "--stack", "lesson", "--replicas", "2")
    write_documents(cluster, ns, SCORES)
    return cluster.get("PersistentVolumeClaim", CLAIM, ns)["spec"]["volumeName"]


def on_stack(cluster, ns: str) -> str:
    image = cluster.get("StatefulSet", "mongo", ns)["spec"]["template"]["spec"]["containers"][0]
    return stacks.of_container(image).name


def test_the_scores_move_to_the_modern_stack_and_back_to_the_kept_volume(
    target, cluster, app_ns, kept_volumes
):
    kept_volumes.append(app_ns)
    old = lesson_with_scores(target, cluster, app_ns)
    before = cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"]
    target.succeeds("-n", app_ns, "up")  # a plain up keeps the lesson stack: nothing moves
    assert cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"] == before

    moved = target.pacdeploy("-n", app_ns, "up", "--stack", "modern", "--yes")
    assert moved.returncode == 0, moved.stderr
    assert "dumped 4 documents (highscore 3, userstats 1)" in moved.stdout
    assert "restored 4 documents into pod mongo-0 on the modern stack" in moved.stdout
    assert on_stack(cluster, app_ns) == "modern"
    claim = cluster.get("PersistentVolumeClaim", CLAIM, app_ns)
    assert claim["spec"]["volumeName"] != old and documents(cluster, app_ns) == SCORES
    assert cluster.get("Deployment", "pacman", app_ns)["spec"]["replicas"] == 2
    kept = cluster.get("PersistentVolume", old)
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert kept["metadata"]["labels"][stacks.LABEL] == "lesson"
    history = target.succeeds("-n", app_ns, "history").splitlines()[-1]
    assert "scores moved from the lesson stack to the modern stack" in history
    backups = target.succeeds("-n", app_ns, "backup", "list")
    assert "before-move-" in backups  # the lesson's volume, snapshotted first

    # Scores made on the new stack stay on its volume; going back binds the old one.
    write_documents(cluster, app_ns, {"highscore": [{"_id": 7, "name": "new", "score": 1}]})
    back = target.pacdeploy("-n", app_ns, "up", "--stack", "lesson", "--yes")
    assert back.returncode == 0, back.stderr
    assert on_stack(cluster, app_ns) == "lesson"
    assert cluster.get("PersistentVolumeClaim", CLAIM, app_ns)["spec"]["volumeName"] == old
    assert documents(cluster, app_ns) == SCORES  # the old data, unchanged
    assert cluster.get("PersistentVolume", old)["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert "move" not in target.succeeds("-n", app_ns, "status")


def with_scores(target, cluster, namespaces) -> str:
    ns = namespaces.new()
    lesson_with_scores(target, cluster, ns)
    return ns


def ended_on(stack: str, kept: str):
    """What differs from the end of an uninterrupted move to ``stack`` that keeps the
    ``kept`` stack's volume."""

    def differences(cluster, ns: str) -> list[str]:
        problems = []
        if on_stack(cluster, ns) != stack:
            problems.append(f"mongo not on the {stack} stack")
        if documents(cluster, ns) != SCORES:
            problems.append(f"documents {documents(cluster, ns)}")
        if moves.intent_of(cluster.get("Namespace", ns)) is not None:
            problems.append("move intent left")
        if cluster.get("Deployment", "pacman", ns)["spec"]["replicas"] != 2:
            problems.append("web replicas not back")
        volumes = cluster.list("PersistentVolume", label_selector=f"{moves.MOVED_NAMESPACE}={ns}")
        if [v["metadata"]["labels"][stacks.LABEL] for v in volumes] != [kept]:
            problems.append(f"kept volumes {[v['metadata']['name'] for v in volumes]}")
        return problems

    return differences


# The move's writes (release/move.py), as their request lines show them.
NAMESPACE = r"^PATCH /api/v1/namespaces/[^/?]+(\?|$)"  # the intent, its progress, the apply
OLD_DELETED = r"^DELETE \S*/statefulsets/mongo"
APPLIED = write_to(r"^PATCH \S*/statefulsets/mongo(\?|$)", after=(OLD_DELETED, 1))
LAST = write_to(NAMESPACE, after=(r"^PATCH \S*/configmaps/pacdeploy\.", 1))  # intent gone

# Every write is killed in memory (tests/unit/test_move_kill_points.py); here, those where
# the real API server and controllers matter. The intent on the Namespace (first: the
# rerun resumes it, `status` and a plain `up` name it); the automatic backup's snapshot
# (the real snapshot controller cuts it after the kill, mongo locked in the exec stand-in:
# the rerun unlocks and resumes the backup); the web app scaled to 0 (the real Deployment
# controller deletes its pods with their grace period: the rerun waits them gone before
# the dump); the volume kept (Retain and labelled through the real PV API); the old
# StatefulSet deleted (its pod terminating: the rerun waits before deleting the claim);
# the claim deleted (pvc-protection's finalizer may hold it Terminating, the real PV
# controller releases the Retain volume); the new StatefulSet applied (its controller
# makes the claim, the provisioner a volume, after the kill); the last.
MOVE_POINTS = {
    "first": first_write,
    "snapshot": write_to(SNAPSHOT),
    "web stopped": write_to(r"^PATCH \S*/deployments/pacman/scale"),
    "volume kept": write_to(VOLUME),
    "statefulset deleted": write_to(OLD_DELETED),
    "claim deleted": write_to(CLAIM_DELETED),
    "statefulset applied": APPLIED,
    "last": LAST,
}


def test_a_move_killed_where_it_matters_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("up", "--stack", "modern", "--yes")

    def then(ns):
        if moves.intent_of(cluster.get("Namespace", ns)) is not None:
            said = target.pacdeploy("-n", ns, "status").stdout
            assert "move of the scores from the lesson stack" in said, said
            plain = target.pacdeploy("-n", ns, "up")  # it names the command, changes nothing
            assert plain.returncode == 5 and "--stack modern --yes" in one_line(plain.stderr)
        return next_command(target, ns, *args)

    found = unrecovered(
        target,
        cluster,
        namespaces,
        with_scores,
        args,
        then,
        extra=ended_on("modern", "lesson"),
        points=MOVE_POINTS,
    )
    assert found == []


def moved_to_modern(target, cluster, namespaces) -> str:
    ns = with_scores(target, cluster, namespaces)
    target.succeeds("-n", ns, "up", "--stack", "modern", "--yes")
    write_documents(cluster, ns, {"highscore": [{"_id": 7, "name": "new", "score": 1}]})
    return ns


# Going back shares its first steps with the move (killed above); here, those only it
# makes, where the real API server matters. The modern claim deleted (its finalizer, the
# real PV controller releasing the Retain volume); the kept volume's old claim uid
# cleared (the real PV controller may bind it to nothing else: it is pre-bound by name);
# the claim made again naming it (bound by volumeName and claimRef after the kill); the
# last (the volume bound again given its policy back).
BACK_POINTS = {
    "claim deleted": write_to(CLAIM_DELETED),
    "volume pre-bound": write_to(VOLUME, after=(VOLUME, 1)),
    "claim created": write_to(CLAIM_CREATED),
    "last": LAST,
}


def test_going_back_killed_where_it_matters_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("up", "--stack", "lesson", "--yes")
    found = unrecovered(
        target,
        cluster,
        namespaces,
        moved_to_modern,
        args,
        lambda ns: next_command(target, ns, *args),
        extra=ended_on("lesson", "modern"),
        points=BACK_POINTS,
    )
    assert found == []
