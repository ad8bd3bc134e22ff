"""Waiting for workloads to be ready, showing what each waits for and why it is not yet.

Workloads are watched; their pods, claims and Events are read only for a workload that has
not become ready quickly, to name its root cause (readiness.py decides from what is read),
and a wait fails early when that cause will not go away by waiting.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pacdeploy.app.manifests import SECRET
from pacdeploy.errors import NotReady, PermissionDenied
from pacdeploy.kube import watch
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of, ref
from pacdeploy.output import Output, Row
from pacdeploy.wait import causes, readiness
from pacdeploy.wait.changes import TICK, Watches
from pacdeploy.wait.logs import CrashLogs
from pacdeploy.wait.polling import intervals

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import Event, PersistentVolumeClaim, Pod, Workload


@dataclass
class WorkloadState:
    kind: str
    name: str
    verdict: readiness.Readiness | None = None  # None: the object does not exist
    problem: readiness.PodProblem | None = None  # the first unready pod's root cause
    log_line: str | None = None
    fatal: bool = False  # the problem will not go away by waiting

    @property
    def ref(self) -> str:
        return ref(self.kind, self.name)

    @property
    def ready(self) -> bool:
        return self.verdict is not None and self.verdict.ready

    @property
    def failed(self) -> bool:
        return self.fatal or (self.verdict is not None and self.verdict.failed)

    @property
    def progress(self) -> str:
        return self.verdict.progress if self.verdict else "missing"

    @property
    def why(self) -> str:
        rollout = self.verdict.message if self.verdict else "the object to be created"
        if self.problem is None:
            return rollout
        pod = self.problem.line(self.log_line)
        return f"{rollout} ({pod})" if rollout else pod

    @property
    def status(self) -> str:
        return "ready" if self.ready else f"{'failed' if self.failed else 'waiting'}: {self.why}"

    def row(self) -> Row:
        style = "ok" if self.ready else "failed" if self.failed else "waiting"
        return Row((self.ref, self.progress, self.status), style, key=self.ref)

    def line(self) -> str:
        return self.row().text


Update = tuple[WorkloadState, dict[str, Any] | None]  # a workload's new version

# A rollout that is not done this soon is worth a look at its pods, and again this often.
DIAGNOSE_AFTER = 1.0
DIAGNOSE_EVERY = 1.0
EVENT_READS = 8  # unready objects whose Events are read each round (the first are shown)


class Rollout:
    """What a set of workloads waits for.

    Workload objects arrive from watches (:meth:`versions`), or from polling (:meth:`poll`)
    where watching is forbidden. Pods, claims and Events are only read (:meth:`diagnose`)
    for a workload that has not become ready quickly: a fast rollout costs no more than
    its watches. Remembers when each pod problem was first seen (a pull error is fatal
    only once it has lasted IMAGE_PULL_GRACE) and the log line of each crash, so a log is
    read once per restart.
    """

    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        workloads: list[tuple[str, str]],
        *,
        hints: causes.Hints | None = None,
    ) -> None:
        self.cluster = cluster
        self.hints = hints or causes.Hints()
        self.namespace = namespace
        self.states = [WorkloadState(kind, name) for kind, name in workloads]
        self.ages = readiness.ProblemAges()
        self.logs = CrashLogs(cluster, namespace)

        self.objects: dict[str, Workload | None] = {}

    @property
    def done(self) -> bool:
        return all(s.ready for s in self.states) or any(s.failed for s in self.states)

    def update(self, state: WorkloadState, obj: dict[str, Any] | None) -> None:
        """A workload's new version (None: it does not exist), watched or read."""
        workload = self.objects[state.ref] = cast("Workload | None", obj)
        state.verdict = None if workload is None else readiness.of(workload)
        if state.ready:
            state.problem, state.log_line, state.fatal = None, None, False

    def poll(self) -> None:
        for state in self.states:
            self.update(state, self.cluster.get(state.kind, state.name, self.namespace))
        self.diagnose()

    def versions(
        self,
        state: WorkloadState,
        seconds: float,
        cancel: watch.Cancel,
        *,
        known: dict[str, Any] | None,
    ) -> Iterator[Update]:
        """Every version of one workload for ``seconds``, watched (a thread's job)."""
        for obj in watch.follow(
            self.cluster,
            watch.Selection.one(state.kind, state.name, self.namespace),
            seconds=seconds,
            known=known,
            cancel=cancel,
        ):
            yield state, obj

    def diagnose(self) -> None:
        """Name each unready workload's root cause from its pods, claims and Events."""
        pending = [
            (state, obj)
            for state in self.states
            if not state.ready and (obj := self.objects.get(state.ref)) is not None
        ]
        if not pending:
            return
        pods, claims, events = self._read()
        found = [
            (state, readiness.diagnose(_selected(obj, pods), claims, events, hints=self.hints))
            for state, obj in pending
        ]
        fatal_now = self.ages.observe(
            [p for _, problems in found for p in problems], time.monotonic()
        )
        for state, problems in found:
            state.problem, state.log_line, state.fatal = None, None, False
            if not problems:
                continue
            # The worst first: one that is already fatal, else the first pod's.
            fatal = [p for p in problems if p.key in fatal_now]
            state.problem = (fatal or problems)[0]
            state.fatal = bool(fatal)
            if state.problem.wants_log:
                state.log_line = self.logs.last_line(state.problem)
                pod = next(p for p in pods if name_of(p) == state.problem.pod)
                state.problem = readiness.from_log(
                    state.problem, state.log_line, pod, hints=self.hints
                )
                state.fatal = state.fatal or state.problem.fatal_after == 0.0

    def _read(self) -> tuple[list[Pod], list[PersistentVolumeClaim], list[Event]]:
        """The namespace's pods and claims, and the Events of those not ready or bound."""
        pods = self.cluster.list("Pod", self.namespace)
        claims = self.cluster.list("PersistentVolumeClaim", self.namespace)
        events = self.cluster.events_about(
            self.namespace,
            [p for p in pods if not readiness.has_ready_condition(p)]
            + [c for c in claims if c.get("status", {}).get("phase") != "Bound"],
            limit=EVENT_READS,
        )
        return (
            cast("list[Pod]", pods),
            cast("list[PersistentVolumeClaim]", claims),
            cast("list[Event]", events),
        )


