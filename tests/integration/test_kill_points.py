"""Killed at any point, finished by the next command: each multi-step command is run with
-vv, its request log read as it runs, and SIGKILLed right after its Nth write, for every N
from 1 to the number of writes an uninterrupted run makes. Then the user's next command
runs (the same command, and the undo where there is one) and must leave what an
uninterrupted run leaves: exit 0, every byte of the marker where it should be, mongo's
replicas as before, exactly one default StorageClass, nothing left over.

On the sandbox (real bytes in the volumes' directories, the real snapshot controller).
"""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from pacdeploy.app import storage
from pacdeploy.data import consistency, restore
from tests.conftest import class_annotations, classes_put_back, release_kept_volumes
from tests.integration.test_backups import lock_count, volume_dir
from tests.support import cli

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]

# urllib3 logs each request once its response is in: the write has happened.
REQUEST = re.compile(r'"(POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1" (\d+)')
NOT_WRITES = ("/apis/authorization.k8s.io/",)  # access reviews change nothing


def is_write(line: str) -> bool:
    found = REQUEST.search(line)
    return (
        bool(found)
        and not found.group(2).startswith(NOT_WRITES)
        and ("dryRun=All" not in found.group(2))
    )


def run_counting(target, *args: str, kill_after: int | None = None) -> tuple[int, int, str]:
    """Run the CLI with -vv; SIGKILL it right after its ``kill_after``-th write.
    Returns (exit code, writes seen, output)."""
    proc = cli.start("--context", target.context, "-vv", *args, env=target.env(), merge_stderr=True)
    seen, lines = 0, []
    for line in proc.stdout:
        lines.append(line)
        if is_write(line):
            seen += 1
            if seen == kill_after:
                proc.kill()
                break
    proc.stdout.close()
    return proc.wait(timeout=300), seen, "".join(lines)


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
        classes_put_back(self.request, self.cluster, self.classes)


@pytest.fixture
def namespaces(cluster, request):
    made = Namespaces(cluster, request)
    yield made
    made.cleanup()


def write_marker(cluster, ns: str, text: str) -> None:
    (volume_dir(cluster, ns) / "marker").write_text(text)


def read_marker(cluster, ns: str) -> str:
    return (volume_dir(cluster, ns) / "marker").read_text()


def one_default(cluster) -> list[str]:
    return storage.defaults(cluster.list("StorageClass"))


def left_over(cluster, ns: str) -> list[str]:
    """What differs from the end of an uninterrupted run: mongo's replicas, the intent,
    volumes still held back, claims, mongo's writes still locked."""
    problems = []
    sts = cluster.get("StatefulSet", "mongo", ns)
    if sts["spec"]["replicas"] != 1 or sts["status"].get("readyReplicas") != 1:
        problems.append(f"mongo at {sts['spec']['replicas']} replicas")
    if restore.INTENT in (sts["metadata"].get("annotations") or {}):
        problems.append("restore intent left")
    kept = cluster.list("PersistentVolume", label_selector=f"{restore.REPLACED_NAMESPACE}={ns}")
    problems += [f"volume {v['metadata']['name']} still kept" for v in kept]
    claims = [c["metadata"]["name"] for c in cluster.list("PersistentVolumeClaim", ns)]
    if claims != ["mongo-db-mongo-0"]:
        problems.append(f"claims {claims}")
    locks = lock_count(ns, "mongo-0")
    if locks or consistency.HELD in (sts["metadata"].get("annotations") or {}):
        problems.append(f"mongo still locked ({locks})")
    return problems


def with_backup(target, cluster, namespaces) -> str:
    """An app whose backup b1 holds "before" while the live volume holds "after"."""
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "before")
    target.succeeds("-n", ns, "backup", "create", "b1")
    write_marker(cluster, ns, "after")
    return ns


PARALLEL = 4  # kill points run side by side where they share nothing (not up and down)


def kill_points(target, cluster, namespaces, prepare, args) -> int:
    """How many writes an uninterrupted run of ``args`` makes, on a prepared namespace."""
    ns = prepare(target, cluster, namespaces)
    code, writes, output = run_counting(target, "-n", ns, *args)
    assert code == 0, output
    assert writes >= 1, output
    return writes


def next_command(target, ns: str, *args: str):
    """The user's next command, with a wait shorter than the suite's own timeout: a command
    that cannot finish says why itself (what it waited on) instead of being killed."""
    return target.pacdeploy("-n", ns, *args, "--timeout", "2m")


def unrecovered(target, cluster, namespaces, prepare, args, then, marker=None, extra=None):
    """For each kill point N, four at a time: a namespace made by ``prepare``, ``args``
    killed after its Nth write, then ``then(ns)`` (the user's next command). What differs
    from an uninterrupted run, per N: [] when every kill point was recovered."""
    writes = kill_points(target, cluster, namespaces, prepare, args)

    def check(n):
        ns = prepare(target, cluster, namespaces)
        run_counting(target, "-n", ns, *args, kill_after=n)
        after = then(ns)
        if after.returncode != 0 or (marker is not None and read_marker(cluster, ns) != marker):
            return n, after.returncode, after.stderr.strip()[-300:]
        problems = (extra or left_over)(cluster, ns)
        return (n, problems) if problems else None

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return [r for r in pool.map(check, range(1, writes + 1)) if r is not None]


def test_restore_killed_at_every_write_is_finished_by_running_it_again(target, cluster, namespaces):
    args = ("restore", "b1", "--yes")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731
    assert unrecovered(target, cluster, namespaces, with_backup, args, rerun, "before") == []
    assert one_default(cluster) == [target.storage_class]


