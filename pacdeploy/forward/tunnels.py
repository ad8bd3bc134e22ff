"""The tunnels of a forward: one per ready pod, opened before the first connection needs it.

A pod's tunnel is opened once, by whichever thread first wants it (the others wait for
that one rather than open their own), and replaced only when it has ended. A tunnel to a
pod that is no longer ready is retired: it takes no new connection and closes when its
last one is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pacdeploy.forward.stream import TunnelClosed
from pacdeploy.forward.tunnel import Tunnel

Dial = Callable[[str], Tunnel]  # pod -> a new tunnel to it (StreamError if it cannot open)


class Tunnels:
    def __init__(self, dial: Dial) -> None:
        self._dial = dial
        self._tunnels: dict[str, Tunnel] = {}
        self._opening: dict[str, threading.Lock] = {}  # one opener per pod at a time
        self._lock = threading.Lock()
        self._closed = False

    def get(self, pod: str) -> Tunnel:
        """The pod's usable tunnel, opened now if it has none; StreamError if it cannot be,
        TunnelClosed once the forward is stopping."""
        with self._lock:
            opening = self._opening.setdefault(pod, threading.Lock())
        with opening:
            with self._lock:
                tunnel = self._tunnels.get(pod)
            if tunnel is not None and tunnel.usable():
                return tunnel
            tunnel = self._dial(pod)
            with self._lock:
                closed, old = self._closed, self._tunnels.get(pod)
                if not closed:
                    self._tunnels[pod] = tunnel
        if old is not None:
            old.retire()
        if closed:
            tunnel.close()
            raise TunnelClosed("the forward is stopping")
        return tunnel

    def missing(self, ready_pods: set[str]) -> list[str]:
        """Ready pods without a usable tunnel, to open ahead of need."""
        with self._lock:
            return [p for p in sorted(ready_pods) if not self._usable(p)]

    def keep(self, ready_pods: set[str]) -> None:
        """Retire the tunnels of pods no longer ready; ping the others if they are idle."""
        with self._lock:
            gone = [p for p in self._tunnels if p not in ready_pods]
            retired = [self._tunnels.pop(p) for p in gone]
            for pod in gone:
                self._opening.pop(pod, None)
            kept = list(self._tunnels.values())
        for tunnel in retired:
            tunnel.retire()
        for tunnel in kept:
            tunnel.ping_if_idle()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            tunnels, self._tunnels = list(self._tunnels.values()), {}
        for tunnel in tunnels:
            tunnel.close()

    def _usable(self, pod: str) -> bool:
        tunnel = self._tunnels.get(pod)
        return tunnel is not None and tunnel.usable()
