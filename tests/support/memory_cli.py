"""The real CLI (`pacdeploy.cli.main`) on the in-memory API server (tests/support/memory.py),
killed after its Nth write when asked: what the unit kill-point tests drive."""

from __future__ import annotations

import threading
import weakref
from typing import Any
from unittest import mock

from pacdeploy import output
from pacdeploy.cli import main
from pacdeploy.cli.settings import Settings
from pacdeploy.sandbox.objects import csi_driver, snapshot_class, storage_class
from tests.support.memory import Killed, Memory, MemoryWire

NS = "app"
OURS = "csi-hostpath-sc"
UP = ("up", "--storage-class", OURS)
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-1", "labels": {"kubernetes.io/arch": "amd64"}},
    "status": {"nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}},
}


# A killed command's process is gone: its thread, left to run on here, says nothing more
# (a wait it was in ends later, and its error line would land after pytest's summary).
_killed: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_say = output._print


def _unless_killed(text: str, stream: Any = None) -> None:
    if threading.current_thread() not in _killed:
        _say(text, stream)


output._print = _unless_killed


def cluster_with(default: str, *, snapshots: bool = False) -> Memory:
    """A cluster whose only default class is ``default``, ours among its classes (it may
    grow its volumes); ``snapshots``: the CSI snapshot API with a class for ours."""
    memory = Memory()
    classes = {OURS: "hostpath.csi.k8s.io", "standard": "example.com/none"}
    made = [storage_class(name, by, default=name == default) for name, by in classes.items()]
    made[0]["allowVolumeExpansion"] = True
    memory.seed(NODE, csi_driver(), *made, *([snapshot_class()] if snapshots else []))
    return memory


def run(memory: Memory, *args: str, kill_after: int | None = None) -> tuple[int, int]:
    """The CLI on ``memory``: (exit code, -9 when killed; writes that landed).

    It runs in a thread of its own, and is taken as dead the moment its wire is: a kill
    that lands while it waits on its watches' threads (which die of it) would otherwise
    only be seen once the wait times out. What it does after that reaches nothing."""
    wire = MemoryWire(memory, kill_after)
    ended: list[int] = []

    def command() -> None:
        try:
            main(["-n", NS, *args])
            ended.append(0)
        except SystemExit as exc:
            ended.append(int(exc.code or 0))
        except Killed:
            pass
        finally:
            with memory.changed:
                ended.append(-9)  # after the exit code, if there was one
                memory.changed.notify_all()

    thread = threading.Thread(target=command, daemon=True, name="pacdeploy")
    with (
        mock.patch.object(Settings, "open_ahead", lambda _self, connections: None),
        mock.patch.object(Settings, "cluster", lambda _self: wire.cluster()),
    ):
        thread.start()
        with memory.changed:
            memory.changed.wait_for(lambda: bool(ended) or wire.dead)
    if wire.dead:
        _killed.add(thread)
    return (-9 if wire.dead else ended[0]), wire.written


def deployed(default: str = OURS, *, snapshots: bool = False) -> Memory:
    memory = cluster_with(default, snapshots=snapshots)
    assert run(memory, *UP)[0] == 0
    return memory


def live(memory: Memory) -> dict[str, str]:
    """The data on the volume mongo's claim is bound to now."""
    claim = memory.objects[("PersistentVolumeClaim", NS, "mongo-db-mongo-0")]
    return memory.volumes[claim["spec"]["volumeName"]]
