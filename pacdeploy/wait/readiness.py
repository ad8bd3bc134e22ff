"""When is a workload ready, and if not, why: kubectl rollout status, kstatus and Helm's rules.

Pure functions over API objects (kube/bodies.py's typed views), so every rule is unit-tested.
A workload is in one of three states (kstatus's vocabulary): in progress, current, or failed.
A pod that is not ready gets one diagnosis naming the root cause a user can act on, and
whether waiting longer can still help (``fatal_after``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from pacdeploy.kube.resources import labels_of, name_of
from pacdeploy.wait import causes
from pacdeploy.wait.causes import Hints

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import (
        ContainerStatus,
        Deployment,
        Event,
        PersistentVolumeClaim,
        Pod,
        StatefulSet,
        Workload,
    )

# A container that has crashed this often will not come up by waiting (kubelet's back-off is
# already minutes long by then).
CRASH_RESTARTS = 3
# Image pulls are retried by the kubelet; a registry hiccup clears in seconds, a wrong name
# or a missing credential never does.
IMAGE_PULL_GRACE = 60.0
# A missing Secret or key may be created a moment later by whoever owns it.
CONFIG_ERROR_GRACE = 10.0
IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull"})
# The registry answered, and the answer was no: retrying the same pull cannot succeed.
_REGISTRY_REFUSED = re.compile(
    r"not found|manifest unknown|unauthorized|denied|authentication required", re.IGNORECASE
)
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError"})
QUIET_WAITING = frozenset({None, "ContainerCreating", "PodInitializing"})


class Status(Enum):
    IN_PROGRESS = "InProgress"
    CURRENT = "Current"
    FAILED = "Failed"


class Readiness(NamedTuple):
    status: Status
    progress: str  # e.g. "2/3 ready"
    message: str = ""  # what the rollout waits for, or why it failed

    @property
    def ready(self) -> bool:
        return self.status is Status.CURRENT

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


def _waiting(progress: str, message: str) -> Readiness:
    return Readiness(Status.IN_PROGRESS, progress, message)


def _generation_pending(obj: Workload) -> bool:
    observed: int = obj.get("status", {}).get("observedGeneration", 0)
    return observed < int(obj["metadata"].get("generation", 0))


def statefulset(sts: StatefulSet) -> Readiness:
    spec, status = sts.get("spec", {}), sts.get("status", {})
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    progress = f"{ready}/{want} ready"
    if _generation_pending(sts):
        return _waiting(progress, "the StatefulSet controller to see the new spec")
    if (extra := status.get("replicas", 0) - want) > 0:
        return _waiting(progress, f"{extra} pod(s) to be removed (scale-down)")
    strategy = spec.get("updateStrategy", {})
    if strategy.get("type", "RollingUpdate") == "OnDelete":
        # kubectl does not track OnDelete rollouts; readiness is all it can promise.
        if ready >= want:
            return Readiness(Status.CURRENT, progress)
        return _waiting(progress, "pods to become ready")
    if ready < want:
        return _waiting(progress, f"{want - ready} more pod(s) to become ready")
    partition = strategy.get("rollingUpdate", {}).get("partition", 0)
    if updated < want - partition:
        return _waiting(progress, f"{want - partition - updated} pod(s) to be updated")
    if partition == 0 and status.get("currentRevision") != status.get("updateRevision"):
        return _waiting(progress, "the rolling update to finish")
    return Readiness(Status.CURRENT, progress)


def deployment(dep: Deployment) -> Readiness:
    """kubectl rollout status's rule (``DeploymentStatusViewer``): the controller has seen the
    spec, every wanted pod is updated and available, no old pod is left. A scale-down is done
    once the controller has taken it, as kubectl says, while its ReplicaSet still counts the
    pods it removes (about 130 ms on the sandbox): the web pods hold no data, and a pod slow
    to terminate neither serves nor blocks anything the user asked for. The StatefulSet,
    whose pods hold volumes, waits for its scale-down to finish."""
    spec, status = dep.get("spec", {}), dep.get("status", {})
    want = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    progress = f"{min(available, want)}/{want} available"
    if spec.get("paused"):
        name = name_of(dep)
        return Readiness(
            Status.FAILED,
            progress,
            f"the rollout is paused; resume it with `kubectl rollout resume deployment/{name}`",
        )
    if _generation_pending(dep):
        return _waiting(progress, "the Deployment controller to see the new spec")
    for cond in status.get("conditions", []):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return Readiness(Status.FAILED, progress, cond.get("message", "progress deadline"))
    if updated < want:
        return _waiting(progress, f"{want - updated} pod(s) to be updated")
    if total > updated:
        return _waiting(progress, f"{total - updated} old pod(s) to terminate")
    if available < updated:
        return _waiting(progress, f"{updated - available} pod(s) to become available")
    return Readiness(Status.CURRENT, progress)


def of(workload: Workload) -> Readiness:
    return statefulset(workload) if workload["kind"] == "StatefulSet" else deployment(workload)


# -- pods ---------------------------------------------------------------------------
def _latest_event(
    events: list[Event], kind: str, name: str, *, reason: str | None = None, uid: str | None = None
) -> Event | None:
    """The newest event about an object, a Warning before any Normal one (a claim being
    provisioned says "waiting for the provisioner" every few seconds; why it fails is the
    Warning). With ``uid``, events of an earlier object of the same name do not count."""
    matching = [
        e
        for e in events
        if e.get("involvedObject", {}).get("kind") == kind
        and e.get("involvedObject", {}).get("name") == name
        and (reason is None or e.get("reason") == reason)
        and (uid is None or e.get("involvedObject", {}).get("uid") in (uid, None))
    ]
    key = lambda e: (  # noqa: E731
        e.get("type") == "Warning",
        e.get("lastTimestamp") or e.get("eventTime") or "",
    )
    return max(matching, key=key) if matching else None


def last_said(obj: Mapping[str, Any], events: list[Event]) -> str | None:
    """What the newest Event about ``obj`` (this object, by uid) says: "Reason: message"."""
    uid = obj["metadata"].get("uid")
    said = [e for e in events if e.get("involvedObject", {}).get("uid") == uid]
    if not said:
        return None
    latest = max(said, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return f"{latest.get('reason')}: {latest.get('message', '')}".strip()


def has_condition(obj: Mapping[str, Any] | None, kind: str) -> bool:
    """``obj`` has a condition of type ``kind`` that is True (a missing object has none)."""
    return obj is not None and any(
        c.get("type") == kind and c.get("status") == "True"
        for c in obj.get("status", {}).get("conditions") or []
    )


def has_ready_condition(obj: Mapping[str, Any]) -> bool:
    """A pod's or a node's Ready condition is True."""
    return has_condition(obj, "Ready")


def selects(workload: Workload, pod: Pod) -> bool:
    """The workload's matchLabels select the pod."""
    match = workload["spec"]["selector"].get("matchLabels", {})
    labels = labels_of(pod)
    return all(labels.get(k) == v for k, v in match.items())


