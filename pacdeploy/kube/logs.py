"""Container logs through the API server (pods/log): read once, or followed as they grow.

A followed log is a stream the kubelet ends when the container does; the API server keeps
it open meanwhile, so it is ended from another thread by its Cancel, as a watch is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import urllib3

from pacdeploy.errors import PacdeployError
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import resource
from pacdeploy.kube.watch import Cancel, streaming


class Window(NamedTuple):
    """Which lines: kubectl logs' --tail (None: all), --since (seconds), --previous."""

    tail: int | None = None
    since_seconds: int | None = None
    previous: bool = False

    def query(self, container: str | None) -> dict[str, object]:
        return {
            "container": container,
            "tailLines": self.tail,
            "sinceSeconds": self.since_seconds,
            "previous": "true" if self.previous else None,
        }


def read(
    cluster: Cluster, pod: str, namespace: str, *, container: str | None, window: Window
) -> str:
    """The lines of ``window`` of one container's log, as they are now."""
    path = resource("Pod").path(pod, namespace, "log")
    return cluster.send("GET", path, query=window.query(container)).decode(errors="replace")


def follow(
    cluster: Cluster,
    pod: str,
    namespace: str,
    *,
    container: str,
    window: Window,
    cancel: Cancel,
) -> Iterator[str]:
    """Each line of one container's log (without its newline) as it is written, until the
    container ends or ``cancel`` is called."""
    path = resource("Pod").path(pod, namespace, "log")
    query = {**window.query(container), "follow": "true"}
    with streaming(cluster, path, query, read_seconds=None, cancel=cancel) as stream:
        try:
            for line in stream:
                yield line.decode(errors="replace").rstrip("\r\n")
        except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:
            if not cancel.cancelled:
                raise PacdeployError(f"the log of {pod}/{container} broke off: {exc}") from exc
