"""`up` as a release: a backup before a risky change, a revision recorded before it.

The order is what makes a change safe to try: plan (every check, nothing written), then a
backup when the change touches MongoDB's StatefulSet and the cluster can snapshot, then
apply, then record the revision (beside the wait, so it costs no round trip), then wait,
and settle the record deployed or failed. A failed wait raises :class:`Failed`, for
`--atomic` to roll back to the last deployed revision after it, like Helm's (rollback.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pacdeploy.app.manifests import STATEFULSET
from pacdeploy.data import backups, retention, revisions, snapshots
from pacdeploy.data.revisions import Revision
from pacdeploy.errors import NotReady, PermissionDenied
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref, ref_of
from pacdeploy.output import Output
from pacdeploy.release import fields, resize
from pacdeploy.release.apply import apply_up, wait_up
from pacdeploy.release.change import Change
from pacdeploy.release.down import APP_PODS
from pacdeploy.release.plan import UpPlan, plan_up
from pacdeploy.release.wanted import Wanted


@dataclass(frozen=True)
class UpRequest:
    """What the user asked `up` for: what to deploy, and how to go about it."""

    wanted: Wanted
    backup_first: bool = True  # --no-snapshot: False
    atomic: bool = False  # --rollback-on-failure
    timeout: float = 300.0
    keep_backups: int = retention.KEEP_AUTOMATIC


class Failed(NotReady):
    """The wait failed after `up` applied its change and settled its revision failed:
    ``revision``, and the ``history`` before it, are what a rollback after it needs
    (rollback.after_failure). Made like any error, for a caller that rewords it as its own
    type (move.run): that one knows no revision."""

    def __init__(
        self,
        problem: str,
        fix: str | None = None,
        *,
        revision: Revision | None = None,
        history: Sequence[Revision] = (),
    ) -> None:
        super().__init__(problem, fix)
        self.revision = revision
        self.history = tuple(history)


@dataclass
class UpResult:
    changes: list[Change]
    revision: Revision | None  # None: nothing changed, nothing recorded


def touches_data(plan: UpPlan) -> bool:
    """The change rolls MongoDB's pods: worth a backup first (if one can be taken)."""
    sts = ref("StatefulSet", STATEFULSET)
    return sts in plan.stale and plan.existing.get(sts) is not None