def claims_of(pod: Pod) -> list[str]:
    """The PersistentVolumeClaims a pod mounts."""
    return [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod.get("spec", {}).get("volumes", [])
        if "persistentVolumeClaim" in v
    ]


ProblemKey = tuple[str, str, str | None]  # pod, reason, container


class PodProblem(NamedTuple):
    """Why one pod is not ready, as precisely as status and Events tell."""

    pod: str
    reason: str  # CrashLoopBackOff, OOMKilled, ImagePullBackOff, Unschedulable, ...
    detail: str = ""
    container: str | None = None
    restarts: int = 0
    # Seconds this problem may last before waiting is pointless; None: waiting may help.
    fatal_after: float | None = None
    wants_log: bool = False  # the container's previous log tells why it crashed

    @property
    def key(self) -> ProblemKey:
        return self.pod, self.reason, self.container

    def line(self, log_line: str | None = None) -> str:
        text = f"{self.pod}: {self.reason}"
        if self.detail:
            text += f" ({self.detail})" if self.wants_log else f": {self.detail}"
        if log_line:
            text += f"; last log line: {log_line}"
        return text


def _limit(pod: Pod, container: str) -> str | None:
    for spec in pod.get("spec", {}).get("containers", []):
        if spec.get("name") == container:
            memory = spec.get("resources", {}).get("limits", {}).get("memory")
            return str(memory) if memory is not None else None
    return None


def from_log(problem: PodProblem, log_line: str | None, pod: Pod, *, hints: Hints) -> PodProblem:
    """A crash whose last log line names its root cause (runc's `exec format error`)."""
    if log_line and causes.EXEC_FORMAT in log_line and problem.reason != causes.WRONG_ARCH:
        detail = causes.wrong_architecture(problem.container, pod, hints)
        return problem._replace(reason=causes.WRONG_ARCH, detail=detail, fatal_after=0.0)
    return problem


