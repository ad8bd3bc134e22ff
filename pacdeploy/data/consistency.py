"""Application-consistent backups: MongoDB's writes flushed to disk and held
(`db.fsyncLock()`) in each running mongo pod while its volumes are snapshotted, and always
released after (`db.fsyncUnlock()`): after a failed snapshot, on Ctrl-C, and at the latest
once LOCK_SECONDS have passed. Velero's pre/post exec hooks do the same.

Without the lock a snapshot is crash-consistent, as a power cut would leave the disk:
still a valid backup here, because MongoDB's journal lives on the same volume as its data
(MongoDB's docs, "Back Up and Restore with Filesystem Snapshots"). So where exec into the
pods is forbidden, a backup still goes on, and says which kind it is.

A lock outlives the process that took it: mongod holds it until as many `fsyncUnlock`s as
there were locks (MongoDB 4.4 manual, fsyncUnlock: "call the fsyncUnlock command until the
lock count reaches zero"). So before its first lock a backup records the pods it locks on
the StatefulSet (``pacdeploy.io/mongo-locked``) and clears the record once each is unlocked;
a backup killed in between leaves the record, and the next backup (the same command run
again, or any other) unlocks those pods first. `status` shows such a record.

The shell and its credentials come from the image (tests/unit/image_contracts.py): the
modern stack's MongoDB 8 ships `mongosh`, the lesson's 4.4 the legacy `mongo` shell; the
root password is read by the shell itself from the file the Secret is mounted as
(`fs.readFileSync()`, `cat()`), so it never appears on a command line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from pacdeploy.app import stacks
from pacdeploy.app.manifests import SECRET, STATEFULSET
from pacdeploy.app.stacks import Stack
from pacdeploy.errors import NotReady, PacdeployError
from pacdeploy.kube import permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import annotations_of, name_of
from pacdeploy.output import Output
from pacdeploy.wait import readiness
from pacdeploy.wait.polling import Deadline

# The most mongo's writes stay held: the snapshots must be cut within it.
LOCK_SECONDS = float(os.environ.get("PACDEPLOY_LOCK_SECONDS", "30"))
HELD = "pacdeploy.io/mongo-locked"  # StatefulSet annotation: the pods a backup locked (JSON)
CONTAINER = STATEFULSET  # the mongod container's name in the manifests
ROOT_USER = "root"  # the image's MONGODB_ROOT_USER default
CRASH_CONSISTENT = (
    "crash-consistent (as after a power cut): still a valid backup, MongoDB's journal being "
    "on the same volume as its data"
)


# What each call asks of mongod (its admin commands, so the result has `ok` and the shell's
# exit code can say it), and which results count as done. A stale lock may be gone already
# (mongod restarted, or an earlier release got that far): for a release mongod's own words
# for it (src/mongo/db/commands/fsync.cpp) count as done. The comment names who asks, in
# mongod's log and currentOp: "who locked my database" has an answer.
LOCK, UNLOCK, RELEASE = "lock", "unlock", "release"
_UNLOCK = "{fsyncUnlock: 1, comment: %s}"
_CALLS = {
    LOCK: ("{fsync: 1, lock: true, comment: %s}", "r.ok"),
    UNLOCK: (_UNLOCK, "r.ok"),
    RELEASE: (_UNLOCK, "r.ok || /not locked/.test(r.errmsg)"),
}


class Shell(NamedTuple):
    """The mongo shell of one running container: which one, and where root's password is."""

    stack: Stack
    password_file: str


def shell_of(pod: dict[str, Any]) -> Shell:
    """The shell of ``pod``'s mongod container, as its stack ships it (app/stacks.py)."""
    container = next(c for c in pod["spec"]["containers"] if c["name"] == CONTAINER)
    stack = stacks.of_container(container)
    env = {e["name"]: e.get("value", "") for e in container.get("env") or []}
    return Shell(stack, str(env.get(stack.root_password_env, "")))


def mongo_eval(call: str, who: str, shell: Shell) -> list[str]:
    """The stack's shell running ``call`` (LOCK, UNLOCK, RELEASE) as root, the password
    read by the shell from its file; it exits 0 only when mongod did it."""
    admin = "db.getSiblingDB('admin')"
    password = shell.stack.read_file % f"'{shell.password_file}'"
    auth = f"{admin}.auth('{ROOT_USER}', {password}.trim())"
    command, done = _CALLS[call]
    command %= json.dumps(f"pacdeploy {who}")
    run = f"var r = {admin}.runCommand({command}); printjson(r); quit({done} ? 0 : 2)"
    return [shell.stack.shell, "--quiet", "--eval", f"{auth}; {run}"]


def held_by(statefulset: dict[str, Any] | None) -> list[str]:
    """The pods an interrupted backup left locked, as it recorded them."""
    raw = annotations_of(statefulset).get(HELD) if statefulset else None
    try:
        pods = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [p for p in pods if isinstance(p, str)] if isinstance(pods, list) else []


def _record(cluster: Cluster, namespace: str, pods: list[str]) -> None:
    value = json.dumps(sorted(pods)) if pods else None  # None: merge patch removes it
    cluster.merge_patch(
        "StatefulSet",
        STATEFULSET,
        {"metadata": {"annotations": {HELD: value}}},
        namespace=namespace,
    )


def ready_mongo_pods(cluster: Cluster, namespace: str) -> dict[str, Shell]:
    """The mongo pods whose mongod answers (Ready), by name, with their shells: a lock is
    asked of those only."""
    pods = cluster.list("Pod", namespace, label_selector=f"name={STATEFULSET}")
    ready = [p for p in pods if readiness.has_ready_condition(p)]
    return {name_of(p): shell_of(p) for p in sorted(ready, key=name_of)}


