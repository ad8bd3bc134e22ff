"""`up --stack X` where the data is another stack's: the scores moved (data/moves.py says
what and why), each step safe to run again.

1. record the intent on the Namespace (skipped when resuming: it is there);
2. back up the volume (an automatic backup, where the cluster snapshots);
3. stop the web app, so no score is written after the dump;
4. dump the database to a file on the user's disk (complete once renamed into place);
5. keep the volume (Retain, labelled with its stack), then delete the StatefulSet and claim;
6. the new StatefulSet: on a new claim, or on the target stack's kept volume (going back);
7. restore the archive into it and count the documents (recorded once all are in);
8. only then `up` as usual (the new web app, a revision), and the intent goes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pacdeploy.app import stacks
from pacdeploy.app.manifests import DEPLOYMENT, STATEFULSET
from pacdeploy.data import archives, backups, moves, safety
from pacdeploy.data.moves import MoveIntent
from pacdeploy.errors import Conflict, NotFound, PacdeployError
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of
from pacdeploy.output import Output
from pacdeploy.release import up
from pacdeploy.release.wanted import Wanted
from pacdeploy.restore import rules
from pacdeploy.wait import gone, rollout

MONGO_PODS = f"name={STATEFULSET}"
WEB_PODS = f"name={DEPLOYMENT}"
POD = f"{STATEFULSET}-0"


@dataclass(frozen=True)
class Move:
    """A move decided once, before its first write; the intent it carries out is replaced,
    in a new plan, as each step records its progress (run)."""

    namespace: str
    intent: MoveIntent
    resumed: bool  # the intent was found on the Namespace: finishing an interrupted move
    claim: str  # the claim mongo-0 mounts, replaced on the way
    current: dict[str, Any] | None  # that claim as planned (None: gone already)
    statefulset: dict[str, Any] | None
    going_back: bool  # over the last move: its kept volume bound again, no dump
    reuse: dict[str, Any] | None  # going back: that volume, while it is still kept
    stale: dict[str, Any] | None  # a kept volume of the target stack the move supersedes
    archive: Path


def _stack_of(obj: dict[str, Any] | None) -> str | None:
    return stacks.of_data(obj, []) if obj is not None else None


def plan(cluster: Cluster, wanted: Wanted, state: Path) -> Move | None:
    """The move `up --stack` must make first (None: none), resuming one that was
    interrupted. Only an explicit --stack moves anything (a plain `up` meeting a move's
    intent is refused by its plan, which reads the Namespace anyway)."""
    if not wanted.stack_given:
        return None
    ns = wanted.options.namespace
    namespace = cluster.get("Namespace", ns)
    intent = moves.intent_of(namespace)
    if namespace is None:
        return None
    sts, claims, kept = fanout.together(
        lambda: cluster.get("StatefulSet", STATEFULSET, ns),
        lambda: backups.mongo_claims(cluster.list("PersistentVolumeClaim", ns)),
        lambda: cluster.list("PersistentVolume", label_selector=f"{moves.MOVED_NAMESPACE}={ns}"),
    )
    if intent is not None and wanted.options.stack != intent.target:
        moves.none_under_way(namespace, ns, explicit=False)  # another stack: refused
    here = stacks.of_data(sts, claims)
    if intent is None:
        if here is None or here == wanted.options.stack:
            return None
        if len(claims) != 1:
            raise Conflict(
                f"mongo in namespace {ns} has {len(claims)} claims: a move takes one",
                f"Scale it to one replica first (`kubectl -n {ns} scale sts/{STATEFULSET} "
                "--replicas=1`)",
            )
        web = cluster.get("Deployment", DEPLOYMENT, ns)
        replicas = wanted.options.replicas if wanted.replicas_given else None
        found = (
            int((web or {}).get("spec", {}).get("replicas", 1)) if replicas is None else replicas
        )
        mid = moves.new_id()
        intent = MoveIntent(mid, here, wanted.options.stack, found, safety=f"before-move-{mid[2:]}")
    claim = f"{STATEFULSET}-db-{POD}"
    current = next((c for c in claims if name_of(c) == claim), None)
    kept_target = moves.kept_for(kept, claim, intent.target)
    back = moves.undoes(moves.last_of(namespace), intent.source, intent.target)
    return Move(
        ns,
        intent,
        intent == moves.intent_of(namespace),
        claim,
        current,
        sts,
        going_back=back,
        reuse=kept_target if back else None,
        stale=None if back else kept_target,
        archive=moves.archive_path(state, ns, intent.id),
    )


def _record(cluster: Cluster, namespace: str, annotations: dict[str, str | None]) -> None:
    cluster.merge_patch("Namespace", namespace, {"metadata": {"annotations": annotations}})


def _progress(cluster: Cluster, move: Move, intent: MoveIntent) -> MoveIntent:
    """``intent``, the move's progress, recorded on the Namespace: what the steps after
    it, and a rerun after a kill, go by."""
    _record(cluster, move.namespace, {moves.INTENT: intent.dump()})
    return intent


def _safety(cluster: Cluster, move: Move, timeout: float, *, out: Output) -> MoveIntent:
    """A snapshot of the data as the old MongoDB wrote it, while its claim is there."""
    intent = move.intent
    if intent.safety is None or _stack_of(move.current) != intent.source:
        return intent
    problem = safety.take(
        cluster,
        namespace=move.namespace,
        name=intent.safety,
        reason=backups.BEFORE_MOVE,
        timeout=timeout,
        out=out,
    )
    if problem is None:
        out.info(f"backup {intent.safety} taken of the {intent.source} stack's volume")
        return intent
    out.info(f"no backup of the volume ({problem}): it is kept (Retain) instead")
    return _progress(cluster, move, dataclasses.replace(intent, safety=None))


def _stop_web(cluster: Cluster, move: Move, timeout: float, *, out: Output) -> None:
    if cluster.get("Deployment", DEPLOYMENT, move.namespace) is not None:
        patch = {"spec": {"replicas": 0}}
        cluster.merge_patch(
            "Deployment", DEPLOYMENT, patch, namespace=move.namespace, subresource="scale"
        )
    gone.wait_pods_gone(cluster, move.namespace, WEB_PODS, timeout=timeout, out=out)


def _dump(cluster: Cluster, move: Move, out: Output) -> MoveIntent:
    """The archive, unless it is complete already or the move binds a kept volume."""
    intent = move.intent
    if move.reuse is not None or intent.restored or move.archive.is_file():
        return intent
    if _stack_of(move.statefulset) != intent.source:
        raise NotFound(
            f"the archive of the interrupted move is not at {move.archive}, and the "
            f"{intent.source} stack's mongo that could write it again is gone",
            f"Run the command where the move started, or restore backup {intent.safety} "
            f"(`pacdeploy restore {intent.safety} --yes -n {move.namespace}`)",
        )
    move.archive.parent.mkdir(parents=True, exist_ok=True)
    dumped = archives.export(cluster, move.namespace, move.archive)
    out.info(f"dumped {dumped.describe()} from pod {dumped.pod} to {move.archive}")
    return _progress(cluster, move, dataclasses.replace(intent, documents=dumped.documents))


def _replace_old(cluster: Cluster, move: Move, timeout: float, *, out: Output) -> MoveIntent:
    """Keep the old volume, then delete the old StatefulSet and its claim."""
    ns, intent = move.namespace, move.intent
    # The source stack's claim, while it is there: kept, then replaced.
    old = move.current if _stack_of(move.current) == intent.source else None
    if old is not None:
        volume = cluster.get("PersistentVolume", old["spec"].get("volumeName", ""))
        if volume is not None:
            patch = moves.keep_patch(
                volume, namespace=ns, claim=move.claim, stack=intent.source, move_id=intent.id
            )
            cluster.merge_patch("PersistentVolume", name_of(volume), patch)
            out.info(f"kept persistentvolume/{name_of(volume)} (the {intent.source} stack's data)")
    if move.statefulset is not None and _stack_of(move.statefulset) != intent.target:
        cluster.delete("StatefulSet", STATEFULSET, ns)
        gone.wait_gone(cluster, "StatefulSet", STATEFULSET, timeout=timeout, out=out, namespace=ns)
    if old is not None:
        gone.wait_pods_gone(cluster, ns, MONGO_PODS, timeout=timeout, out=out)  # the old mongo's
        cluster.delete("PersistentVolumeClaim", move.claim, ns)
        gone.wait_gone(
            cluster, "PersistentVolumeClaim", move.claim, timeout=timeout, out=out, namespace=ns
        )
    # The claim gone (just now, or before this run): the kept volume bound again.
    if move.reuse is not None and (old is not None or move.current is None):
        name = name_of(move.reuse)
        cluster.merge_patch("PersistentVolume", name, rules.prebind_patch(move.claim, ns))
        cluster.create(moves.claim_on(move.reuse, move.claim, ns))
        out.info(f"persistentvolumeclaim/{move.claim} bound again to {name}")
        # The data is in place: a resumed move neither dumps nor restores (the kept
        # volume's labels, which say it is the way back, go at the end).
        return _progress(cluster, move, dataclasses.replace(intent, restored=True))
    return intent


def _new_mongo(cluster: Cluster, move: Move, request: up.UpRequest, *, out: Output) -> None:
    """The target stack's mongo objects as `up` will apply them; mongo Ready on its claim."""
    stopped = _with_replicas(request, 0)
    planned = up.plan_for(cluster, stopped, out)
    for obj in planned.objects:
        if obj["kind"] not in ("Deployment", "Secret"):
            cluster.apply(obj, force=True)
    mongo = rollout.Workloads(move.namespace, [("StatefulSet", STATEFULSET)])
    rollout.wait_ready(cluster, mongo, timeout=request.timeout, out=out)


