"""Watching the API server: each change after a version, and one object followed for a
while (list, then watch from there, listing again after 410 Gone or a broken stream).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import urllib3

from pacdeploy.errors import PacdeployError, WatchExpired
from pacdeploy.kube import errors
from pacdeploy.kube.client import REQUEST_TIMEOUT, Cluster
from pacdeploy.kube.resources import resource

# A watch is closed by the server after this long and re-established from the last version.
WATCH_SECONDS = 300


def watch(
    cluster: Cluster,
    kind: str,
    namespace: str | None = None,
    *,
    resource_version: str,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int = WATCH_SECONDS,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, object) for each change after ``resource_version``, until the server ends
    the watch. Bookmarks are asked for and skipped; WatchExpired (410) means: list again.
    """
    query = {
        "watch": "true",
        "resourceVersion": resource_version,
        "allowWatchBookmarks": "true",
        "timeoutSeconds": timeout_seconds,
        "labelSelector": label_selector,
        "fieldSelector": field_selector,
    }
    path = resource(kind).path(namespace=namespace)
    try:
        response = cluster.exchange(
            "GET", path, query, timeout=(REQUEST_TIMEOUT[0], timeout_seconds + 30)
        )
    except Exception as exc:
        if errors.is_transient(exc):  # the server may be restarting: list (with retries)
            raise WatchExpired(f"watch of {path} could not start: {exc}") from exc
        raise errors.translate(exc, cluster.where("WATCH", path, 0)) from exc
    stream = response.response
    try:
        if response.status != 200:
            where = cluster.where("WATCH", path, 0)
            raise errors.translate(errors.api_error(response.status, stream.read()), where)
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
        raise WatchExpired(f"watch of {path} broke: {exc}") from exc
    finally:
        stream.release_conn()


def follow(
    cluster: Cluster,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    seconds: float,
    known: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any] | None]:
    """Each version of one object for ``seconds``: as it is now, then every change
    (None: absent or deleted). List, then watch from the list's resourceVersion; 410
    Gone or a broken stream: list again. ``known``: the object as a write just returned
    it, watched from its own resourceVersion without listing first (a round trip less).
    """
    selector = f"metadata.name={name}"
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        found: dict[str, Any] | None
        if known is not None:
            found, version, known = known, known["metadata"]["resourceVersion"], None
        else:
            items, version = cluster.list_with_version(kind, namespace, field_selector=selector)
            # List items carry no kind or apiVersion; watch events do.
            api_version = resource(kind).api_version
            found = {"apiVersion": api_version, "kind": kind, **items[0]} if items else None
        yield found
        try:
            for event, obj in watch(
                cluster,
                kind,
                namespace,
                resource_version=version,
                field_selector=selector,
                timeout_seconds=max(1, math.ceil(left)),
            ):
                yield None if event == "DELETED" else obj
        except WatchExpired:
            continue
