"""The scores cross stacks: `up --stack modern` on the lesson's data dumps it from MongoDB
4.4 and restores it into 8.0 on a new claim; `up --stack lesson` goes back to the kept
volume; killed after any of its writes, the same command finishes the move.

On the sandbox the documents are files in the volumes' directories, moved by the
mongodump/mongorestore stand-ins (pacdeploy/sandbox/mongo_tools.py), so the tests count
what crossed; the snapshots are the real snapshot-controller's.
"""

from __future__ import annotations

import pytest

from pacdeploy.app import stacks
from pacdeploy.data import moves
from tests.integration.test_archives import SCORES, documents, write_documents
from tests.integration.test_kill_points import Namespaces, run_counting
from tests.support import one_line

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]
CLAIM = "mongo-db-mongo-0"


@pytest.fixture
def namespaces(cluster):
    made = Namespaces(cluster)
    yield made
    made.cleanup()


@pytest.fixture
def kept_volumes(cluster):
    """Namespaces whose kept volumes (Retain) a test leaves: released after it."""
    made: list[str] = []
    yield made
    for ns in made:
        for volume in cluster.list(
            "PersistentVolume", label_selector=f"{moves.MOVED_NAMESPACE}={ns}"
        ):
            cluster.delete("PersistentVolume", volume["metadata"]["name"])


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


def test_a_move_killed_after_each_of_its_writes_is_finished_by_running_it_again(
    target, cluster, namespaces, kept_volumes
):
    first = namespaces.new()
    kept_volumes.append(first)
    lesson_with_scores(target, cluster, first)
    code, writes, output = run_counting(target, "-n", first, "up", "--stack", "modern", "--yes")
    assert code == 0 and writes > 5, output
    for n in range(1, writes + 1):
        ns = namespaces.new()
        kept_volumes.append(ns)
        lesson_with_scores(target, cluster, ns)
        run_counting(target, "-n", ns, "up", "--stack", "modern", "--yes", kill_after=n)
        said = target.pacdeploy("-n", ns, "status")
        interrupted = moves.intent_of(cluster.get("Namespace", ns)) is not None
        assert not interrupted or "move of the scores from the lesson stack" in said.stdout, n
        if interrupted:  # a plain up would not finish it: it names the command that does
            plain = target.pacdeploy("-n", ns, "up")
            assert plain.returncode == 5 and "--stack modern --yes" in one_line(plain.stderr), n
        again = target.pacdeploy("-n", ns, "up", "--stack", "modern", "--yes")
        assert again.returncode == 0, (n, again.stderr)
        assert on_stack(cluster, ns) == "modern", n
        assert documents(cluster, ns) == SCORES, n
        assert moves.intent_of(cluster.get("Namespace", ns)) is None, n
        assert cluster.get("Deployment", "pacman", ns)["spec"]["replicas"] == 2, n
        cluster.delete("Namespace", ns)
