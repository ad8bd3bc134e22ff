"""Killing a command right after a chosen write, as the kill-point tests do
(tests/integration/test_kill_points.py): the CLI runs with -vv, its request log is read as
it runs, and it is SIGKILLed once the write is logged (urllib3 logs a request once its
response is in: the write has happened). unrecovered() kills a command at each point, runs
the user's next command and says what differs from an uninterrupted run."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pacdeploy.data import consistency
from pacdeploy.restore import intent, rules
from tests.support import cli, volumes
from tests.support.classes import (
    class_annotations,
    classes_put_back,
    release_kept_volumes,
)
from tests.support.mongo_shell import lock_count

REQUEST = re.compile(r'"(POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1" (\d+)')
NOT_WRITES = ("/apis/authorization.k8s.io/",)  # access reviews change nothing
KillWhen = Callable[[list[str]], bool]  # the writes so far ("METHOD path") -> kill now


def is_write(line: str) -> bool:
    found = REQUEST.search(line)
    return (
        bool(found)
        and not found.group(2).startswith(NOT_WRITES)
        and ("dryRun=All" not in found.group(2))
    )


def written(line: str) -> str | None:
    """The write ``line`` logs, as "METHOD path", if it logs one."""
    found = REQUEST.search(line)
    return f"{found.group(1)} {found.group(2)}" if found and is_write(line) else None


def run_counting(
    target, *args: str, kill_after: int | None = None, kill_when: KillWhen | None = None
) -> tuple[int, int, str]:
    """Run the CLI with -vv; SIGKILL it right after its ``kill_after``-th write, or right
    after the write for which ``kill_when(the writes so far)`` first holds.
    Returns (exit code, writes seen, output)."""
    proc = cli.start("--context", target.context, "-vv", *args, env=target.env(), merge_stderr=True)
    writes: list[str] = []
    lines = []
    for line in proc.stdout:
        lines.append(line)
        write = written(line)
        if write is not None:
            writes.append(write)
            if len(writes) == kill_after or (kill_when is not None and kill_when(writes)):
                proc.kill()
                break
    proc.stdout.close()
    return proc.wait(timeout=300), len(writes), "".join(lines)


class Namespaces:
    """Fresh app namespaces, all removed at the end with what pacdeploy made for them."""

    def __init__(self, cluster, request):
        self.cluster = cluster
        self.request = request
        self.made: list[str] = []
        self.lock = threading.Lock()
        self.classes = class_annotations(cluster)

    def new(self) -> str:
        name = f"pd-kill-{uuid.uuid4().hex[:6]}"
        with self.lock:
            self.made.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.made:
            self.cluster.delete("Namespace", name)
            release_kept_volumes(self.cluster, name)
            for kind in ("ClusterRoleBinding", "ClusterRole"):
                self.cluster.delete(kind, f"pacman-node-reader-{name}")
        classes_put_back(self.request, self.cluster, self.classes, self.made)


# The writes of the data's steps, as their request lines show them (restore and move alike).
VOLUME = r"^PATCH \S*/persistentvolumes/"  # kept (Retain), then released
SNAPSHOT = r"^POST \S*/volumesnapshots(\?|$)"
CLAIM_DELETED = r"^DELETE \S*/persistentvolumeclaims/"
CLAIM_CREATED = r"^POST \S*/persistentvolumeclaims(\?|$)"


def write_to(pattern: str, *, after: tuple[str, int] = ("", 0)) -> KillWhen:
    """Right after the first write ("METHOD path") that ``pattern`` finds; ``after``
    (another pattern, n): the first one once n earlier writes matched that one."""
    earlier, times = after

    def now(writes: list[str]) -> bool:
        before = sum(re.search(earlier, w) is not None for w in writes[:-1])
        return re.search(pattern, writes[-1]) is not None and (not times or before >= times)

    return now


def first_write(writes: list[str]) -> bool:
    return len(writes) == 1


def nth_class_write(n: int) -> KillWhen:
    """Right after the ``n``-th write to a StorageClass."""

    def to_class(write: str) -> bool:
        return "/storageclasses/" in write

    return lambda writes: to_class(writes[-1]) and sum(map(to_class, writes)) == n


def class_writes(output: str) -> int:
    return sum("/storageclasses/" in (written(line) or "") for line in output.splitlines())


def left_over(cluster, ns: str) -> list[str]:
    """What differs from the end of an uninterrupted run: mongo's replicas, the intent,
    volumes still held back, claims, mongo's writes still locked."""
    problems = []
    sts = cluster.get("StatefulSet", "mongo", ns)
    if sts["spec"]["replicas"] != 1 or sts["status"].get("readyReplicas") != 1:
        problems.append(f"mongo at {sts['spec']['replicas']} replicas")
    if intent.INTENT in (sts["metadata"].get("annotations") or {}):
        problems.append("restore intent left")
    kept = cluster.list("PersistentVolume", label_selector=f"{rules.REPLACED_NAMESPACE}={ns}")
    problems += [f"volume {v['metadata']['name']} still kept" for v in kept]
    claims = [c["metadata"]["name"] for c in cluster.list("PersistentVolumeClaim", ns)]
    if claims != ["mongo-db-mongo-0"]:
        problems.append(f"claims {claims}")
    locks = lock_count(ns, "mongo-0")
    if locks or consistency.HELD in (sts["metadata"].get("annotations") or {}):
        problems.append(f"mongo still locked ({locks})")
    return problems


PARALLEL = 4  # kill points run side by side where they share nothing


def next_command(target, ns: str, *args: str):
    """The user's next command, with a wait shorter than the suite's own timeout: a command
    that cannot finish says why itself (what it waited on) instead of being killed."""
    return target.pacdeploy("-n", ns, *args, "--timeout", "2m")


def every_write(target, cluster, namespaces, prepare, args) -> dict[str, KillWhen]:
    """A kill point after each write an uninterrupted run of ``args`` makes, on a prepared
    namespace."""
    ns = prepare(target, cluster, namespaces)
    code, writes, output = run_counting(target, "-n", ns, *args)
    assert code == 0, output
    assert writes >= 1, output
    return {f"write {n}": (lambda seen, n=n: len(seen) == n) for n in range(1, writes + 1)}


def unrecovered(
    target, cluster, namespaces, prepare, args, then, marker=None, extra=None, *, points=None
):
    """For each of ``points`` (name -> when to kill; None: after every write), four at a
    time: a namespace made by ``prepare``, ``args`` killed right after that write, then
    ``then(ns)`` (the user's next command). What differs from an uninterrupted run, per
    point: [] when every one was recovered. A named point must have killed the command (its
    write came), but "last", which may find it exited already."""
    named = points is not None
    points = points or every_write(target, cluster, namespaces, prepare, args)

    def check(point):
        name, kill_when = point
        ns = prepare(target, cluster, namespaces)
        code, _, output = run_counting(target, "-n", ns, *args, kill_when=kill_when)
        if named and code not in ((-9, 0) if name == "last" else (-9,)):
            return name, f"exit {code}", output[-1000:]
        after = then(ns)
        if after.returncode != 0 or (marker is not None and volumes.marker(cluster, ns) != marker):
            return name, after.returncode, after.stderr.strip()[-300:]
        problems = (extra or left_over)(cluster, ns)
        return (name, problems) if problems else None

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return [r for r in pool.map(check, points.items()) if r is not None]
