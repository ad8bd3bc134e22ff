"""`rollback`: apply a recorded revision again, as a new revision; `--with-data` also
restores the data as it was while that revision was live. `up --rollback-on-failure`
(Helm 4's name for --atomic) takes the same path as a step of its own after a failed wait."""

from __future__ import annotations

from typing import NoReturn

from pacdeploy.app.manifests import STATEFULSET
from pacdeploy.data import backups, revisions
from pacdeploy.data.revisions import Revision
from pacdeploy.errors import InvalidInput, NotFound, NotReady
from pacdeploy.kube.client import Cluster
from pacdeploy.output import Output
from pacdeploy.release import up
from pacdeploy.release.down import down
from pacdeploy.release.up import UpResult
from pacdeploy.restore import intent, plan, run


def target(history: list[Revision], number: int | None, namespace: str) -> Revision:
    """The revision asked for, else the one deployed before the live one."""
    if not history:
        raise NotFound(
            f"no revision recorded in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    if number is not None:
        return revisions.find(history, number, namespace)
    live = revisions.live(history)
    target = revisions.deployed_before(history, live.number) if live else None
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
        _restore(cluster, namespace, taken.name, timeout=timeout, out=out)
        taken = None
    result = _apply(cluster, target, timeout=timeout, backup=not with_data, note=note, out=out)
    if taken is not None:
        _restore(cluster, namespace, taken.name, timeout=timeout, out=out)
    return result


def _apply(
    cluster: Cluster, target: Revision, *, timeout: float, backup: bool, note: str, out: Output
) -> UpResult:
    """``target`` applied again as a new revision recorded as ``note``: its manifests and
    options, each container on the digest its pods ran."""
    return up.up(
        cluster,
        up.request_for(target, timeout, backup=backup),
        out,
        manifests=revisions.pinned(target.manifests, target.images),
        note=note,
    )


def up_or_roll_back(cluster: Cluster, request: up.UpRequest, out: Output) -> UpResult:
    """`up`; with --rollback-on-failure (``request.atomic``) a failed wait is followed by a
    step of its own, the rollback to the last deployed revision (:func:`after_failure`)."""
    try:
        return up.up(cluster, request, out)
    except up.Failed as failure:
        if not request.atomic or failure.revision is None:
            raise
        after_failure(cluster, request, failure, failed=failure.revision, out=out)


def after_failure(
    cluster: Cluster,
    request: up.UpRequest,
    failure: up.Failed,
    *,
    failed: Revision,
    out: Output,
) -> NoReturn:
    """--atomic: back to the last deployed revision before ``failed`` (on a first install,
    remove it: the Secret and volumes stay); then ``failure``, saying so."""
    ns = request.wanted.options.namespace
    target = revisions.live(failure.history)
    if target is None:
        out.warning(f"--atomic: revision {failed.number} failed and none came before: removing it")
        down(cluster, ns, purge=False, timeout=request.timeout, out=out)
        raise NotReady(
            f"{failure.problem}; --atomic removed the app (the Secret and volumes stay)",
            failure.fix,
        ) from failure
    out.warning(f"--atomic: revision {failed.number} failed, rolling back to {target.number}")
    note = f"rollback to {target.number} (--atomic, after {failed.number} failed)"
    _apply(cluster, target, timeout=request.timeout, backup=True, note=note, out=out)
    raise NotReady(
        f"{failure.problem}; --atomic rolled back to revision {target.number}", failure.fix
    ) from failure


def _restoring(cluster: Cluster, namespace: str, backup: str) -> bool:
    mongo = cluster.get("StatefulSet", STATEFULSET, namespace)
    under_way = intent.intent_of(mongo) if mongo else None
    return under_way is not None and under_way.backup == backup


def _restore(cluster: Cluster, namespace: str, backup: str, *, timeout: float, out: Output) -> None:
    restore_plan = plan.plan(cluster, namespace, backup)
    run.run(cluster, restore_plan, timeout=timeout, out=out, confirm=lambda _: None)
