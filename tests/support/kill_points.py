"""Killing a command right after a chosen write, as the kill-point tests do
(tests/integration/test_kill_points.py): the CLI runs with -vv, its request log is read as
it runs, and it is SIGKILLed once the write is logged (urllib3 logs a request once its
response is in: the write has happened)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable

from tests.support import cli
from tests.support.classes import class_annotations, classes_put_back, release_kept_volumes

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