def _container_problem(
    pod: Pod, status: ContainerStatus, name: str, *, hints: Hints
) -> PodProblem | None:
    container = str(status.get("name") or "")
    restarts = status.get("restartCount", 0)
    state = status.get("state", {})
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason")
    message = waiting.get("message", "")
    terminated = state.get("terminated") or (status.get("lastState") or {}).get("terminated")
    if reason in IMAGE_PULL_REASONS or reason == "InvalidImageName":
        detail = f"image {status.get('image') or '?'}" + (f": {message}" if message else "")
        if _REGISTRY_REFUSED.search(message):
            detail += causes.last_good(container, hints)
        final = reason == "InvalidImageName" or _REGISTRY_REFUSED.search(message)
        grace = 0.0 if final else IMAGE_PULL_GRACE
        return PodProblem(name, reason, detail, container, restarts, fatal_after=grace)
    if reason in CONFIG_REASONS:
        return PodProblem(name, reason, message, container, restarts, CONFIG_ERROR_GRACE)
    crashed = terminated is not None and terminated.get("exitCode", 0) != 0
    if reason == "CrashLoopBackOff" or (crashed and not status.get("ready")):
        terminated = terminated or {}
        oom = terminated.get("reason") == "OOMKilled"
        parts = [f"container {container}"]
        if "exitCode" in terminated:
            parts.append(f"exit code {terminated['exitCode']}")
        parts.append(f"{restarts} restarts")
        if oom and (limit := _limit(pod, container)):
            parts.append(f"memory limit {limit}")
        # Down now (backing off or just exited) after repeated crashes: it will not recover.
        down = reason == "CrashLoopBackOff" or "terminated" in state
        fatal = 0.0 if down and restarts >= CRASH_RESTARTS else None
        label = "OOMKilled" if oom else (reason or "Error")
        if (cause := causes.crash_cause(terminated, container, pod, hints=hints)) is not None:
            return PodProblem(name, *cause, container, restarts, 0.0, True)
        return PodProblem(name, label, ", ".join(parts), container, restarts, fatal, True)
    if reason and reason not in QUIET_WAITING:
        return PodProblem(name, str(reason), message, container, restarts)
    return None


def diagnose_pod(
    pod: Pod,
    claims: dict[str, PersistentVolumeClaim],
    events: list[Event],
    *,
    hints: Hints | None = None,
) -> PodProblem | None:
    """The most useful reason one pod is not ready yet, or None if it is ready."""
    if has_ready_condition(pod):
        return None
    status = pod.get("status", {})
    conditions = {c.get("type"): c for c in status.get("conditions", [])}
    name = name_of(pod)
    if pod["metadata"].get("deletionTimestamp"):
        return PodProblem(name, "Terminating")
    for claim_name in claims_of(pod):
        claim = claims.get(claim_name)
        phase = (claim or {}).get("status", {}).get("phase", "missing")
        if phase != "Bound":
            uid = (claim or {}).get("metadata", {}).get("uid")
            event = _latest_event(events, "PersistentVolumeClaim", claim_name, uid=uid)
            detail = f"PVC {claim_name} is {phase}" + (f": {event['message']}" if event else "")
            return PodProblem(name, "VolumePending", detail)
    scheduled = conditions.get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return PodProblem(
            name, "Unschedulable", scheduled.get("message") or scheduled.get("reason", "")
        )
    if not status.get("phase") or not scheduled:
        return PodProblem(name, "Scheduling", "waiting for the scheduler")
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        if (
            problem := _container_problem(pod, container, name, hints=hints or Hints())
        ) is not None:
            return problem
    unhealthy = _latest_event(events, "Pod", name, reason="Unhealthy")
    if unhealthy:
        return PodProblem(name, "ProbeFailing", unhealthy.get("message", ""))
    if status.get("phase") == "Pending":
        event = _latest_event(events, "Pod", name)
        detail = f"{event['reason']}: {event.get('message', '')}" if event else ""
        return PodProblem(name, "ContainerCreating", detail)
    return PodProblem(name, "NotReady", "running, not ready yet")


def diagnose(
    pods: list[Pod],
    claims: list[PersistentVolumeClaim],
    events: list[Event],
    *,
    hints: Hints | None = None,
) -> list[PodProblem]:
    """Why the given pods are not ready, one problem per pod that is not, in name order."""
    by_name = {name_of(c): c for c in claims}
    found = [diagnose_pod(p, by_name, events, hints=hints) for p in sorted(pods, key=name_of)]
    return [p for p in found if p is not None]


# -- logs ---------------------------------------------------------------------------
class ProblemAges:
    """When each pod problem was first seen, to tell a passing problem from a fatal one: a
    pull error is fatal only once it has lasted IMAGE_PULL_GRACE. A problem no longer seen
    is forgotten, so one that comes back starts again."""

    def __init__(self) -> None:
        self.first_seen: dict[ProblemKey, float] = {}

    def observe(self, problems: list[PodProblem], now: float) -> set[ProblemKey]:
        """The keys of ``problems`` that are fatal at ``now``."""
        seen = {p.key for p in problems}
        self.first_seen = {k: v for k, v in self.first_seen.items() if k in seen}
        for problem in problems:
            self.first_seen.setdefault(problem.key, now)
        return {
            p.key
            for p in problems
            if p.fatal_after is not None and now - self.first_seen[p.key] >= p.fatal_after
        }
