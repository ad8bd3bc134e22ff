"""Threads kept for the next connection instead of started for each.

Every connection needs a thread for its client-to-pod direction (its tunnel's reader
carries the other). Starting a thread costs about 0.3 ms on the bench machine before a
connection's first byte can go out; waking one that waits for work costs a tenth of that.
Threads that find no work for IDLE_SECONDS end, so an idle forward holds none beyond what
its connections use.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

IDLE_SECONDS = 30.0

log = logging.getLogger(__name__)

Job = tuple[Callable[..., None], tuple[Any, ...]]


class Workers:
    """Runs each job at once on a waiting thread, or on a new one if none waits."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, name: str = "worker") -> None:
        self.idle_seconds = idle_seconds
        self.name = name
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Threads waiting for a job, less the jobs queued for them and not yet taken.
        self._idle = 0

    def run(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                self._jobs.put((fn, args))
                return
        threading.Thread(target=self._work, args=((fn, args),), daemon=True, name=self.name).start()

    def _work(self, job: Job | None) -> None:
        while job is not None:
            fn, args = job
            try:
                fn(*args)
            except Exception:  # one connection's bug must not cost the pool its thread
                log.exception("%s failed", getattr(fn, "__name__", fn))
            with self._lock:
                self._idle += 1
            job = self._next()

    def _next(self) -> Job | None:
        """The next job, or None once none came for idle_seconds and none is owed to us."""
        while True:
            try:
                return self._jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # more of us wait than jobs are queued: leave
                        self._idle -= 1
                        return None
