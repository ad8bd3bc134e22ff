"""Carrying out a restore plan (rules.py decides it): each step safe to run again.

1. record the intent on the StatefulSet (skipped when resuming: it is there);
2. back up the data about to be replaced (an automatic backup; finished if interrupted);
3. keep the volumes being replaced (reclaimPolicy Retain, labelled with their claim);
4. stop mongo (scale to 0) and wait for its pods to go;
5. replace each claim not yet made by this restore;
6. scale back to the replicas recorded in step 1, and wait until mongo is Ready;
7. only then: release what no longer needs keeping, and clear the intent.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pacdeploy.app.manifests import STATEFULSET
from pacdeploy.data import backups, consistency, safety
from pacdeploy.errors import PacdeployError
from pacdeploy.kube import permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import name_of, ref
from pacdeploy.output import Output
from pacdeploy.restore.intent import INTENT, LAST, Intent
from pacdeploy.restore.rules import (
    RESTORED_FROM,
    RestorePlan,
    Swap,
    keep_patch,
    prebind_patch,
    release_patch,
    way_back,
)
from pacdeploy.wait import gone, rollout

MONGO_PODS = f"name={STATEFULSET}"


def _needs(namespace: str) -> set[Need]:
    return {
        Need.on("patch", "StatefulSet", namespace),
        Need.on("patch", "StatefulSet", namespace, subresource="scale"),
        Need.on("patch", "PersistentVolume"),
        Need.on("delete", "PersistentVolumeClaim", namespace),
        Need.on("create", "PersistentVolumeClaim", namespace),
        Need.on("list", "Pod", namespace),
    }


def _record(cluster: Cluster, ns: str, annotations: dict[str, str | None]) -> None:
    cluster.merge_patch(
        "StatefulSet", STATEFULSET, {"metadata": {"annotations": annotations}}, namespace=ns
    )


def _scale(cluster: Cluster, ns: str, replicas: int, *, report: Callable[[str], None]) -> None:
    patch = {"spec": {"replicas": replicas}}
    cluster.merge_patch("StatefulSet", STATEFULSET, patch, namespace=ns, subresource="scale")
    report(f"scaled {ref('StatefulSet', STATEFULSET)} to {replicas}")


def _safety(cluster: Cluster, plan: RestorePlan, timeout: float, *, out: Output) -> Intent:
    """The automatic backup of the data about to be replaced; without snapshots, none
    (the replaced volume is then kept until the next restore)."""
    intent = plan.intent
    if intent.safety is None:
        return intent
    problem = safety.take(
        cluster,
        namespace=plan.namespace,
        name=intent.safety,
        reason=backups.BEFORE_RESTORE,
        timeout=timeout,
        out=out,
    )
    if problem is not None:
        out.info(
            f"no backup of the current data ({problem}): the volumes it is on are kept "
            "(reclaimPolicy Retain) until the next restore"
        )
        intent = dataclasses.replace(intent, safety=None)
        _record(cluster, plan.namespace, {INTENT: intent.dump()})
        return intent
    out.info(f"backup {intent.safety} taken of the data being replaced")
    return intent


def run(
    cluster: Cluster,
    plan: RestorePlan,
    *,
    timeout: float,
    out: Output,
    confirm: Callable[[str], None],
) -> None:
    """Carry out ``plan``; on any failure after the first change, say how to go on or back."""
    ns = plan.namespace
    permissions.require(cluster, _needs(ns), "restore mongo's volumes")
    if plan.resumed:
        out.info(f"finishing the interrupted restore from {plan.source}")
    else:
        confirm(
            f"Restore mongo in namespace {ns} from {plan.source}? MongoDB stops while its "
            "volumes are swapped; the current data is kept until mongo is Ready"
        )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        # An undo takes no backup, which would release them: mongo's writes are freed here.
        consistency.release_stale(cluster, ns, plan.locked, out=out)
        if not plan.resumed:
            _record(cluster, ns, {INTENT: plan.intent.dump()})
        # From here on the plan carries the intent as the safety backup left it.
        plan = dataclasses.replace(plan, intent=_safety(cluster, plan, timeout, out=out))
        with out.steps(f"restoring mongo from {plan.source}") as report:
            for swap in plan.swaps:
                for volume in (swap.keep, swap.reuse):
                    if volume is not None:
                        patch = keep_patch(volume, ns, swap.claim, rid=plan.intent.id, now=now)
                        cluster.merge_patch("PersistentVolume", name_of(volume), patch)
            if plan.kept:
                report(f"kept {', '.join(plan.kept)} (reclaimPolicy Retain)")
            _scale(cluster, ns, 0, report=report)
            gone.wait_pods_gone(cluster, ns, MONGO_PODS, timeout=timeout, out=out)
        for swap in plan.swaps:
            if swap.replacement is not None:
                _replace(cluster, swap, ns, timeout=timeout, out=out)
                origin = swap.replacement["metadata"]["annotations"][RESTORED_FROM]
                out.info(f"{ref('PersistentVolumeClaim', swap.claim)} recreated from {origin}")
        with out.steps(f"restoring mongo from {plan.source}") as report:
            _scale(cluster, ns, plan.intent.replicas, report=report)
        mongo = rollout.Workloads(ns, [("StatefulSet", STATEFULSET)])
        rollout.wait_ready(cluster, mongo, timeout=timeout, out=out)
    except PacdeployError as exc:
        raise type(exc)(f"restore failed: {exc.problem}", way_back(plan)) from exc
    except KeyboardInterrupt:
        out.error(f"restore interrupted. {way_back(plan)}")
        raise
    _finish(cluster, plan, out)


def _replace(cluster: Cluster, swap: Swap, ns: str, *, timeout: float, out: Output) -> None:
    assert swap.replacement is not None
    if swap.current is not None:
        cluster.delete("PersistentVolumeClaim", swap.claim, ns)
    # Also when an interrupted run deleted it: it may still be terminating.
    gone.wait_gone(
        cluster, "PersistentVolumeClaim", swap.claim, timeout=timeout, out=out, namespace=ns
    )
    if swap.reuse is not None:
        name = name_of(swap.reuse)
        cluster.merge_patch("PersistentVolume", name, prebind_patch(swap.claim, ns))
    cluster.create(swap.replacement)


def _finish(cluster: Cluster, plan: RestorePlan, out: Output) -> None:
    """mongo is Ready on the restored data: release what need not be kept, clear the intent.

    With a backup of the replaced data, every kept volume may go as its policy says;
    without one, this restore's kept volumes stay (Retain) as the way back, and those
    of earlier restores go."""
    intent = plan.intent
    mine = {name_of(v): v for s in plan.swaps for v in (s.keep, s.reuse) if v}
    # What an undo replaces is what the restore being undone brought (in a backup already).
    keep_mine = intent.safety is None and not intent.undo_of
    releasing = list(plan.earlier) + ([] if keep_mine else list(mine.values()))
    for volume in releasing:
        current = cluster.get("PersistentVolume", name_of(volume))
        if current is not None:
            cluster.merge_patch("PersistentVolume", name_of(volume), release_patch(current))
    last: dict[str, Any] = {"source": intent.source, "id": intent.id}
    if intent.safety:
        last["safety"] = intent.safety
    elif keep_mine and mine:
        last["kept_by"] = intent.id
        out.info(f"the data it replaced stays on {', '.join(sorted(mine))} until the next restore")
    _record(cluster, plan.namespace, {INTENT: None, LAST: json.dumps(last, sort_keys=True)})