def _restore(cluster: Cluster, move: Move, out: Output) -> MoveIntent:
    intent = move.intent
    if move.reuse is not None or intent.restored:
        return intent
    count = archives.restore_from(
        cluster,
        move.namespace,
        POD,
        chunks=archives.file_chunks(move.archive),
        idle=archives.IDLE_SECONDS,
    )
    if intent.documents is not None and count != intent.documents:
        raise PacdeployError(
            f"mongorestore restored {count} of the {intent.documents} documents dumped",
            f"Nothing is switched yet: run `{intent.command(move.namespace)}` again",
        )
    out.info(f"restored {count} documents into pod {POD} on the {intent.target} stack")
    return _progress(cluster, move, dataclasses.replace(intent, restored=True))


def _with_replicas(request: up.UpRequest, replicas: int) -> up.UpRequest:
    options = dataclasses.replace(request.wanted.options, replicas=replicas)
    wanted = dataclasses.replace(request.wanted, options=options, replicas_given=True)
    return dataclasses.replace(request, wanted=wanted, backup_first=False, atomic=False)


def run(
    cluster: Cluster,
    move: Move,
    request: up.UpRequest,
    *,
    out: Output,
    confirm: Callable[[str], None],
) -> up.UpResult:
    """Carry ``move`` out, then `up` as asked; on a failure, say how to finish it."""
    ns, intent = move.namespace, move.intent
    if move.resumed:
        out.info(f"finishing the interrupted move of the scores to the {intent.target} stack")
    else:
        confirm(
            f"Move the scores in namespace {ns} from the {intent.source} stack's MongoDB to "
            f"the {intent.target} stack's? The game stops while they move; the "
            f"{intent.source} stack's volume is kept"
        )
        _progress(cluster, move, intent)
    timeout = request.timeout
    try:
        # Each step that records progress gives the intent it left: the steps after it
        # carry out a new plan with it.
        move = dataclasses.replace(move, intent=_safety(cluster, move, timeout, out=out))
        _stop_web(cluster, move, timeout, out=out)
        move = dataclasses.replace(move, intent=_dump(cluster, move, out))
        move = dataclasses.replace(move, intent=_replace_old(cluster, move, timeout, out=out))
        _new_mongo(cluster, move, request, out=out)
        move = dataclasses.replace(move, intent=_restore(cluster, move, out))
        result = up.up(
            cluster,
            _with_replicas(request, move.intent.web_replicas),
            out,
            note=f"scores moved from the {intent.source} stack to the {intent.target} stack",
        )
    except PacdeployError as exc:
        raise type(exc)(
            f"the move to the {intent.target} stack stopped: {exc.problem}",
            f"The {intent.source} stack's data is kept. Run `{intent.command(ns)}` to finish",
        ) from exc
    _finish(cluster, move, out)
    return result


def _finish(cluster: Cluster, move: Move, out: Output) -> None:
    """The volume bound again, or the one superseded, is kept no longer; the intent goes,
    and a move forward is recorded as the one going back would undo."""
    intent = move.intent
    for volume in (move.reuse, move.stale):
        if volume is not None:
            cluster.merge_patch("PersistentVolume", name_of(volume), moves.unkeep_patch(volume))
    if move.reuse is not None:
        out.info(f"mongo runs on the {intent.target} stack's data again ({name_of(move.reuse)})")
    # Before the intent goes: a move killed in between is resumed, and needs it no more.
    move.archive.unlink(missing_ok=True)
    done = {"id": intent.id, "source": intent.source, "target": intent.target}
    # Going back leaves nothing to undo; a resumed one may find its volume kept no more.
    last = None if move.going_back else json.dumps(done, sort_keys=True)
    _record(cluster, move.namespace, {moves.INTENT: None, moves.LAST: last})
