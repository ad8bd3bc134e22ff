"""`mongodump` and `mongorestore` in the in-memory API server's pods (tests/support/memory.py),
run through pods/exec (memory_exec.py) as data/archives.py runs them, answered as the
sandbox's stand-ins (pacdeploy/sandbox/mongo_tools.py) answer them.

The documents are in the data of the volume behind the pod's claim (memory_storage.py):
``data["documents"]`` is {database: {collection: [document, ...]}}, documents as dicts
(:func:`documents`, :func:`put_documents`). The archive is the stand-in's: its header, a
``ns DB.COLLECTION N`` line and N JSON lines per collection, its trailer (the real tool's
is BSON; pacdeploy treats it as opaque bytes).

What is honoured, as the stand-in honours it of the real tools (mongo-tools 100.x): the
password read from stdin up to a newline (`--username` without `--password`,
common/password/password.go) and checked against the app's Secret; `--db` for a dump and
`--nsInclude`, `--drop` for a restore (without it a document whose _id is there already
fails, E11000); the log lines on stderr (`done dumping DB.COLL (N documents)`, `finished
restoring`, `N document(s) restored successfully. M document(s) failed to restore.`, and
`Failed: ...` before exit code 1). A dump answers once the password is in; a restore once
stdin is closed ([255, 0] on v5.channel.k8s.io), as a real kubelet passes end of file on.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pacdeploy.sandbox import mongo_tools
from pacdeploy.sandbox.mongo_tools import HEADER, SECRET, TRAILER, Failed

if TYPE_CHECKING:
    from tests.support.memory import Memory, Obj

TOOLS = ("mongodump", "mongorestore")
DATABASE = "pacman"  # the Secret's database-name (app/credentials.py)
Collections = dict[str, list[dict[str, Any]]]


def documents(data: dict[str, Any], database: str = DATABASE) -> Collections:
    """The collections a volume's ``data`` holds of ``database``."""
    return copy.deepcopy(data.get("documents", {}).get(database, {}))


def put_documents(data: dict[str, Any], collections: Collections, database: str = DATABASE) -> None:
    """``collections`` written on a volume, replacing those of the same names."""
    held = data.setdefault("documents", {}).setdefault(database, {})
    held.update(copy.deepcopy(collections))


def answers(tool: str, stdin: bytes, closed: bool) -> bool:
    """Whether ``tool`` has what it reads before it answers: the password, a restore its
    whole archive."""
    return closed or (tool == "mongodump" and b"\n" in stdin)


def run(
    memory: Memory, where: tuple[str, str], command: list[str], stdin: bytes
) -> tuple[int, bytes, str]:
    """(exit code, stdout, stderr) of ``command`` in the pod ``where`` (namespace, pod),
    given ``stdin``."""
    tool, log = command[0], _Log()
    try:
        options = mongo_tools.parse(tool, command[1:])
    except SystemExit:
        return mongo_tools.EXIT_FAILURE, b"", f"error parsing command line options: {command}\n"
    password, _, archive = stdin.partition(b"\n")
    counts = [0, 0]  # restored, failed
    out = b""
    with memory.changed:
        try:
            _authenticate(memory, where[0], options, password.decode(), log)
            data = _volume_data(memory, *where)
            if tool == "mongodump":
                out = _dump(data, options.get("db") or "test", log)
            else:
                counts = _restore(data, options, archive, log)
        except Failed as exc:
            log(f"Failed: {exc}")
            if tool == "mongorestore":
                log(_summary(*counts))
            return mongo_tools.EXIT_FAILURE, out, log.text()
    if tool == "mongorestore":
        log(_summary(*counts))
    return 0, out, log.text()


class _Log:
    """The tool's stderr: each line stamped as the tools stamp theirs."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        self.lines.append(f"{stamp}\t{message}\n")

    def text(self) -> str:
        return "".join(self.lines)


def _summary(restored: int, failed: int) -> str:
    return f"{restored} document(s) restored successfully. {failed} document(s) failed to restore."


def _authenticate(
    memory: Memory, namespace: str, options: dict[str, str], typed: str, log: _Log
) -> None:
    """As mongod would: the root user and password of the app's Secret."""
    asks = options.get("username") and not options.get("password")
    if asks:  # the prompt, unstamped, as readPassNonInteractively writes it
        log.lines.append("Enter password for mongo user:\n")
    password = typed if asks else options.get("password", "")
    secret = memory.objects.get(("Secret", namespace, SECRET)) or {}
    wanted = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    user_ok = options.get("username") == wanted.get("database-admin-name")
    if not (user_ok and password == wanted.get("database-admin-password")):
        raise Failed("can't create session: connection() error: auth error: Authentication failed")


def _volume_data(memory: Memory, namespace: str, pod: str) -> dict[str, Any]:
    """The data of the volume behind the pod's (first) claim: mongod's files."""
    found: Obj = memory.objects.get(("Pod", namespace, pod)) or {}
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in found.get("spec", {}).get("volumes", [])
        if "persistentVolumeClaim" in v
    ]
    claim = memory.objects.get(("PersistentVolumeClaim", namespace, claims[0])) if claims else None
    volume = (claim or {}).get("spec", {}).get("volumeName")
    if volume not in memory.volumes:
        raise Failed(f"pod {pod} has no volume for mongod's data")
    return memory.volumes[volume]


def _dump(data: dict[str, Any], database: str, log: _Log) -> bytes:
    archive = [HEADER]
    for name, held in sorted(documents(data, database).items()):
        log(f"writing {database}.{name} to archive on stdout")
        archive.append(f"ns {database}.{name} {len(held)}\n".encode())
        archive += [json.dumps(d).encode() + b"\n" for d in held]
        log(f"done dumping {database}.{name} ({len(held)} document{'' if len(held) == 1 else 's'})")
    return b"".join([*archive, TRAILER])


def _restore(data: dict[str, Any], options: dict[str, str], archive: bytes, log: _Log) -> list[int]:
    """Each included collection written into the volume's data: [restored, failed]."""
    counts = [0, 0]
    for namespace, lines in mongo_tools.read_archive(io.BytesIO(archive)):
        if not mongo_tools.included(namespace, options.get("nsInclude")):
            continue
        database, _, name = namespace.partition(".")
        have = [] if "drop" in options else documents(data, database).get(name, [])
        ids = {json.dumps(d.get("_id"), sort_keys=True) for d in have}
        try:
            given = [json.loads(line) for line in lines]
        except ValueError:
            raise Failed("corruption found in archive; unexpected end of archive") from None
        fresh = [d for d in given if json.dumps(d.get("_id"), sort_keys=True) not in ids]
        put_documents(data, {name: [*have, *fresh]}, database)
        done, lost = len(fresh), len(given) - len(fresh)
        log(f"finished restoring {namespace} ({done} documents, {lost} failures)")
        counts = [counts[0] + done, counts[1] + lost]
    return counts
