"""Logical archives of the app's database: `mongodump --archive` and `mongorestore --archive`
run in the running mongo container through pods/exec, the archive streamed to and from the
user's disk. Unlike a backup (a snapshot of the volume, for the same MongoDB), an archive
crosses MongoDB versions, namespaces and clusters.

Both stacks' images ship the tools (tests/unit/image_contracts.py). The root password never
appears on a command line: given `--username` without `--password`, the tools read it from
stdin up to a newline (mongo-tools common/password/password.go), and the archive follows it
on the same stdin for a restore. The URI's appName names the caller ("pacdeploy NS/POD"),
as the shell's comment does for a lock: mongod logs it with the connection.

The tools' own log lines say what crossed (`done dumping DB.COLL (N documents)`;
`N document(s) restored successfully. M document(s) failed to restore.`): an import is
complete only when every document was restored and none failed.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pacdeploy.app.manifests import SECRET, STATEFULSET
from pacdeploy.data import consistency
from pacdeploy.errors import InvalidInput, NotFound, NotReady, PacdeployError
from pacdeploy.kube import podexec
from pacdeploy.kube.client import Cluster

CONTAINER = STATEFULSET  # the mongod container's name in the manifests
IDLE_SECONDS = 120.0  # the most a tool may be silent (a large collection between log lines)
CHUNK = 1024 * 1024
_DUMPED = re.compile(r"done dumping `?([^`\s]+)`? \((\d+) documents?\)")
_RESTORED = re.compile(r"(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed")


@dataclass(frozen=True)
class Login:
    """Who the tools log in as, and the database they move: the app's Secret's values."""

    user: str
    password: str
    database: str


@dataclass(frozen=True)
class Dumped:
    pod: str
    collections: dict[str, int]  # DB.COLLECTION -> documents

    @property
    def documents(self) -> int:
        return sum(self.collections.values())

    def describe(self) -> str:
        parts = ", ".join(f"{ns.split('.', 1)[-1]} {n}" for ns, n in self.collections.items())
        return f"{self.documents} documents" + (f" ({parts})" if parts else "")


# -- pure ---------------------------------------------------------------------------------
def dumped(stderr: str) -> dict[str, int]:
    """DB.COLLECTION -> documents, from mongodump's log."""
    return {ns: int(n) for ns, n in _DUMPED.findall(stderr)}


def restored(stderr: str) -> tuple[int, int] | None:
    """(restored, failed) from mongorestore's summary line; None without one."""
    found = _RESTORED.findall(stderr)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def tool_command(tool: str, login: Login, namespace: str, *, pod: str) -> list[str]:
    """`mongodump` or `mongorestore` of the app's database, archive on stdout or stdin."""
    uri = f"mongodb://127.0.0.1:27017/?appName=pacdeploy%20{namespace}/{pod}"
    common = [tool, f"--uri={uri}", f"--username={login.user}", "--authenticationDatabase=admin"]
    if tool == "mongodump":
        return [*common, f"--db={login.database}", "--archive"]
    # --drop: the archive's collections replace the ones there, as a restore does.
    return [*common, f"--nsInclude={login.database}.*", "--drop", "--archive"]


def why(stderr: str, reason: str) -> str:
    """The tool's own `Failed:` line, else the exec's reason."""
    failed = [line.split("Failed: ", 1)[1] for line in stderr.splitlines() if "Failed: " in line]
    return failed[-1] if failed else (reason or stderr.strip()[-300:] or "it failed")


# -- on the cluster -----------------------------------------------------------------------
def login(cluster: Cluster, namespace: str) -> Login:
    secret = cluster.get("Secret", SECRET, namespace)
    data = (secret or {}).get("data") or {}
    values = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
    try:
        return Login(
            values["database-admin-name"],
            values["database-admin-password"],
            values["database-name"],
        )
    except KeyError as exc:
        raise NotFound(
            f"secret/{SECRET} in namespace {namespace} has no {exc.args[0]}",
            f"Run `pacdeploy up -n {namespace}` first",
        ) from None


def ready_pod(cluster: Cluster, namespace: str) -> str:
    pods = consistency.ready_mongo_pods(cluster, namespace)
    if not pods:
        raise NotReady(
            f"no Ready mongo pod in namespace {namespace} to run the database tools in",
            f"See `pacdeploy status -n {namespace}`",
        )
    return next(iter(pods))


def _run(
    cluster: Cluster,
    where: tuple[str, str],
    tool: str,
    *,
    archive_in: Iterator[bytes],
    archive_out: Callable[[bytes], object],
    idle: float,
) -> str:
    """``tool`` in the pod at ``where`` (namespace, pod), the password then ``archive_in`` on
    its stdin: its log (stderr), or an error naming why it failed."""
    namespace, pod = where
    creds = login(cluster, namespace)

    def stdin() -> Iterator[bytes]:
        yield f"{creds.password}\n".encode()
        yield from archive_in

    ran = podexec.stream(
        cluster,
        podexec.Where(pod, namespace, CONTAINER),
        tool_command(tool, creds, namespace, pod=pod),
        stdin=stdin(),
        stdout=archive_out,
        idle=idle,
    )
    if not ran.ok:
        raise PacdeployError(f"{tool} failed in pod {pod}: {why(ran.stderr, ran.reason)}")
    return ran.stderr


def dump_to(
    cluster: Cluster,
    namespace: str,
    pod: str,
    *,
    write: Callable[[bytes], object],
    idle: float = IDLE_SECONDS,
) -> Dumped:
    """mongodump in ``pod``, its archive handed to ``write`` as it comes."""
    where = (namespace, pod)
    log = _run(cluster, where, "mongodump", archive_in=iter(()), archive_out=write, idle=idle)
    return Dumped(pod, dumped(log))


def restore_from(
    cluster: Cluster, namespace: str, pod: str, *, chunks: Iterator[bytes], idle: float
) -> int:
    """mongorestore in ``pod`` from the archive in ``chunks``: the documents restored, or an
    error when any failed."""
    where = (namespace, pod)
    log = _run(
        cluster, where, "mongorestore", archive_in=chunks, archive_out=lambda _: None, idle=idle
    )
    counts = restored(log)
    if counts is None:
        raise PacdeployError(f"mongorestore in pod {pod} gave no summary: {why(log, '')}")
    if counts[1]:
        raise PacdeployError(
            f"mongorestore in pod {pod}: {counts[1]} document(s) failed to restore "
            f"({counts[0]} restored): {why(log, '')}",
            "Fix what it names and import again: the archive replaces the collections it holds",
        )
    return counts[0]


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def export(cluster: Cluster, namespace: str, path: Path) -> Dumped:
    """The app's database to ``path`` (owner-only: it holds the players' data), whole or
    not at all: written beside it, renamed into place once mongodump succeeded."""
    pod = ready_pod(cluster, namespace)
    partial = path.with_name(path.name + ".part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as sink:
            found = dump_to(cluster, namespace, pod, write=sink.write)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return found


def import_(cluster: Cluster, namespace: str, path: Path) -> tuple[str, int]:
    """The archive at ``path`` into the app's database: (pod, documents restored)."""
    pod = ready_pod(cluster, namespace)
    return pod, restore_from(cluster, namespace, pod, chunks=file_chunks(path), idle=IDLE_SECONDS)
