"""Waiting on a selection of objects by watching it: a round at each change, as it
happens, and one every ``tick`` in between, so a display can say how long it has waited.

A poll loop backs off (polling.py), so on average it sees a change a third of the elapsed
time late; a watch sees it at once, for one request however long the wait. Where watching
is forbidden, the same rounds come from polling.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pacdeploy.errors import PacdeployError, PermissionDenied
from pacdeploy.kube import watch
from pacdeploy.kube.client import Cluster
from pacdeploy.wait.polling import Deadline, rounds

TICK = 0.25  # seconds between rounds while nothing changes

Objects = list[dict[str, Any]]


def selection(
    cluster: Cluster,
    kind: str,
    namespace: str,
    label_selector: str,
    deadline: Deadline,
    *,
    read: Callable[[], Objects],
    tick: float = TICK,
) -> Iterator[tuple[float, Objects]]:
    """(seconds elapsed, the selected objects) at each change and every ``tick`` until the
    deadline, then once more past it, so the caller looks a last time before giving up.
    ``read``: the same selection read once (for polling where watching is forbidden).

    The watch runs in a thread; it is cancelled when the caller stops iterating.
    """
    updates: queue.SimpleQueue[Objects | PacdeployError] = queue.SimpleQueue()
    cancel = watch.Cancel()

    def feed() -> None:
        try:
            for found in watch.follow_selection(
                cluster,
                kind,
                namespace,
                seconds=deadline.left + 1,
                label_selector=label_selector,
                cancel=cancel,
            ):
                updates.put(found)
        except PacdeployError as exc:
            updates.put(exc)

    threading.Thread(target=feed, daemon=True, name="watch").start()
    try:
        latest = updates.get(timeout=deadline.left + 1)
        while True:
            if isinstance(latest, PermissionDenied):
                for elapsed in rounds(deadline):
                    yield elapsed, read()
                return
            if isinstance(latest, PacdeployError):
                raise latest
            yield deadline.elapsed, latest
            if deadline.passed:
                return
            try:
                latest = updates.get(timeout=min(tick, deadline.left))
                while True:  # a burst of changes: only the newest matters
                    latest = updates.get_nowait()
            except queue.Empty:
                pass
    except queue.Empty:  # not even the first list came back in time
        yield deadline.elapsed, read()
    finally:
        cancel()
