"""An API server in memory, for the orchestration of pacdeploy's commands in unit tests.

It keeps what the commands rely on: objects by path, one resourceVersion counter (a no-op
apply leaves it), conflicts (create of an existing name, PUT or patch over a stale
resourceVersion), the order of writes, watches from a version, and what the controllers
and pods do that the commands wait on, at once: workloads rolled out with their pods and
claims (memory_workloads.py); volumes provisioned, bound, released by their reclaim
policy, grown, snapshotted and restored from snapshots, each volume's data a small dict
(memory_storage.py); a deleted namespace gone with its content; exec into mongo's shell
and its fsync lock count (memory_exec.py), and of mongodump and mongorestore on the
documents in the volumes' data (memory_tools.py). Finalizers that wait, admission, RBAC and the
real controllers' timing are the real API server's: the integration suite keeps those
kill points.

`Cluster` is given a :class:`MemoryWire` in place of `wire.Wire`: every request the
commands make goes through ``Wire.rest`` or ``Wire.upgrade``, so the commands run
unchanged. ``kill_after``: the wire dies right after that many writes, as a SIGKILLed
process does (every later request raises :class:`Killed`; nothing more lands).
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import REGISTRY, Resource
from pacdeploy.kube.wire import Request
from tests.support import memory_exec, memory_storage, memory_workloads
from tests.support.kill_points import NOT_WRITES
from tests.support.selectors import matches

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (kind, namespace or "", name)
WORKLOADS = ("Deployment", "StatefulSet")


class Killed(BaseException):  # a process's death, not an error it handles
    """The command's process is gone: nothing it does from here reaches the server."""


def _by_plural() -> dict[tuple[str, str], Resource]:
    return {(r.api_version, r.plural): r for r in REGISTRY.values()}


@dataclass
class Address:
    resource: Resource
    namespace: str
    name: str = ""
    subresource: str = ""

    @classmethod
    def parse(cls, path: str) -> Address:
        parts = path.strip("/").split("/")
        core = parts[0] == "api"
        api_version = "v1" if core else "/".join(parts[1:3])
        rest = parts[2:] if core else parts[3:]
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        found = _by_plural()[(api_version, rest[0])]
        return cls(found, namespace, *rest[1:3])

    def key(self, name: str | None = None) -> Key:
        return (self.resource.kind, self.namespace, name or self.name)


def status_answer(code: int, reason: str, message: str) -> tuple[int, Obj]:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
    return code, {**body, "reason": reason, "message": message, "code": code}


def merge(base: Any, patch: Any) -> Any:
    """RFC 7386 merge patch (also how an apply is taken here: lists replaced whole)."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return copy.deepcopy(patch)
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(base.get(key), value)
    return merged


@dataclass
class Memory:
    """The objects, the writes in their order, the watches' events, and what is on the
    volumes, in the snapshots and locked in mongod (the controllers' and pods' part:
    tests/support/memory_storage.py, memory_workloads.py, memory_exec.py)."""

    objects: dict[Key, Obj] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    events: list[tuple[int, str, Obj]] = field(default_factory=list)
    version: int = 1
    changed: threading.Condition = field(default_factory=threading.Condition)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)  # PV name -> its data
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # handle -> its data
    locks: dict[tuple[str, str], int] = field(default_factory=dict)  # (ns, pod) -> fsync locks
    made: int = 0  # volumes and snapshots made: their names
    # What each field manager last applied to each object (server-side apply's ownership).
    applied: dict[tuple[Key, str], Obj] = field(default_factory=dict)

    def seed(self, *objects: Obj) -> None:
        with self.changed:
            for obj in objects:
                kind, meta = obj["kind"], obj["metadata"]
                key = (kind, meta.get("namespace", ""), meta["name"])
                self.store(key, copy.deepcopy(obj), "ADDED")

    def clone(self) -> Memory:
        """A copy that goes its own way: one cluster prepared, many kill points run on it."""
        with self.changed:
            kept = [f.name for f in fields(self) if f.name != "changed"]
            return Memory(**{name: copy.deepcopy(getattr(self, name)) for name in kept})

    def get(self, kind: str, name: str, namespace: str = "") -> Obj | None:
        with self.changed:
            found = self.objects.get((kind, namespace, name))
            return copy.deepcopy(found)

    def store(self, key: Key, obj: Obj, event: str) -> Obj:
        """``obj`` stored as it is (a controller's own write): a new resourceVersion, an event."""
        self.version += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.version)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        if event == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.events.append((self.version, event, copy.deepcopy(obj)))
        self.changed.notify_all()
        return obj

    # -- what a write does (called holding ``changed``) ------------------------------
    def put(self, key: Key, obj: Obj) -> Obj:
        before = self.objects.get(key)
        if before is not None and _content(before) == _content(obj):
            return before  # a no-op keeps its resourceVersion
        spec_changed = before is None or before.get("spec") != obj.get("spec")
        generation = (before or {}).get("metadata", {}).get("generation", 0)
        obj["metadata"]["generation"] = generation + 1 if spec_changed else generation
        kind = key[0]
        if kind == "PersistentVolumeClaim" and spec_changed and before is not None:
            memory_storage.claim_changed(self, obj)
        stored = self.store(key, obj, "MODIFIED" if before else "ADDED")
        answer = copy.deepcopy(stored)  # as written: what controllers do comes after
        if kind in WORKLOADS and spec_changed:
            memory_workloads.roll_out(self, stored)
        elif kind == "PersistentVolumeClaim" and before is None:
            memory_storage.claim_created(self, stored)
        elif kind == "PersistentVolume" and before is not None:
            memory_storage.volume_changed(self, stored)
        elif kind == "VolumeSnapshot" and before is None:
            memory_storage.snapshot_created(self, stored)
        return answer

    def remove(self, key: Key, *, orphan: bool = False) -> None:
        """``orphan``: a workload's pods stay (`--cascade=orphan`)."""
        obj = self.objects[key]
        self.store(key, obj, "DELETED")
        kind, namespace, name = key
        if kind == "Namespace":
            for inside in [k for k in self.objects if k[1] == name]:
                if inside in self.objects:  # not gone already with what held it
                    self.remove(inside)
        elif kind in WORKLOADS and not orphan:
            for pod in memory_workloads.pods_of(self, namespace, name):
                self.remove(pod)
        elif kind == "Pod":
            self.locks.pop((namespace, name), None)  # its mongod, and its lock, are gone
        elif kind == "PersistentVolumeClaim":
            memory_storage.claim_deleted(self, obj)
        elif kind == "PersistentVolume":
            memory_storage.volume_deleted(self, obj)
        elif kind == "VolumeSnapshot":
            memory_storage.snapshot_deleted(self, obj)


