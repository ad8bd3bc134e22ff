"""Watching the API server: each change after a version, and a selection of objects (or
one) followed for a while: list, then watch from there, listing again after 410 Gone or a
broken stream. A watch blocked on its stream is ended from another thread by its Cancel.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import urllib3

from pacdeploy.errors import PacdeployError, WatchExpired
from pacdeploy.kube import errors
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of, resource
from pacdeploy.kube.wire import REQUEST_TIMEOUT, Request

# A watch is closed by the server after this long and re-established from the last version.
WATCH_SECONDS = 300


class Cancel:
    """Ends watches from another thread. A read blocked on the stream cannot notice a flag,
    so the stream is shut down (urllib3's HTTPResponse.shutdown, made for this): the waiter
    that no longer needs a watch frees its connection now, not when the server ends it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: list[Any] = []
        self.cancelled = False

    def attach(self, stream: Any) -> None:
        with self._lock:
            self._streams.append(stream)
            if not self.cancelled:
                return
        _shutdown(stream)

    def detach(self, stream: Any) -> None:
        with self._lock:
            self._streams.remove(stream)

    def __call__(self) -> None:
        with self._lock:
            self.cancelled, streams = True, list(self._streams)
        for stream in streams:
            _shutdown(stream)


def _shutdown(stream: Any) -> None:
    """Wake the read blocked on ``stream``. Its socket may be closed already (the server
    ended the watch, and its thread is on its way out): then nothing is left to wake."""
    with contextlib.suppress(OSError):
        stream.shutdown()


class Selection(NamedTuple):
    """What a watch selects: objects of ``kind`` in ``namespace`` (None: every namespace,
    or a cluster-scoped kind), narrowed by the selectors the API server takes."""

    kind: str
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None

    @classmethod
    def one(cls, kind: str, name: str, namespace: str | None = None) -> Selection:
        """The object of that name only."""
        return cls(kind, namespace, field_selector=f"metadata.name={name}")


def watch(
    cluster: Cluster,
    selection: Selection,
    *,
    resource_version: str,
    timeout_seconds: int = WATCH_SECONDS,
    cancel: Cancel | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, object) for each change after ``resource_version``, until the server ends
    the watch or ``cancel`` is called. Bookmarks are asked for and skipped; WatchExpired
    (410) means: list again.
    """
    query = {
        "watch": "true",
        "resourceVersion": resource_version,
        "allowWatchBookmarks": "true",
        "timeoutSeconds": timeout_seconds,
        "labelSelector": selection.label_selector,
        "fieldSelector": selection.field_selector,
    }
    path = resource(selection.kind).path(namespace=selection.namespace)
    cancel = cancel or Cancel()
    with streaming(
        cluster, path, query, read_seconds=timeout_seconds + 30, cancel=cancel
    ) as stream:
        try:
            for line in stream:
                event = json.loads(line)
                kind_of_event, obj = event["type"], event["object"]
                if kind_of_event == "ERROR":
                    if obj.get("code") == 410:
                        raise WatchExpired(obj.get("message", "resource version too old"))
                    raise PacdeployError(f"watch of {path} failed: {obj.get('message')}")
                if kind_of_event != "BOOKMARK":
                    yield kind_of_event, obj
        except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:  # the stream broke
            if cancel.cancelled:
                return
            raise WatchExpired(f"watch of {path} broke: {exc}") from exc


@contextlib.contextmanager
def streaming(
    cluster: Cluster,
    path: str,
    query: dict[str, Any],
    *,
    read_seconds: float | None,
    cancel: Cancel,
) -> Iterator[Any]:
    """A GET whose answer is a stream (a watch, a followed log), open for the block as its
    urllib3 response, ended by ``cancel``. WatchExpired when it could not start for a
    reason worth another try; the error the server gave when it refused."""
    try:
        timeout = (REQUEST_TIMEOUT[0], read_seconds)
        response = cluster.wire.rest(Request("GET", path, query, timeout=timeout))
    except Exception as exc:
        if errors.is_transient(exc):  # the server may be restarting: list (with retries)
            raise WatchExpired(f"stream of {path} could not start: {exc}") from exc
        raise errors.translate(exc, cluster.where("WATCH", path, 0)) from exc
    stream = response.response
    cancel.attach(stream)
    ended = False  # the server ended the stream: its connection can carry the next request
    try:
        if response.status != 200:
            where = cluster.where("WATCH", path, 0)
            raise errors.translate(errors.api_error(response.status, stream.read()), where)
        yield stream
        ended = not cancel.cancelled
    finally:
        cancel.detach(stream)
        if not ended:  # left mid-stream (cancelled, or the caller stopped reading): the
            stream.close()  # server may still send on it, so it must not be reused
        stream.release_conn()


def follow_selection(
    cluster: Cluster,
    selection: Selection,
    *,
    seconds: float,
    known: dict[str, Any] | None = None,
    cancel: Cancel | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The selected objects for ``seconds`` (or until ``cancel``): as they are now, then
    after every change. List, then watch from the list's resourceVersion; 410 Gone or a
    broken stream: list again. ``known``: the selection is this one object, as a write just
    returned it, watched from its own resourceVersion without listing first.
    """
    kind = selection.kind
    cancel = cancel or Cancel()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not cancel.cancelled:
        if known is not None:
            version = known["metadata"]["resourceVersion"]
            found, known = {name_of(known): known}, None
        else:
            items, version = cluster.list_with_version(
                kind,
                selection.namespace,
                label_selector=selection.label_selector,
                field_selector=selection.field_selector,
            )
            # List items carry no kind or apiVersion; watch events do.
            api_version = resource(kind).api_version
            found = {name_of(i): {"apiVersion": api_version, "kind": kind, **i} for i in items}
        yield list(found.values())
        try:
            for event, obj in watch(
                cluster,
                selection,
                resource_version=version,
                timeout_seconds=max(1, math.ceil(left)),
                cancel=cancel,
            ):
                if event == "DELETED":
                    found.pop(name_of(obj), None)
                else:
                    found[name_of(obj)] = obj
                yield list(found.values())
        except WatchExpired:
            continue


def follow(
    cluster: Cluster,
    one: Selection,
    *,
    seconds: float,
    known: dict[str, Any] | None = None,
    cancel: Cancel | None = None,
) -> Iterator[dict[str, Any] | None]:
    """Each version of the one object ``one`` selects (`Selection.one`) for ``seconds``
    (None: absent or deleted)."""
    for found in follow_selection(cluster, one, seconds=seconds, known=known, cancel=cancel):
        yield found[0] if found else None
