"""`up` and `rollback` as releases: a backup before a risky change, a revision record after.

The order is what makes a change safe to try: plan (every check, nothing written), then a
backup when the change touches MongoDB's StatefulSet and the cluster can snapshot, then
apply, then record the revision (beside the wait, so it costs no round trip), then wait,
and settle the record deployed or failed. `--atomic` turns a failed wait into a rollback
to the last deployed revision, like Helm's.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pacdeploy import backups, deploy, revisions
from pacdeploy.errors import InvalidInput, NotFound, NotReady, PermissionDenied
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref, ref_of
from pacdeploy.manifests import STATEFULSET, Options
from pacdeploy.output import Output
from pacdeploy.revisions import Revision


@dataclass(frozen=True)
class UpRequest:
    """What the user asked `up` for."""

    options: Options
    storage_class: str
    keep_default_class: bool = False
    replicas_given: bool = True
    force: bool = False
    backup: bool = True  # --no-snapshot: False
    atomic: bool = False
    timeout: float = 300.0
    keep_backups: int = backups.KEEP_AUTOMATIC


@dataclass
class UpResult:
    changes: list[deploy.Change]
    revision: Revision | None  # None: nothing changed, nothing recorded


def without_digest(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as rendered: the digest is recomputed when a recorded revision is applied."""
    annotations = {
        k: v for k, v in (obj["metadata"].get("annotations") or {}).items() if k != deploy.APPLIED
    }
    metadata = {k: v for k, v in obj["metadata"].items() if k != "annotations"}
    if annotations:
        metadata["annotations"] = annotations
    return {**obj, "metadata": metadata}


def touches_data(plan: deploy.UpPlan) -> bool:
    """The change rolls MongoDB's pods: worth a backup first (if one can be taken)."""
    sts = ref("StatefulSet", STATEFULSET)
    return sts in plan.stale and plan.existing.get(sts) is not None


