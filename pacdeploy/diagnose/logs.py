"""`pacdeploy logs`: the app's containers' logs, each line prefixed `[pod/<pod>/<container>]`
as `kubectl logs -l ... --prefix` and stern print them.

Only the app's pods are read (its label selector). Each line goes through the same
redaction as the crash diagnosis (`wait/logs.py`): every value of the app's Secret and the
password of any URL masked. Followed (`-f`), the pods are watched: a container that starts
(a new pod, a pod recreated under its old name, a restart) is followed from its first line,
and a pod that goes has its streams ended.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pacdeploy.app.manifests import DEPLOYMENT, STATEFULSET
from pacdeploy.errors import NotFound, PacdeployError
from pacdeploy.kube import fanout, logs, watch
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of
from pacdeploy.status.collect import APP_PODS
from pacdeploy.wait.changes import Watches
from pacdeploy.wait.logs import redact

WORKLOADS = (DEPLOYMENT, STATEFULSET)
Pod = dict[str, Any]


def selector(workload: str | None) -> str:
    """The pods of ``workload`` (one of WORKLOADS), or of the whole app."""
    return APP_PODS if workload is None else f"name={workload}"


@dataclass(frozen=True)
class Source:
    """One instance of one container: a restart or a pod made again is another source."""

    pod: str
    container: str
    uid: str = ""
    instance: int = 0  # the container's restart count

    @property
    def prefix(self) -> str:
        return f"[pod/{self.pod}/{self.container}]"


def _statuses(pod: Pod) -> dict[str, dict[str, Any]]:
    status = pod.get("status") or {}
    found = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    return {s["name"]: s for s in found}


def sources(pods: Iterable[Pod], *, running_only: bool = False) -> list[Source]:
    """Every container of ``pods`` (init containers first, as they run), by pod name;
    ``running_only``: those running now, the ones a follow can start on."""
    found = []
    for pod in sorted(pods, key=name_of):
        spec = pod.get("spec") or {}
        statuses = _statuses(pod)
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            status = statuses.get(container["name"], {})
            if running_only and "running" not in (status.get("state") or {}):
                continue
            found.append(
                Source(
                    name_of(pod),
                    container["name"],
                    pod["metadata"].get("uid", ""),
                    int(status.get("restartCount", 0)),
                )
            )
    return found


def prefixed(source: Source, text: str, secrets: list[str]) -> Iterator[str]:
    for line in text.splitlines():
        yield f"{source.prefix} {redact(line, secrets)}"


def app_pods(cluster: Cluster, namespace: str, workload: str | None) -> list[Pod]:
    """The pods selected; NotFound, naming `pacdeploy up`, when there are none."""
    pods = cluster.list("Pod", namespace, label_selector=selector(workload))
    if not pods:
        what = f"{workload} pods" if workload else "pods of the app"
        raise NotFound(
            f"no {what} in namespace {namespace}", f"Run `pacdeploy up -n {namespace}` first"
        )
    return pods


def read_all(
    cluster: Cluster, namespace: str, pods: list[Pod], *, window: logs.Window
) -> list[tuple[Source, str | PacdeployError]]:
    """Each container's log in ``window`` (read side by side), or why it could not be read."""

    def read(source: Source) -> str | PacdeployError:
        try:
            return logs.read(
                cluster, source.pod, namespace, container=source.container, window=window
            )
        except PacdeployError as exc:  # not started yet, no previous instance
            return exc

    found = sources(pods)
    return list(zip(found, fanout.each(read, found), strict=True))


@dataclass(frozen=True)
class Line:
    text: str
    notice: bool = False  # about a stream, not from it: goes to stderr


class Follower:
    """``-f``: every running container of the selection followed, as pods come and go."""

    def __init__(
        self, cluster: Cluster, namespace: str, label_selector: str, *, secrets: list[str]
    ) -> None:
        self.cluster, self.namespace, self.selector = cluster, namespace, label_selector
        self.secrets = secrets
        self.streams: dict[Source, watch.Cancel] = {}
        self.watches: Watches[list[Pod] | Line] = Watches()

    def run(self, window: logs.Window, emit: Callable[[Line], None]) -> None:
        """Until interrupted: ``window`` for what runs now, every line for what starts later."""
        with self.watches:
            self.watches.start(self._pods)
            try:
                while True:
                    for update in self.watches.take(watch.WATCH_SECONDS):
                        if isinstance(update, Line):
                            emit(update)
                        else:
                            self._streams_for(update, window)
                            window = logs.Window()
            finally:
                for cancel in self.streams.values():
                    cancel()

    def _pods(self, cancel: watch.Cancel) -> Iterator[list[Pod]]:
        while not cancel.cancelled:
            pods = watch.Selection("Pod", self.namespace, label_selector=self.selector)
            yield from watch.follow_selection(
                self.cluster, pods, seconds=watch.WATCH_SECONDS, cancel=cancel
            )

    def _streams_for(self, pods: list[Pod], window: logs.Window) -> None:
        running = sources(pods, running_only=True)
        uids = {p["metadata"].get("uid") for p in pods}
        for source in [s for s in self.streams if s.uid not in uids]:
            self.streams.pop(source)()  # the pod is gone: so is its stream
        for source in running:
            if source not in self.streams:
                self.streams[source] = cancel = watch.Cancel()
                self.watches.start(functools.partial(self._lines, source, window, cancel))

    def _lines(
        self, source: Source, window: logs.Window, cancel: watch.Cancel, _: watch.Cancel
    ) -> Iterator[Line]:
        """``cancel``: this stream's own (its pod may go while the others go on)."""
        try:
            for line in logs.follow(
                self.cluster,
                source.pod,
                self.namespace,
                container=source.container,
                window=window,
                cancel=cancel,
            ):
                yield Line(f"{source.prefix} {redact(line, self.secrets)}")
        except PacdeployError as exc:
            yield Line(f"{source.prefix} {exc.problem}", notice=True)
