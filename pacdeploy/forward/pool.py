"""Port-forward streams opened ahead of need.

A new connection costs a TLS handshake and an upgrade through the API server to the
kubelet (~10 ms). A couple of streams opened ahead of time make it free, like kubectl's
multiplexed SPDY streams. A stream in the pool belongs to the pool alone: it is checked and
closed only under the pool's lock, and :meth:`WarmPool.take` hands it over whole.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from pacdeploy.forward.stream import PodStream

WARM_STREAMS = 2
# Recycled before an app or a proxy on the way would time out an idle socket.
WARM_MAX_AGE = 10.0


class WarmPool:
    def __init__(self, size: int = WARM_STREAMS, max_age: float = WARM_MAX_AGE) -> None:
        self.size = size
        self.max_age = max_age
        self.wanted = threading.Event()  # set when a stream was taken or dropped
        self._streams: deque[PodStream] = deque()
        self._opening = 0
        self._closed = False
        self._lock = threading.Lock()

    def _usable(self, stream: PodStream, ready_pods: set[str]) -> bool:
        young = time.monotonic() - stream.born <= self.max_age
        return young and stream.pod in ready_pods and stream.idle()

    def take(self, ready_pods: set[str]) -> PodStream | None:
        """A usable stream, now owned by the caller; stale ones met on the way are closed."""
        stale, taken = [], None
        with self._lock:
            while self._streams:
                stream = self._streams.popleft()
                if self._usable(stream, ready_pods):
                    taken = stream
                    break
                stale.append(stream)
        for stream in stale:
            stream.close()
        self.wanted.set()
        return taken

    def prune(self, ready_pods: set[str]) -> None:
        """Close streams that are too old, to pods no longer ready, or closed by the other end."""
        with self._lock:
            keep = [s for s in self._streams if self._usable(s, ready_pods)]
            stale = [s for s in self._streams if s not in keep]
            self._streams = deque(keep)
        for stream in stale:
            stream.close()

    def reserve(self) -> bool:
        """Claim the right to open one more stream, if the pool is short of one."""
        with self._lock:
            if self._closed or len(self._streams) + self._opening >= self.size:
                return False
            self._opening += 1
            return True

    def add(self, stream: PodStream) -> None:
        """Hand a reserved stream to the pool (closed at once if the pool is)."""
        with self._lock:
            self._opening -= 1
            if not self._closed:
                self._streams.append(stream)
                return
        stream.close()

    def release(self) -> None:
        """Give back a reservation whose stream could not be opened."""
        with self._lock:
            self._opening -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            streams, self._streams = list(self._streams), deque()
        for stream in streams:
            stream.close()
        self.wanted.set()