class Held(NamedTuple):
    """mongo's writes held: the snapshots must be cut by ``deadline``. ``required``: the
    user asked for this backup, so a lock that ends before the cut fails it."""

    deadline: Deadline
    required: bool


@contextmanager
def locked(
    cluster: Cluster, namespace: str, *, enabled: bool, required: bool, out: Output
) -> Iterator[Held | None]:
    """mongo's writes held in each Ready pod for the block (None: not locked, the backup is
    crash-consistent).

    ``required`` (a backup the user asked for): a lock that fails stops the backup, which
    --no-lock would take anyway. Not required (an automatic backup before `up` or a
    restore, often run to repair a sick mongo): a failed lock is said, and the backup goes
    on crash-consistent rather than block the repair."""
    shells = ready_mongo_pods(cluster, namespace) if enabled else {}
    pods = list(shells)
    if not pods:
        yield None
        return
    if not permissions.allowed(cluster, Need.on("create", "Pod", namespace, subresource="exec")):
        out.info(
            f"no permission to exec into mongo for db.fsyncLock(): the backup is {CRASH_CONSISTENT}"
        )
        yield None
        return
    _record(cluster, namespace, pods)  # before the first lock: a kill from here on is undone
    held: list[str] = []
    stuck: list[str] = []
    try:
        for pod in pods:
            problem = _run(cluster, namespace, pod, call=LOCK, shell=shells[pod])
            if problem is None:
                held.append(pod)
                out.info(f"mongo locked in pod {pod} (db.fsyncLock): writes wait for the snapshot")
                continue
            if required:
                raise NotReady(
                    f"db.fsyncLock() failed in pod {pod}: {problem}",
                    f"Check mongo's root password in secret/{SECRET}, or pass --no-lock for a "
                    f"backup that is {CRASH_CONSISTENT}",
                )
            out.warning(
                f"db.fsyncLock() failed in pod {pod} ({problem}): the backup is {CRASH_CONSISTENT}"
            )
            stuck += [
                d for d in held if not _unlock(cluster, namespace, d, shell=shells[d], out=out)
            ]
            held = []
            break
        yield Held(Deadline(LOCK_SECONDS), required) if held else None
    finally:
        stuck += [p for p in held if not _unlock(cluster, namespace, p, shell=shells[p], out=out)]
        _record(cluster, namespace, stuck)  # what could not be unlocked stays for the next


def cut_or_not(what: str, cut: bool, lock: Held, *, out: Output) -> None:
    """Said of the snapshots taken while mongo was locked, once the lock must end: cut in
    time (consistent), or not. Not in time is a failure for a backup the user asked for,
    as a failed lock is; an automatic one goes on crash-consistent (the snapshots are
    still cut, later), rather than block the `up` or restore it protects."""
    if cut:
        out.info(f"{what}: cut while mongo was locked")
        return
    late = (
        f"{what}: the snapshots were not cut within the {lock.deadline.seconds:.0f}s mongo may "
        "stay locked"
    )
    if lock.required:
        raise NotReady(
            f"{late} (it is unlocked again)",
            "Check the snapshot controller, then run the same command to finish the backup",
        )
    out.warning(f"{late}; it is unlocked again and the backup is {CRASH_CONSISTENT}")


def _run(cluster: Cluster, namespace: str, pod: str, *, call: str, shell: Shell) -> str | None:
    """``call`` in mongo's shell in ``pod``: None when mongod did it, else why not."""
    from pacdeploy.kube import podexec  # only a backup execs: status and up read annotations

    command = mongo_eval(call, f"{namespace}/{pod}", shell)
    try:
        where = podexec.Where(pod, namespace, CONTAINER)
        ran = podexec.run(cluster, where, command, timeout=LOCK_SECONDS)
    except PacdeployError as exc:
        return exc.problem
    return None if ran.ok else ran.reason or ran.stderr.strip() or "it failed"


def _unlock(cluster: Cluster, namespace: str, pod: str, *, shell: Shell, out: Output) -> bool:
    problem = _run(cluster, namespace, pod, call=UNLOCK, shell=shell)
    if problem is None:
        out.info(f"mongo unlocked in pod {pod} (db.fsyncUnlock)")
        return True
    out.error(
        f"db.fsyncUnlock() failed in pod {pod}: {problem}. mongo's writes stay held until it "
        "runs: the next backup tries again first"
    )
    return False


def release_stale(cluster: Cluster, namespace: str, pods: Sequence[str], *, out: Output) -> None:
    """Unlock the ``pods`` an interrupted backup recorded as locked (:func:`held_by`), or
    stop: a backup would only add a lock to writes already held."""
    if not pods:
        return
    out.info(f"releasing the lock an interrupted backup left on mongo ({', '.join(pods)})")
    live = {p: found for p in pods if (found := cluster.get("Pod", p, namespace)) is not None}
    failed = {  # a pod that is gone took its lock along with its mongod
        p: why
        for p, found in live.items()
        if (why := _run(cluster, namespace, p, call=RELEASE, shell=shell_of(found))) is not None
    }
    if failed:
        pod, problem = next(iter(failed.items()))
        raise NotReady(
            f"mongo's writes stay held in pod {pod} since an interrupted backup: "
            f"db.fsyncUnlock() failed: {problem}",
            f"Check the pod, then run the same command again (or `kubectl exec -n {namespace} "
            f"{pod} -c {CONTAINER} -- {shell_of(live[pod]).stack.shell}` and "
            "`db.fsyncUnlock()` as root)",
        )
    _record(cluster, namespace, [])
