"""One cluster shared by every test process on this machine: many tests at once, or one alone.

Each integration test runs holding the cluster *shared*; an exclusive test (one that changes
what every other test sees) holds it *alone*: it waits for the running tests to end, and no
test starts until it has. The locks are files (flock) named after the cluster's context, so
pytest-xdist's workers and a second pytest run on the same sandbox take turns alike.

The first process to arrive sets the cluster up for the suite (``setup``, its record kept
in the directory), and the last to leave puts it back (``teardown``). A process that died
without leaving is forgotten by the next arrival.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class Sharing:
    def __init__(self, cluster_key: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cluster_key)
        self.directory = Path(tempfile.gettempdir()) / f"pacdeploy-tests-{safe}"
        self.directory.mkdir(exist_ok=True)
        # Writer preference: a test waiting to be alone holds the gate, so no new test
        # slips in ahead of it (flock alone would let shared holders starve it).
        self._gate = (self.directory / "gate").open("a")
        self._room = (self.directory / "room").open("a")
        self.holding_alone = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._room, fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._room, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._room, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        self.holding_alone = True
        try:
            yield
        finally:
            self.holding_alone = False
            fcntl.flock(self._room, fcntl.LOCK_UN)

    # -- who is here; only called holding the cluster alone --------------------------------
    def _read(self) -> Record:
        path = self.directory / "suite.json"
        found: Record = json.loads(path.read_text()) if path.exists() else {}
        found["here"] = [pid for pid in found.get("here", []) if _alive(pid)]
        return found

    def _write(self, state: Record) -> None:
        (self.directory / "suite.json").write_text(json.dumps(state))

    def arrive(self, setup: Callable[[Record | None], Record]) -> Record:
        """Join the processes using the cluster; the first runs ``setup``, given the record
        of processes that died before they could put the cluster back. The record."""
        state = self._read()
        if not state["here"]:
            state["record"] = setup(state.get("record"))
        state["here"].append(os.getpid())
        self._write(state)
        return dict(state["record"])

    def leave(self) -> tuple[bool, Record]:
        """(whether this process was the last, the record ``setup`` made)."""
        state = self._read()
        state["here"] = [pid for pid in state["here"] if pid != os.getpid()]
        record = state.get("record") or {}
        if not state["here"]:
            state.pop("record", None)
        self._write(state)
        return not state["here"], record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
