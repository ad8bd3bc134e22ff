"""Application-consistent backups: MongoDB's writes flushed to disk and held
(`db.fsyncLock()`) in each running mongo pod while its volumes are snapshotted, and always
released after (`db.fsyncUnlock()`): after a failed snapshot, on Ctrl-C, and at the latest
once LOCK_SECONDS have passed. Velero's pre/post exec hooks do the same.

Without the lock a snapshot is crash-consistent, as a power cut would leave the disk:
still a valid backup here, because MongoDB's journal lives on the same volume as its data
(MongoDB's docs, "Back Up and Restore with Filesystem Snapshots"). So where exec into the
pods is forbidden, a backup still goes on, and says which kind it is.

The shell and its credentials come from the image (tests/unit/image_contracts.py): 4.4
ships the legacy `mongo` shell; the root password is read by the shell itself from the
file the Secret is mounted as (`cat()`), so it never appears on a command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from pacdeploy.app.manifests import SECRET, STATEFULSET, Options, render
from pacdeploy.errors import NotReady, PacdeployError
from pacdeploy.kube import exec as pod_exec
from pacdeploy.kube import permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import name_of
from pacdeploy.output import Output
from pacdeploy.wait import readiness
from pacdeploy.wait.polling import Deadline

# The most mongo's writes stay held: the snapshots must be cut within it.
LOCK_SECONDS = float(os.environ.get("PACDEPLOY_LOCK_SECONDS", "30"))
CONTAINER = STATEFULSET  # the mongod container's name in the manifests
ROOT_USER = "root"  # the image's MONGODB_ROOT_USER default
CRASH_CONSISTENT = (
    "crash-consistent (as after a power cut): still a valid backup, MongoDB's journal being "
    "on the same volume as its data"
)


@cache  # the manifests do not change while a command runs
def root_password_file() -> str:
    """Where the manifests mount the root password for the image to read (its *_FILE)."""
    mongo = next(o for o in render(Options()) if o["kind"] == "StatefulSet")
    container = next(
        c for c in mongo["spec"]["template"]["spec"]["containers"] if c["name"] == CONTAINER
    )
    return str(
        next(e["value"] for e in container["env"] if e["name"] == "MONGODB_ROOT_PASSWORD_FILE")
    )


def mongo_eval(call: str) -> list[str]:
    """The `mongo` shell running ``call`` as root, the password read from its file."""
    auth = f"db.getSiblingDB('admin').auth('{ROOT_USER}', cat('{root_password_file()}').trim())"
    return ["mongo", "--quiet", "--eval", f"{auth}; printjson(db.getSiblingDB('admin').{call})"]


def ready_mongo_pods(cluster: Cluster, namespace: str) -> list[str]:
    """The mongo pods whose mongod answers (Ready): a lock is asked of those only."""
    pods = cluster.list("Pod", namespace, label_selector=f"name={STATEFULSET}")
    return sorted(name_of(p) for p in pods if readiness.has_ready_condition(p))


@contextmanager
def locked(
    cluster: Cluster, namespace: str, *, enabled: bool, required: bool, out: Output
) -> Iterator[Deadline | None]:
    """mongo's writes held in each Ready pod for the block; the Deadline by which the block
    must be done (None: not locked, the backup is crash-consistent).

    ``required`` (a backup the user asked for): a lock that fails stops the backup, which
    --no-lock would take anyway. Not required (an automatic backup before `up` or a
    restore, often run to repair a sick mongo): a failed lock is said, and the backup goes
    on crash-consistent rather than block the repair."""
    pods = ready_mongo_pods(cluster, namespace) if enabled else []
    if not pods:
        yield None
        return
    if not permissions.allowed(cluster, Need.on("create", "Pod", namespace, "exec")):
        out.info(
            f"no permission to exec into mongo for db.fsyncLock(): the backup is {CRASH_CONSISTENT}"
        )
        yield None
        return
    held: list[str] = []
    try:
        for pod in pods:
            problem = _run(cluster, namespace, pod, "fsyncLock()")
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
            for done in held:
                _unlock(cluster, namespace, done, out)
            held = []
            break
        yield Deadline(LOCK_SECONDS) if held else None
    finally:
        for pod in held:
            _unlock(cluster, namespace, pod, out)


def _run(cluster: Cluster, namespace: str, pod: str, call: str) -> str | None:
    """``call`` in mongo's shell in ``pod``: None when it worked, else why not."""
    try:
        ran = pod_exec.run(cluster, pod, namespace, CONTAINER, mongo_eval(call), LOCK_SECONDS)
    except PacdeployError as exc:
        return exc.problem
    return None if ran.ok else ran.reason or ran.stderr.strip() or "it failed"


def _unlock(cluster: Cluster, namespace: str, pod: str, out: Output) -> None:
    problem = _run(cluster, namespace, pod, "fsyncUnlock()")
    if problem is None:
        out.info(f"mongo unlocked in pod {pod} (db.fsyncUnlock)")
        return
    out.error(
        f"db.fsyncUnlock() failed in pod {pod}: {problem}. mongo's writes stay held until "
        f"it runs: `kubectl exec -n {namespace} {pod} -c {CONTAINER} -- mongo` then "
        "`db.fsyncUnlock()` as root"
    )