def _content(obj: Obj) -> Obj:
    """What a write can change: everything but the server's own bookkeeping."""
    meta = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "generation")}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


class Stream:
    """A watch's answer: one JSON line per event after ``since`` that matches, until the
    server's timeout, the watcher's shutdown or the process's death."""

    def __init__(self, wire: MemoryWire, address: Address, query: dict[str, Any]) -> None:
        self.wire, self.address = wire, address
        self.since = int(query["resourceVersion"])
        self.labels, self.fields = query.get("labelSelector"), query.get("fieldSelector")
        self.deadline = time.monotonic() + float(query.get("timeoutSeconds") or 300)
        self.stopped = False

    def __iter__(self) -> Iterator[bytes]:
        memory = self.wire.memory
        with memory.changed:
            while not self.stopped and not self.wire.dead:
                for version, event, obj in [e for e in memory.events if e[0] > self.since]:
                    self.since = version
                    if self._selects(obj):
                        yield json.dumps({"type": event, "object": obj}).encode() + b"\n"
                left = self.deadline - time.monotonic()
                if left <= 0:
                    return
                memory.changed.wait(min(left, 0.05))

    def _selects(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        kind = self.address.resource.kind
        where = not self.address.namespace or meta.get("namespace") == self.address.namespace
        return obj["kind"] == kind and where and matches(obj, self.labels, self.fields)

    def shutdown(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.stopped = True

    def release_conn(self) -> None:
        pass

    def read(self) -> bytes:
        return b""


@dataclass
class Answer:
    status: int
    body: bytes = b""
    response: Any = None

    def read(self) -> bytes:
        return self.body


@dataclass
class NoTransport:
    proxy: None = None


class MemoryWire:
    """`wire.Wire` for a :class:`Memory`: answers each request as an API server would."""

    def __init__(self, memory: Memory, kill_after: int | None = None) -> None:
        self.memory = memory
        self.transport = NoTransport()
        self.kill_after = kill_after
        self.written = 0
        self.dead = False

    def cluster(self) -> Cluster:
        # Cluster types its wire as Wire; this answers the two calls it makes (rest, transport).
        return Cluster(self, "memory", "https://memory.invalid", retry_seconds=0)  # type: ignore[arg-type]

    def rest(self, request: Request) -> Answer:
        if self.dead:
            raise Killed
        from tests.support.memory_rest import answer

        query = {k: v for k, v in (request.query or {}).items() if v is not None}
        address = Address.parse(request.path)
        if request.method == "GET" and query.get("watch") == "true":
            return Answer(200, response=Stream(self, address, query))
        write = request.method != "GET" and not request.path.startswith(NOT_WRITES)
        write = write and query.get("dryRun") != "All"
        with self.memory.changed:
            if self.dead:
                raise Killed
            code, body = answer(self.memory, request, address, query)
            if write and code < 300:
                self.memory.writes.append(f"{request.method} {request.path}")
                self.written += 1
                self.dead = self.written == self.kill_after
                self.memory.changed.notify_all()
        return Answer(code, json.dumps(body).encode())

    def upgrade(self, request: Request, protocol: str) -> memory_exec.ExecSocket:
        """A websocket: pods/exec is all pacdeploy asks for on the paths tested."""
        address = Address.parse(request.path)
        with self.memory.changed:
            if self.dead:
                raise Killed
            query = dict(request.query or {})
            return memory_exec.run(self.memory, address.namespace, address.name, query)
