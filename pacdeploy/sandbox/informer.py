"""A small informer, as client-go's controllers have: a cache of one kind kept by list and
watch, and a work queue of the keys that changed.

Each watch event updates the cache and queues that one object; a list runs only at start
and when a watch cannot resume (410 Gone, a broken stream), and then queues only what the
list shows changed or gone. A burst of changes elsewhere on the cluster therefore costs one
queue entry each, never a re-list each (the sandbox's provisioner once fell minutes behind
a burst of 15,000 PersistentVolume deletions that way). What the controller can owe nothing
(``keep`` says no: another driver's volume) is neither cached nor queued, so a crowded
cluster's objects cost a glance each, and never a place in the queue ahead of ours.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pacdeploy.errors import PacdeployError, WatchExpired
from pacdeploy.kube import watch
from pacdeploy.kube.client import Cluster

log = logging.getLogger("pacdeploy.informer")
RETRY_SECONDS = 1.0  # after a failed list or watch (the API server may be restarting)

Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name


def key_of(kind: str, obj: dict[str, Any]) -> Key:
    meta = obj["metadata"]
    return kind, meta.get("namespace") or "", meta["name"]


class WorkQueue:
    """Keys to handle, each at most once in the queue however often it changed."""

    def __init__(self) -> None:
        self._keys: OrderedDict[Key, None] = OrderedDict()
        self._ready = threading.Condition()

    def add(self, key: Key) -> None:
        with self._ready:
            self._keys[key] = None
            self._ready.notify()

    def get(self, timeout: float) -> Key | None:
        with self._ready:
            if not self._keys and not self._ready.wait(timeout):
                return None
            if not self._keys:
                return None
            return self._keys.popitem(last=False)[0]

    def __len__(self) -> int:
        with self._ready:
            return len(self._keys)


class Informer:
    """The cache of one kind, fed by its own thread; changes go to ``queue``."""

    def __init__(
        self,
        cluster: Cluster,
        kind: str,
        queue: WorkQueue,
        *,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.cluster = cluster
        self.kind = kind
        self.queue = queue
        self.keep = keep or (lambda _: True)
        self.synced = threading.Event()
        self._cache: dict[Key, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> dict[str, Any] | None:
        with self._lock:
            return self._cache.get(key)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._cache.values())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                version = self._relist()
                for event, obj in watch.watch(
                    self.cluster, watch.Selection(self.kind), resource_version=version
                ):
                    self._apply(event, obj)
                    if stop.is_set():
                        return
            except WatchExpired:
                continue
            except PacdeployError as exc:
                log.warning("watching %s failed: %s", self.kind, exc)
                stop.wait(RETRY_SECONDS)

    def _relist(self) -> str:
        items, version = self.cluster.list_with_version(self.kind)
        fresh = {key_of(self.kind, o): o for o in items if self.keep(o)}
        with self._lock:
            old, self._cache = self._cache, fresh
        changed = [k for k, o in fresh.items() if _version(old.get(k)) != _version(o)]
        for key in changed + [k for k in old if k not in fresh]:
            self.queue.add(key)
        self.synced.set()
        return version

    def _apply(self, event: str, obj: dict[str, Any]) -> None:
        key = key_of(self.kind, obj)
        with self._lock:
            if event != "DELETED" and self.keep(obj):
                self._cache[key] = obj
            elif self._cache.pop(key, None) is None:
                return  # never ours: nothing to tell
        self.queue.add(key)


def _version(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else obj["metadata"].get("resourceVersion")