def _selected(workload: Workload, pods: list[Pod]) -> list[Pod]:
    return [p for p in pods if readiness.selects(workload, p)]


def fix_for(problem: readiness.PodProblem | None, namespace: str) -> str:
    """What a user should do next about a pod problem."""
    reason = problem.reason if problem else ""
    if reason in (causes.WRONG_ARCH, causes.NO_INSTRUCTION):
        return f"Waiting will not help: `pacdeploy up -n {namespace}` with the --stack named"
    if problem and problem.wants_log:
        return (
            f"Read its log with `kubectl -n {namespace} logs {problem.pod} "
            f"-c {problem.container} --previous`, fix the cause, then re-run"
        )
    if reason in readiness.IMAGE_PULL_REASONS or reason == "InvalidImageName":
        return "Check the image name and the registry's credentials (--pacman-image), then re-run"
    if reason in readiness.CONFIG_REASONS:
        return (
            f"Add what is missing to secret/{SECRET}, or delete it so `pacdeploy up` "
            "generates a complete one, then re-run"
        )
    return f"Inspect with `pacdeploy status -n {namespace}`, then re-run (it resumes)"


@dataclass(frozen=True)
class Workloads:
    """The workloads to wait for: each (kind, name) in ``namespace``. ``known``: ref -> a
    workload as just written (watched from there, not listed first)."""

    namespace: str
    refs: list[tuple[str, str]]
    known: dict[str, dict[str, Any]] = field(default_factory=dict)


def wait_ready(
    cluster: Cluster,
    workloads: Workloads,
    *,
    timeout: float,
    out: Output,
    hints: causes.Hints | None = None,
) -> list[WorkloadState]:
    """Block until every workload is ready; NotReady names each laggard and its reason.

    Reacts to watch events (polls instead where watching is forbidden). Fails early,
    without waiting out the timeout, when a workload's rollout has failed or a pod's
    problem will not go away by waiting (repeated crashes, an image that cannot be pulled,
    a missing Secret key).
    """
    namespace = workloads.namespace
    rollout = Rollout(cluster, namespace, workloads.refs, hints=hints)
    states = rollout.states
    _watch(rollout, timeout, out, known=workloads.known)

    laggards = [s for s in states if not s.ready]
    if laggards:
        failed = [s for s in laggards if s.failed]
        cause = "failed" if failed else f"not ready after {timeout:.0f}s"
        details = "; ".join(f"{s.ref} {s.progress}: {s.why}" for s in failed or laggards)
        first = (failed or laggards)[0]
        raise NotReady(f"{cause}: {details}", fix_for(first.problem, namespace))
    return states


def _watch(
    rollout: Rollout, timeout: float, out: Output, *, known: dict[str, dict[str, Any]]
) -> None:
    """Follow every workload until all are ready, one fails, or ``timeout`` passes."""
    states = rollout.states
    started = time.monotonic()
    polls = intervals()
    polling = False
    last_diagnosis = started
    with Watches[Update]() as watches, out.board(("workload", "progress", "status")) as board:
        for state in states:
            if state.ref in known:
                rollout.update(state, known[state.ref])
        # Ready as last seen (a no-op `up`): nothing to watch for, and no round trip to open
        # a watch. A workload just written has a generation its controller has not seen.
        settled = len(rollout.objects) == len(states) and rollout.done
        for state in [] if settled else states:
            watches.start(
                functools.partial(rollout.versions, state, timeout, known=known.get(state.ref))
            )
        while not settled:
            elapsed = time.monotonic() - started
            if polling:
                rollout.poll()
            else:
                try:
                    for update in watches.take(min(TICK, timeout - elapsed)):
                        rollout.update(*update)
                except PermissionDenied:
                    polling = True  # watching is forbidden: poll like before watches existed
                    continue
                slow = time.monotonic() - started >= DIAGNOSE_AFTER
                if (
                    slow
                    and not rollout.done
                    and time.monotonic() - last_diagnosis >= DIAGNOSE_EVERY
                ):
                    rollout.diagnose()
                    last_diagnosis = time.monotonic()
            elapsed = time.monotonic() - started
            title = f"waiting for rollout ({elapsed:.0f}s of {timeout:.0f}s)"
            if all(s.ref in rollout.objects for s in states):  # each seen once: worth showing
                board.update([s.row() for s in states], title)
            if rollout.done or elapsed >= timeout:
                break
            if polling:
                time.sleep(next(polls))
        board.settle([(s.ready, s.line()) for s in states])
