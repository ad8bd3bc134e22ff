"""`up` and `down --purge` killed after every write, on the in-memory API server
(tests/support/memory.py), each finished by the user's next command: the same command.

The real CLI runs (`pacdeploy.cli.main`), its cluster the in-memory one; after its Nth
write every request it makes raises, as if the process had been SIGKILLed, and the next
command runs on what landed. Exhaustive, in both cases `up` meets: a fresh cluster with
another default class, and the suite's case (the class already the only default). The
real API server keeps the kill points where its own semantics matter
(tests/integration/test_kill_points.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from pacdeploy.app import storage
from tests.support.memory import Memory, Obj
from tests.support.memory_cli import OURS, UP, cluster_with, deployed, live, run

# The threads a killed command had started (its watches) die with what they were doing.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")

PURGE = ("down", "--purge", "--yes")
# The server's own bookkeeping, and what differs from one run to the next by design.
BOOKKEEPING = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields")


def state(memory: Memory) -> dict[tuple[str, str, str], Any]:
    """Every object but the server's bookkeeping; the credentials' keys, not their values
    (new each install); no revision records (the tests read `history`)."""
    found: dict[tuple[str, str, str], Any] = {}
    for key, obj in memory.objects.items():
        meta = {k: v for k, v in obj["metadata"].items() if k not in BOOKKEEPING}
        kept: Obj = {**obj, "metadata": meta}
        if key[0] == "Secret":
            kept["data"] = sorted(obj.get("data", {}))
        if key[0] == "PersistentVolumeClaim":
            kept["spec"] = {k: v for k, v in obj["spec"].items() if k != "volumeName"}
        if key[0] == "PersistentVolume":  # its claim's uid and version: new each install
            ref = {k: v for k, v in obj["spec"]["claimRef"].items() if k in ("namespace", "name")}
            kept["spec"] = {**obj["spec"], "claimRef": ref}
        if key[0] != "ConfigMap" or not key[2].startswith("pacdeploy."):
            found[key] = kept
    return found


def history(memory: Memory, capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    capsys.readouterr()
    assert run(memory, "history")[0] == 0
    return [row.split()[:3] for row in capsys.readouterr().out.splitlines()[1:]]


def classes(memory: Memory) -> dict[str, dict[str, str]]:
    return {
        key[2]: obj["metadata"].get("annotations") or {}
        for key, obj in memory.objects.items()
        if key[0] == "StorageClass"
    }


def writes_of(memory: Memory, *args: str) -> tuple[int, Memory]:
    """How many writes an uninterrupted run makes, and the cluster it leaves."""
    code, writes = run(memory, *args)
    assert code == 0 and writes > 2, (args, code, writes)
    return writes, memory


@pytest.mark.parametrize("default", ["standard", OURS], ids=["fresh-cluster", "ours-default"])
def test_up_killed_after_every_write_is_finished_by_running_it_again(default, capsys):
    ups, finished = writes_of(cluster_with(default), *UP)
    expected = state(finished)
    for n in range(1, ups + 1):
        memory = cluster_with(default)
        assert run(memory, *UP, kill_after=n) in {(-9, n), (0, ups)}, n
        assert run(memory, *UP)[0] == 0, n
        assert state(memory) == expected, n
        assert [row[2] for row in history(memory, capsys)] == ["deployed"], n
        assert storage.defaults(list(classes_as_objects(memory))) == [OURS], n


@pytest.mark.parametrize("default", ["standard", OURS], ids=["fresh-cluster", "ours-default"])
def test_down_purge_killed_after_every_write_is_finished_by_running_it_again(default):
    before = cluster_with(default)
    seeded, seeded_classes = state(before), classes(before)
    installed = cluster_with(default)
    assert run(installed, *UP)[0] == 0
    downs, _ = writes_of(deployed(default), *PURGE)
    for n in range(1, downs + 1):
        memory = deployed(default)
        assert run(memory, *PURGE, kill_after=n) in {(-9, n), (0, downs)}, n
        assert run(memory, *PURGE)[0] == 0, n
        assert state(memory) == seeded, n  # the namespace, its content, the RBAC: gone
        assert classes(memory) == seeded_classes, n  # the default given back, no record


def test_up_storage_size_killed_after_every_write_is_finished_by_running_it_again(capsys):
    """The claims grow, the StatefulSet goes (its pods orphaned) and is applied again with
    the new claim template: the same command finishes it from wherever it was killed."""
    grow = (*UP, "--storage-size", "2Gi")
    grows, finished = writes_of(deployed(OURS), *grow)
    expected = state(finished)
    sizes = {k: v["spec"] for k, v in expected.items() if k[0] == "PersistentVolumeClaim"}
    assert [s["resources"]["requests"]["storage"] for s in sizes.values()] == ["2Gi"]
    for n in range(1, grows + 1):
        memory = deployed(OURS)
        live(memory)["marker"] = "scores"
        assert run(memory, *grow, kill_after=n) in {(-9, n), (0, grows)}, n
        assert run(memory, *grow)[0] == 0, n
        assert state(memory) == expected, n
        assert live(memory) == {"marker": "scores"}, n  # the same volume, grown
        # The revision the killed run recorded is settled failed, never left pending.
        shown = [row[2] for row in history(memory, capsys)]
        assert shown in (["superseded", "deployed"], ["superseded", "failed", "deployed"]), n


def classes_as_objects(memory: Memory) -> list[Obj]:
    return [o for key, o in memory.objects.items() if key[0] == "StorageClass"]