def test_restore_killed_at_every_write_is_undone_by_undo(target, cluster, namespaces):
    undo = lambda ns: next_command(target, ns, "restore", "--undo", "--yes")  # noqa: E731
    args = ("restore", "b1", "--yes")
    assert unrecovered(target, cluster, namespaces, with_backup, args, undo, "after") == []


def deployed(target, cluster, namespaces) -> str:
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "scores")
    return ns


def test_backup_create_killed_at_every_write_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("backup", "create", "b1")

    def rerun(ns):
        again = next_command(target, ns, *args)
        if "already exists" in again.stderr:  # the killed run had finished it
            again.returncode = 0
        return again

    def one_ready_backup(cluster, ns):
        listed = target.succeeds("-n", ns, "backup", "list").splitlines()[1:]
        rows = [row.split() for row in listed]
        return [] if [(r[0], r[3]) for r in rows] == [("b1", "true")] else [f"backups {rows}"]

    found = unrecovered(target, cluster, namespaces, deployed, args, rerun, extra=one_ready_backup)
    assert found == []


PURGE = ("down", "--purge", "--yes")


def test_up_and_down_purge_killed_at_every_write_are_finished_by_running_them_again(
    target, cluster, namespaces, another_default
):
    """Both change the one default StorageClass, so their kill points run one after the
    other; each round is one of each: `up` killed after its Nth write and run again, then,
    on the app that leaves, `down --purge` killed after its Nth write and run again (past
    a command's last kill point, it runs uninterrupted). Each round starts and must end
    with another class the only default, as before the first, killed, `up`."""
    before = one_default(cluster)
    assert before == [another_default]
    first = namespaces.new()
    code, ups, output = run_counting(target, "-n", first, "up")
    assert code == 0 and ups > 2, output
    write_marker(cluster, first, "scores")
    code, downs, output = run_counting(target, "-n", first, *PURGE)
    assert code == 0 and downs > 2, output
    assert one_default(cluster) == before
    for n in range(1, max(ups, downs) + 1):
        ns = namespaces.new()
        run_counting(target, "-n", ns, "up", kill_after=n if n <= ups else None)
        again = next_command(target, ns, "up")
        assert again.returncode == 0, (n, again.stderr)
        history = target.succeeds("-n", ns, "history").splitlines()[1:]
        assert history and history[-1].split()[2] == "deployed", (n, history)
        assert one_default(cluster) == [target.storage_class], n
        write_marker(cluster, ns, "scores")
        run_counting(target, "-n", ns, *PURGE, kill_after=n if n <= downs else None)
        again = next_command(target, ns, *PURGE)
        assert again.returncode == 0, (n, again.stderr)
        assert cluster.get("Namespace", ns) is None, n
        # The way out gives the default back as it was before the first, killed, up.
        assert one_default(cluster) == before, n


def restored(target, cluster, namespaces) -> str:
    """b1 restored ("before" live); the data it replaced ("after") in its automatic backup."""
    ns = with_backup(target, cluster, namespaces)
    target.succeeds("-n", ns, "restore", "b1", "--yes")
    return ns


def test_restore_undo_killed_at_every_write_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    # An undo run twice undoes twice: the user runs what `status` names, if anything.
    args = ("restore", "--undo", "--yes")
    finish = lambda ns: finish_as_status_says(target, ns)  # noqa: E731
    assert unrecovered(target, cluster, namespaces, restored, args, finish, "after") == []


def finish_as_status_says(target, ns: str):
    """`status` names the command that finishes an interrupted restore; run it if it does."""
    shown = target.pacdeploy("-n", ns, "status")
    assert shown.returncode == 0, shown.stderr
    named = re.search(r"finish it with `pacdeploy ([^`]*)`", shown.stdout)
    if named is None:
        return shown  # nothing interrupted: the command had finished
    return target.pacdeploy(*named.group(1).split())


def changed_with_backup(target, cluster, namespaces) -> str:
    """Revision 1's data ("v1") in the backup taken before revision 2 changed mongo."""
    ns = namespaces.new()
    target.succeeds("-n", ns, "up")
    write_marker(cluster, ns, "v1")
    target.succeeds("-n", ns, "up", "--volume-permissions")
    write_marker(cluster, ns, "v2")
    return ns


def test_rollback_with_data_killed_at_every_write_is_finished_by_running_it_again(
    target, cluster, namespaces
):
    args = ("rollback", "1", "--with-data", "--yes")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731

    def revision_1_live(cluster, ns):
        pod = cluster.get("StatefulSet", "mongo", ns)["spec"]["template"]["spec"]
        inits = [c["name"] for c in pod["initContainers"]]
        return left_over(cluster, ns) + ([] if inits == ["prepare-base-dir"] else [f"{inits}"])

    found = unrecovered(
        target, cluster, namespaces, changed_with_backup, args, rerun, "v1", revision_1_live
    )
    assert found == []


def test_up_storage_size_killed_at_every_write_is_finished_by_running_it_again(
    target, cluster, namespaces, expandable
):
    """Killed while growing mongo's volume: the same command finishes it (claims and
    template at 2Gi, the same bytes, mongo Ready)."""
    from pacdeploy.app.manifests import claim_size

    args = ("up", "--storage-size", "2Gi")
    rerun = lambda ns: next_command(target, ns, *args)  # noqa: E731

    def grown(cluster, ns):
        claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", ns)
        sizes = (
            claim["status"]["capacity"]["storage"],
            claim_size(cluster.get("StatefulSet", "mongo", ns)),
        )
        return left_over(cluster, ns) + ([] if sizes == ("2Gi", "2Gi") else [f"sizes {sizes}"])

    found = unrecovered(target, cluster, namespaces, deployed, args, rerun, "scores", grown)
    assert found == []