def backup_name(number: int, now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime(f"before-v{number}-%Y%m%d-%H%M%S")


def plan_for(
    cluster: Cluster,
    request: UpRequest,
    out: Output,
    *,
    manifests: list[dict[str, Any]] | None = None,
) -> UpPlan:
    """The plan for ``request`` (reads only); its warnings go to stderr."""
    plan = plan_up(cluster, request.wanted, manifests)
    for warning in plan.warnings:
        out.warning(warning)
    return plan


def up(
    cluster: Cluster,
    request: UpRequest,
    out: Output,
    *,
    manifests: list[dict[str, Any]] | None = None,
    note: str | None = None,
) -> UpResult:
    ns = request.wanted.options.namespace
    # The history is read beside the plan's reads, not after them: one round trip less.
    with fanout.beside(revisions.read, cluster, ns) as reading:
        plan = plan_for(cluster, request, out, manifests=manifests)
    ns_existed = plan.namespace_existed
    history = reading.result() if ns_existed else []  # a new namespace has none
    if not plan.stale and plan.resize is None:
        return _finish_unchanged(cluster, plan, request, out=out, history=history, note=note)

    _settle_abandoned(cluster, ns, history)
    number = revisions.next_number(history)
    taken = _backup_first(cluster, plan, request, number=number, history=history, out=out)
    change = note or revisions.describe(_planned(plan))
    revision = _revision(plan, request, number, change=change, backup=taken)
    # The intent goes first where it can: the namespace of a first install is the first
    # change itself, and there the revision is written beside the wait instead.
    if ns_existed:
        revisions.record(cluster, ns, revision, older=history)
    grown, plan = _grow_volumes(cluster, plan, request, out=out)
    changes = grown + apply_up(cluster, plan)
    done = note or revisions.describe([(c.ref, c.action) for c in changes])
    revision = dataclasses.replace(revision, change=done)

    def record_first_install() -> None:
        if not ns_existed:
            revisions.record(cluster, ns, revision, older=history)

    live = revisions.live(history)
    with fanout.beside(record_first_install) as recorded:
        try:
            wait_up(
                cluster,
                plan,
                request.timeout,
                out=out,
                changes=changes,
                last_good=live.images if live else None,
            )
        except NotReady as failure:
            recorded.result()
            revisions.settle(cluster, ns, revision, status=revisions.FAILED, change=done)
            raise Failed(
                failure.problem, failure.fix, revision=revision, history=history
            ) from failure
        recorded.result()
    images = revisions.ran(cluster.list("Pod", ns, label_selector=APP_PODS))
    revisions.settle(cluster, ns, revision, status=revisions.DEPLOYED, change=done, images=images)
    return UpResult(
        changes, dataclasses.replace(revision, status=revisions.DEPLOYED, images=images)
    )


def _grow_volumes(
    cluster: Cluster, plan: UpPlan, request: UpRequest, *, out: Output
) -> tuple[list[Change], UpPlan]:
    """--storage-size: the claims grow, then the StatefulSet goes, its pods orphaned, for the
    apply to create it again with the new claim template; the plan to apply from then on."""
    if plan.resize is None:
        return [], plan
    grown = resize.grow(
        cluster, plan.options.namespace, plan.resize, timeout=request.timeout, out=out
    )
    changes = [Change(ref("PersistentVolumeClaim", name), "resized") for name in grown]
    if plan.resize.replace_statefulset:
        sts = ref("StatefulSet", STATEFULSET)
        plan = dataclasses.replace(plan, existing={**plan.existing, sts: None})  # created anew
        changes.append(Change(sts, "replaced (pods kept)"))
    return changes, plan


def _planned(plan: UpPlan) -> list[tuple[str, str]]:
    """(ref, action) of what applying ``plan`` changes: the revision's record before it is
    applied (the outcome's own list replaces it once known)."""
    return [
        (ref_of(obj), "configured" if plan.existing[ref_of(obj)] else "created")
        for obj in plan.objects
        if ref_of(obj) in plan.stale
    ]


def _revision(
    plan: UpPlan, request: UpRequest, number: int, *, change: str, **recorded: Any
) -> Revision:
    """The revision that records ``plan``: its options and manifests as applied."""
    return Revision(
        number=number,
        options=plan.options,
        storage_class=request.wanted.storage_class,
        manifests=[fields.without_digest(o) for o in plan.objects],
        change=change,
        **recorded,
    )


def _finish_unchanged(
    cluster: Cluster,
    plan: UpPlan,
    request: UpRequest,
    *,
    out: Output,
    history: list[Revision],
    note: str | None,
) -> UpResult:
    """Nothing to change, but an interrupted `up` may have left its revision unrecorded or
    pending: it is settled here, once the app is ready."""
    changes = apply_up(cluster, plan)
    try:
        wait_up(cluster, plan, request.timeout, out=out)
    except NotReady:
        _settle_interrupted(
            cluster, plan, request, history=history, status=revisions.FAILED, note=note
        )
        raise
    revision = _settle_interrupted(
        cluster, plan, request, history=history, status=revisions.DEPLOYED, note=note
    )
    return UpResult(changes, revision)


def _settle_abandoned(cluster: Cluster, ns: str, history: list[Revision]) -> None:
    """An `up` killed after recording its revision left it pending; run again with a change
    still to make, it records a revision of its own, so the one it takes over from is
    settled, not left pending for good."""
    latest = history[-1] if history else None
    if latest is not None and latest.status == revisions.PENDING:
        revisions.settle(
            cluster, ns, latest, status=revisions.FAILED, change=f"interrupted: {latest.change}"
        )


def _settle_interrupted(
    cluster: Cluster,
    plan: UpPlan,
    request: UpRequest,
    *,
    history: list[Revision],
    status: str,
    note: str | None,
) -> Revision | None:
    if not plan.namespace_existed:  # a new namespace: nothing can have been interrupted
        return None
    ns = request.wanted.options.namespace
    latest = history[-1] if history else None
    if latest is not None and latest.status == revisions.PENDING:
        revisions.settle(cluster, ns, latest, status=status)
        return dataclasses.replace(latest, status=status)
    if latest is None:  # the first install was interrupted before its revision was written
        change = note or "install (finished after an interruption)"
        revision = _revision(
            plan, request, revisions.next_number(history), change=change, status=status
        )
        revisions.record(cluster, ns, revision, older=history)
        return revision
    return None


def _backup_first(
    cluster: Cluster,
    plan: UpPlan,
    request: UpRequest,
    *,
    number: int,
    history: list[Revision],
    out: Output,
) -> str | None:
    if not request.backup_first or not touches_data(plan):
        return None
    live = revisions.live(history)
    name = backup_name(number)
    try:
        taking = backups.BackupRequest(
            namespace=request.wanted.options.namespace,
            name=name,
            timeout=request.timeout,
            revision=live.number if live else None,
            reason=backups.BEFORE_UP,
            keep_automatic=request.keep_backups,
        )
        backups.create(cluster, taking, out)
    except snapshots.NoSnapshots as exc:
        out.info(f"no backup before this change: {exc.problem}")
        return None
    except PermissionDenied as exc:
        raise PermissionDenied(
            f"cannot back up mongo's volumes before this change: {exc.problem}",
            "Ask for the snapshot RBAC in the README, or pass --no-snapshot",
        ) from exc
    out.info(f"backup {name} taken before changing {ref('StatefulSet', STATEFULSET)}")
    return name


def request_for(revision: Revision, timeout: float = 300.0, backup: bool = True) -> UpRequest:
    """Apply a recorded revision as it was, leaving the cluster's default class alone."""
    wanted = Wanted(
        revision.options, revision.storage_class, keep_default_class=True, stack_given=True
    )
    return UpRequest(wanted, backup_first=backup, timeout=timeout)
