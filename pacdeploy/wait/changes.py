"""Waiting by watching: watches run in threads and their updates are taken in rounds, one
at each change as it happens and one every ``tick`` in between, so a display can say how
long it has waited.

A poll loop backs off (polling.py), so on average it sees a change a third of the elapsed
time late; a watch sees it at once, for one request however long the wait. Where watching
is forbidden, the same rounds come from polling.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

from pacdeploy.errors import PacdeployError, PermissionDenied
from pacdeploy.kube import watch
from pacdeploy.kube.client import Cluster
from pacdeploy.wait.polling import Deadline, rounds

TICK = 0.25  # seconds between rounds while nothing changes

T = TypeVar("T")
Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class _Ended:
    error: PacdeployError


class Watches(Generic[T]):
    """Watches feeding one waiter, each in a thread; all of them end with the ``with``
    block, so none holds a connection after its waiter has stopped waiting."""

    def __init__(self) -> None:
        self._updates: queue.SimpleQueue[T | _Ended] = queue.SimpleQueue()
        self._cancel = watch.Cancel()

    def start(self, updates: Callable[[watch.Cancel], Iterable[T]]) -> None:
        """Run ``updates(cancel)`` in a thread; each update it yields is taken by take()."""

        def feed() -> None:
            try:
                for update in updates(self._cancel):
                    self._updates.put(update)
            except PacdeployError as exc:
                self._updates.put(_Ended(exc))

        threading.Thread(target=feed, daemon=True, name="watch").start()

    def take(self, wait: float) -> list[T]:
        """The updates that arrive within ``wait`` seconds (none past 0): at least the
        first (none if nothing came), and then all that are queued, oldest first. Raises
        the error that ended a watch: PermissionDenied says watching is forbidden (poll
        instead).
        """
        taken: list[T | _Ended] = []
        try:
            taken.append(self._updates.get(timeout=max(0.0, wait)))
            while True:
                taken.append(self._updates.get_nowait())
        except queue.Empty:
            pass
        updates: list[T] = []
        for update in taken:
            if isinstance(update, _Ended):
                raise update.error
            updates.append(update)
        return updates

    def __enter__(self) -> Watches[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cancel()


def selection(
    cluster: Cluster,
    selected: watch.Selection,
    *,
    deadline: Deadline,
    read: Callable[[], Objects],
    tick: float = TICK,
) -> Iterator[tuple[float, Objects]]:
    """(seconds elapsed, the selected objects) at each change and every ``tick`` until the
    deadline, then once more past it, so the caller looks a last time before giving up.
    ``read``: the same selection read once (for polling where watching is forbidden).

    The watch is cancelled when the caller stops iterating.
    """
    with Watches[Objects]() as watches:
        watches.start(
            lambda cancel: watch.follow_selection(
                cluster, selected, seconds=deadline.left + 1, cancel=cancel
            )
        )
        try:
            first = watches.take(deadline.left + 1)
            if not first:  # not even the first list came back in time
                yield deadline.elapsed, read()
                return
            latest = first[-1]
            while True:
                yield deadline.elapsed, latest
                if deadline.passed:
                    return
                # A burst of changes: only the newest matters.
                latest = (watches.take(min(tick, deadline.left)) or [latest])[-1]
        except PermissionDenied:
            for elapsed in rounds(deadline):
                yield elapsed, read()
