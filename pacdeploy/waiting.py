"""Wait for workloads to be ready, showing what each waits for and why it is not there yet."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.live import Live
from rich.table import Table

from pacdeploy import readiness, ui
from pacdeploy.cluster import Cluster
from pacdeploy.errors import NotFound, NotReady

# Poll fast first (a no-op or a quick rollout ends in milliseconds), then back off so a
# long wait on a real cluster costs about one request round per second.
FIRST_POLL, MAX_POLL = 0.02, 1.0


def _polls() -> Iterator[float]:
    delay = FIRST_POLL
    while True:
        yield delay
        delay = min(delay * 1.3, MAX_POLL)


RULES = {"StatefulSet": readiness.statefulset, "Deployment": readiness.deployment}


@dataclass
class WorkloadState:
    kind: str
    name: str
    ready: bool = False
    progress: str = "not created yet"
    why: str = ""
    failed: bool = False

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    def line(self) -> str:
        status = "ready" if self.ready else f"waiting: {self.why}"
        return f"{self.ref} {self.progress} {status}"


def observe(cluster: Cluster, namespace: str, states: list[WorkloadState]) -> None:
    """Refresh every state from the cluster: rollout rules first, then pod-level reasons."""
    pending = []
    for state in states:
        obj = cluster.get(state.kind, state.name, namespace)
        if obj is None:
            state.ready, state.progress, state.why = False, "missing", "the object to be created"
            continue
        verdict = RULES[state.kind](obj)
        state.ready, state.progress, state.failed = verdict.ready, verdict.progress, verdict.failed
        state.why = verdict.waiting_for
        if not verdict.ready:
            pending.append((state, obj))
    if not pending:
        return
    pods = cluster.list("Pod", namespace)
    claims = cluster.list("PersistentVolumeClaim", namespace)
    events = cluster.list("Event", namespace)
    for state, obj in pending:
        mine = [p for p in pods if readiness.selects(obj, p)]
        reasons = readiness.blockers(mine, claims, events)
        if reasons:
            state.why = f"{state.why} ({reasons[0]})" if state.why else reasons[0]


def _table(states: list[WorkloadState], elapsed: float, timeout: float) -> Table:
    table = Table(title=f"waiting for rollout ({elapsed:.0f}s of {timeout:.0f}s)", expand=False)
    table.add_column("workload")
    table.add_column("progress")
    table.add_column("status")
    for s in states:
        status = "[green]ready[/]" if s.ready else f"[yellow]{s.why}[/]"
        table.add_row(s.ref, s.progress, status)
    return table


def wait_ready(
    cluster: Cluster, namespace: str, workloads: list[tuple[str, str]], timeout: float
) -> list[WorkloadState]:
    """Block until every (kind, name) is ready; NotReady names each laggard and its reason."""
    states = [WorkloadState(kind, name) for kind, name in workloads]
    started = time.monotonic()
    deadline = started + timeout
    last_lines: dict[str, str] = {}

    def tick() -> bool:
        observe(cluster, namespace, states)
        if not ui.interactive():
            for s in states:
                if last_lines.get(s.ref) != s.line():
                    last_lines[s.ref] = s.line()
                    ui.info(s.line())
        return all(s.ready for s in states) or any(s.failed for s in states)

    polls = _polls()
    if ui.interactive():
        with Live(_table(states, 0, timeout), console=ui.console, transient=True) as live:
            while not tick() and time.monotonic() < deadline:
                live.update(_table(states, time.monotonic() - started, timeout))
                time.sleep(next(polls))
        for s in states:
            ui.info(("[green]✓[/] " if s.ready else "[red]✗[/] ") + s.line())
    else:
        while not tick() and time.monotonic() < deadline:
            time.sleep(next(polls))

    laggards = [s for s in states if not s.ready]
    if laggards:
        cause = "failed" if any(s.failed for s in laggards) else f"not ready after {timeout:.0f}s"
        details = "; ".join(f"{s.ref} {s.progress}: {s.why}" for s in laggards)
        raise NotReady(
            f"{cause}: {details}",
            f"Inspect with `pacdeploy status -n {namespace}`, then re-run (it resumes)",
        )
    return states


def _holders(obj: dict[str, Any]) -> str:
    """What keeps an object from going: finalizers, and a namespace's content conditions."""
    finalizers = obj["metadata"].get("finalizers") or obj.get("spec", {}).get("finalizers", [])
    conditions = [
        c.get("message", "")
        for c in obj.get("status", {}).get("conditions", [])
        if c.get("status") == "True"
    ]
    return "; ".join([*(f"finalizer {f}" for f in finalizers), *conditions]) or "deletion"


def wait_gone(
    cluster: Cluster, kind: str, name: str, timeout: float, namespace: str | None = None
) -> None:
    """Wait until an object is deleted, saying what holds it; NotReady if it outlasts timeout."""
    deadline = time.monotonic() + timeout
    polls = _polls()
    ref = f"{kind.lower()}/{name}"
    with ui.step_reporter(f"waiting for {ref} to be deleted") as report:
        shown = None
        while (obj := cluster.get(kind, name, namespace)) is not None:
            held = _holders(obj)
            if time.monotonic() > deadline:
                raise NotReady(
                    f"{ref} still exists after {timeout:.0f}s, held by: {held}",
                    "Resolve what holds it, then run the command again",
                )
            if held != shown:
                report(f"{ref} is terminating, waiting on: {held}")
                shown = held
            time.sleep(next(polls))


def wait_pods_gone(cluster: Cluster, namespace: str, selector: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    polls = _polls()
    while pods := cluster.list("Pod", namespace, label_selector=selector):
        if time.monotonic() > deadline:
            names = ", ".join(p["metadata"]["name"] for p in pods)
            raise NotReady(
                f"pods still terminating after {timeout:.0f}s: {names}",
                "Check their finalizers and events, then run the command again",
            )
        time.sleep(next(polls))


def require(cluster: Cluster, kind: str, name: str, namespace: str) -> dict[str, Any]:
    obj = cluster.get(kind, name, namespace)
    if obj is None:
        raise NotFound(
            f"{kind.lower()}/{name} not found in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    return obj
