"""When is a workload ready, and if not, why: the rules of `kubectl rollout status` and Helm.

Pure functions over API objects (plain dicts), so every rule is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    progress: str  # e.g. "2/3 ready"
    waiting_for: str = ""  # what the rollout itself still waits for
    failed: bool = False  # will not get better by waiting (e.g. progress deadline exceeded)


def _generation_pending(obj: Obj) -> bool:
    return obj.get("status", {}).get("observedGeneration", 0) < obj["metadata"].get("generation", 0)


def statefulset(sts: Obj) -> Readiness:
    spec, status = sts.get("spec", {}), sts.get("status", {})
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", 0)
    progress = f"{ready}/{want} ready"
    if _generation_pending(sts):
        return Readiness(False, progress, "the StatefulSet controller to see the new spec")
    strategy = spec.get("updateStrategy", {})
    if strategy.get("type", "RollingUpdate") == "OnDelete":
        # kubectl does not track OnDelete rollouts; readiness is all it can promise.
        return Readiness(ready >= want, progress, "" if ready >= want else "pods to become ready")
    if ready < want:
        return Readiness(False, progress, f"{want - ready} more pod(s) to become ready")
    partition = strategy.get("rollingUpdate", {}).get("partition", 0)
    if updated < want - partition:
        return Readiness(False, progress, f"{want - partition - updated} pod(s) to be updated")
    if partition == 0 and status.get("currentRevision") != status.get("updateRevision"):
        return Readiness(False, progress, "the rolling update to finish")
    return Readiness(True, progress)


def deployment(dep: Obj) -> Readiness:
    spec, status = dep.get("spec", {}), dep.get("status", {})
    want = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    progress = f"{available}/{want} available"
    if _generation_pending(dep):
        return Readiness(False, progress, "the Deployment controller to see the new spec")
    for cond in status.get("conditions", []):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return Readiness(False, progress, cond.get("message", "progress deadline"), failed=True)
    if updated < want:
        return Readiness(False, progress, f"{want - updated} pod(s) to be updated")
    if total > updated:
        return Readiness(False, progress, f"{total - updated} old pod(s) to terminate")
    if available < updated:
        return Readiness(False, progress, f"{updated - available} pod(s) to become available")
    return Readiness(True, progress)


def _name(obj: Obj) -> str:
    return obj["metadata"]["name"]


def _latest_event(events: list[Obj], kind: str, name: str, reason: str | None = None) -> Obj | None:
    matching = [
        e
        for e in events
        if e.get("involvedObject", {}).get("kind") == kind
        and e.get("involvedObject", {}).get("name") == name
        and (reason is None or e.get("reason") == reason)
    ]
    key = lambda e: e.get("lastTimestamp") or e.get("eventTime") or ""  # noqa: E731
    return max(matching, key=key) if matching else None


def has_ready_condition(obj: Obj) -> bool:
    """A pod's or a node's Ready condition is True."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in obj.get("status", {}).get("conditions", [])
    )


def selects(workload: Obj, pod: Obj) -> bool:
    """The workload's matchLabels select the pod."""
    match = workload["spec"]["selector"].get("matchLabels", {})
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in match.items())


def claims_of(pod: Obj) -> list[str]:
    """The PersistentVolumeClaims a pod mounts."""
    return [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod.get("spec", {}).get("volumes", [])
        if "persistentVolumeClaim" in v
    ]


def pod_blocker(pod: Obj, claims: dict[str, Obj], events: list[Obj]) -> str | None:
    """The most useful reason one pod is not ready yet, or None if it is ready."""
    if has_ready_condition(pod):
        return None
    status = pod.get("status", {})
    conditions = {c.get("type"): c for c in status.get("conditions", [])}
    name = _name(pod)
    if pod["metadata"].get("deletionTimestamp"):
        return f"{name}: terminating"
    for claim_name in claims_of(pod):
        claim = claims.get(claim_name)
        phase = (claim or {}).get("status", {}).get("phase", "missing")
        if phase != "Bound":
            event = _latest_event(events, "PersistentVolumeClaim", claim_name)
            detail = f": {event['message']}" if event else ""
            return f"{name}: PVC {claim_name} is {phase}{detail}"
    scheduled = conditions.get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return f"{name}: unschedulable: {scheduled.get('message') or scheduled.get('reason')}"
    if not status.get("phase") or not scheduled:
        return f"{name}: waiting for the scheduler"
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        waiting = container.get("state", {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
            message = waiting.get("message", "")
            return f"{name}: {waiting['reason']}" + (f": {message}" if message else "")
    unhealthy = _latest_event(events, "Pod", name, "Unhealthy")
    if unhealthy:
        return f"{name}: probe failing: {unhealthy.get('message', '')}"
    if status.get("phase") == "Pending":
        event = _latest_event(events, "Pod", name)
        detail = f" ({event['reason']}: {event.get('message', '')})" if event else ""
        return f"{name}: starting containers{detail}"
    return f"{name}: running, not ready yet"


def blockers(pods: list[Obj], claims: list[Obj], events: list[Obj]) -> list[str]:
    """Why the given pods are not ready, one line per pod that is not."""
    by_name = {_name(c): c for c in claims}
    reasons = [pod_blocker(p, by_name, events) for p in sorted(pods, key=_name)]
    return [r for r in reasons if r]


def owned_by(obj: Obj, kind: str, names: set[str]) -> bool:
    return any(
        ref.get("kind") == kind and ref.get("name") in names
        for ref in obj["metadata"].get("ownerReferences", [])
    )