def backup_name(number: int, now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime(f"before-v{number}-%Y%m%d-%H%M%S")


def plan_for(
    cluster: Cluster,
    request: UpRequest,
    out: Output,
    manifests: list[dict[str, Any]] | None = None,
) -> deploy.UpPlan:
    """The plan for ``request`` (reads only); its warnings go to stderr."""
    plan = deploy.plan_up(
        cluster,
        request.options,
        storage_class=request.storage_class,
        keep_default_class=request.keep_default_class,
        replicas_given=request.replicas_given,
        force=request.force,
        manifests=manifests,
    )
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
    ns = request.options.namespace
    plan = plan_for(cluster, request, out, manifests)
    ns_existed = plan.existing[ref_of(plan.objects[0])] is not None
    if not plan.stale:
        return _finish_unchanged(cluster, plan, request, out, ns_existed, note)

    history = revisions.read(cluster, ns) if ns_existed else []
    number = revisions.next_number(history)
    taken = _backup_first(cluster, plan, request, number, history, out)
    change = note or revisions.describe(_planned(plan))
    revision = _revision(plan, request, number, change, backup=taken)
    # The intent goes first where it can: the namespace of a first install is the first
    # change itself, and there the revision is written beside the wait instead.
    if ns_existed:
        revisions.record(cluster, ns, revision, history)
    changes = deploy.apply_up(cluster, plan, force=request.force)
    done = note or revisions.describe([(c.ref, c.action) for c in changes])
    revision = dataclasses.replace(revision, change=done)
    with ThreadPoolExecutor(max_workers=1) as pool:
        recorded = (
            None if ns_existed else pool.submit(revisions.record, cluster, ns, revision, history)
        )
        try:
            deploy.wait_up(cluster, plan, request.timeout, out, changes)
        except NotReady as failure:
            if recorded is not None:
                recorded.result()
            revisions.settle(cluster, ns, revision, revisions.FAILED, done)
            if request.atomic:
                _roll_back_after(cluster, request, history, revision, failure, out)
            raise
        if recorded is not None:
            recorded.result()
    revisions.settle(cluster, ns, revision, revisions.DEPLOYED, done)
    return UpResult(changes, dataclasses.replace(revision, status=revisions.DEPLOYED))


def _planned(plan: deploy.UpPlan) -> list[tuple[str, str]]:
    """(ref, action) of what applying ``plan`` changes: the revision's record before it is
    applied (the outcome's own list replaces it once known)."""
    return [
        (ref_of(obj), "configured" if plan.existing[ref_of(obj)] else "created")
        for obj in plan.objects
        if ref_of(obj) in plan.stale
    ]


def _revision(
    plan: deploy.UpPlan, request: UpRequest, number: int, change: str, **fields: Any
) -> Revision:
    """The revision that records ``plan``: its options and manifests as applied."""
    return Revision(
        number=number,
        options=plan.options,
        storage_class=request.storage_class,
        manifests=[without_digest(o) for o in plan.objects],
        change=change,
        **fields,
    )


def _finish_unchanged(
    cluster: Cluster,
    plan: deploy.UpPlan,
    request: UpRequest,
    out: Output,
    ns_existed: bool,
    note: str | None,
) -> UpResult:
    """Nothing to change, but an interrupted `up` may have left its revision unrecorded or
    pending: it is settled here, once the app is ready (read beside the wait)."""
    ns = request.options.namespace
    changes = deploy.apply_up(cluster, plan, force=request.force)
    with ThreadPoolExecutor(max_workers=1) as pool:
        history_read = pool.submit(revisions.read, cluster, ns) if ns_existed else None
        try:
            deploy.wait_up(cluster, plan, request.timeout, out)
        except NotReady:
            _settle_interrupted(cluster, plan, request, history_read, revisions.FAILED, note)
            raise
        revision = _settle_interrupted(
            cluster, plan, request, history_read, revisions.DEPLOYED, note
        )
    return UpResult(changes, revision)


def _settle_interrupted(
    cluster: Cluster,
    plan: deploy.UpPlan,
    request: UpRequest,
    history_read: Any,
    status: str,
    note: str | None,
) -> Revision | None:
    if history_read is None:
        return None
    ns = request.options.namespace
    history = history_read.result()
    latest = history[-1] if history else None
    if latest is not None and latest.status == revisions.PENDING:
        revisions.settle(cluster, ns, latest, status)
        return dataclasses.replace(latest, status=status)
    if latest is None:  # the first install was interrupted before its revision was written
        change = note or "install (finished after an interruption)"
        revision = _revision(plan, request, revisions.next_number(history), change, status=status)
        revisions.record(cluster, ns, revision, history)
        return revision
    return None


def _backup_first(
    cluster: Cluster,
    plan: deploy.UpPlan,
    request: UpRequest,
    number: int,
    history: list[Revision],
    out: Output,
) -> str | None:
    if not request.backup or not touches_data(plan):
        return None
    live = revisions.previous(history)
    name = backup_name(number)
    try:
        backups.create(
            cluster,
            request.options.namespace,
            name,
            snapshot_class=None,
            revision=live.number if live else None,
            timeout=request.timeout,
            out=out,
            reason=backups.BEFORE_UP,
            keep_automatic=request.keep_backups,
        )
    except backups.NoSnapshots as exc:
        out.info(f"no backup before this change: {exc.problem}")
        return None
    except PermissionDenied as exc:
        raise PermissionDenied(
            f"cannot back up mongo's volumes before this change: {exc.problem}",
            "Ask for the snapshot RBAC in the README, or pass --no-snapshot",
        ) from exc
    out.info(f"backup {name} taken before changing {ref('StatefulSet', STATEFULSET)}")
    return name


def _restoring(cluster: Cluster, namespace: str, backup: str) -> bool:
    from pacdeploy import restore

    mongo = cluster.get("StatefulSet", STATEFULSET, namespace)
    under_way = restore.intent_of(mongo) if mongo else None
    return under_way is not None and under_way.backup == backup


def _restore(cluster: Cluster, namespace: str, backup: str, timeout: float, out: Output) -> None:
    from pacdeploy import restore, restore_steps

    plan = restore.plan(cluster, namespace, backup)
    restore_steps.run(cluster, plan, timeout=timeout, out=out, confirm=lambda _: None)


def _roll_back_after(
    cluster: Cluster,
    request: UpRequest,
    history: list[Revision],
    failed: Revision,
    failure: NotReady,
    out: Output,
) -> None:
    """--atomic: back to the last deployed revision (or, on a first install, remove it)."""
    ns = request.options.namespace
    target = revisions.previous(history)
    if target is None:
        out.warning(f"--atomic: revision {failed.number} failed and none came before: removing it")
        deploy.down(cluster, ns, purge=False, timeout=request.timeout, out=out)
        raise NotReady(
            f"{failure.problem}; --atomic removed the app (the Secret and volumes stay)",
            failure.fix,
        ) from failure
    out.warning(f"--atomic: revision {failed.number} failed, rolling back to {target.number}")
    up(
        cluster,
        request_for(target, request.timeout),
        out,
        manifests=target.manifests,
        note=f"rollback to {target.number} (--atomic, after {failed.number} failed)",
    )
    raise NotReady(
        f"{failure.problem}; --atomic rolled back to revision {target.number}", failure.fix
    ) from failure


def request_for(revision: Revision, timeout: float = 300.0, backup: bool = True) -> UpRequest:
    """Apply a recorded revision as it was, leaving the cluster's default class alone."""
    return UpRequest(
        options=revision.options,
        storage_class=revision.storage_class,
        keep_default_class=True,
        backup=backup,
        timeout=timeout,
    )


def rollback_target(history: list[Revision], number: int | None, namespace: str) -> Revision:
    """The revision asked for, else the one deployed before the live one."""
    if not history:
        raise NotFound(
            f"no revision recorded in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    if number is not None:
        return revisions.find(history, number, namespace)
    live = revisions.previous(history)
    target = revisions.previous(history, before=live.number if live else None)
    if target is None:
        raise NotFound(
            f"no deployed revision before the live one in namespace {namespace}",
            f"See `pacdeploy history -n {namespace}` and pass a REVISION",
        )
    return target


def rollback(
    cluster: Cluster,
    namespace: str,
    target: Revision,
    *,
    with_data: bool,
    timeout: float,
    out: Output,
) -> UpResult:
    """Apply ``target``'s manifests and options as a new revision; with_data: restore the
    data as it was while ``target`` was live too (confirmed by the caller).

    That data is the newest backup labelled with ``target``'s number: the one taken before
    the change that replaced it, or one taken by hand while it was live.
    """
    taken = None
    if with_data:
        taken = backups.of_revision(backups.list_backups(cluster, namespace), target.number)
        if taken is None:
            raise InvalidInput(
                f"no backup of the data of revision {target.number} "
                "(one is taken before each change to mongo)",
                "Roll back without --with-data, or restore a backup from `pacdeploy backup list`",
            )
    note = f"rollback to {target.number}" + (
        f" with data from backup {taken.name}" if taken else ""
    )
    if taken is not None and _restoring(cluster, namespace, taken.name):
        # An earlier run applied the revision and was killed restoring: finish that first.
        _restore(cluster, namespace, taken.name, timeout, out)
        taken = None
    result = up(
        cluster,
        request_for(target, timeout, backup=not with_data),
        out,
        manifests=target.manifests,
        note=note,
    )
    if taken is not None:
        _restore(cluster, namespace, taken.name, timeout, out)
    return result
