#!/usr/bin/env python3
"""The sandbox's `mongodump` and `mongorestore`: what an exec into a simulated mongo pod runs
under those names (installed into exec_bin by `sandbox up`; KWOK runs them as local
processes). Standard library only: it runs outside pacdeploy's environment.

No mongod runs in the sandbox, so the documents live as files in the pod's own volume
directory (the provisioner's real directory behind its claim): `<volume>/<STORE>/<db>/
<collection>.jsonl`, one JSON document a line. A dump reads them from the pod's volume and a
restore writes them into its pod's, so a test counts the documents that crossed.

What is honoured of the real tools (mongodb/mongo-tools, 100.x): the options pacdeploy and a
user pass (`--uri`, `--username`, `--authenticationDatabase`, `--db`, `--archive` to stdout /
from stdin, `--nsInclude`, `--drop`); the password read from stdin byte by byte up to a
newline when `--username` comes without `--password` (common/password/password.go,
readPassNonInteractively), checked against the Secret as mongod would; the log lines on
stderr (`done dumping`, `finished restoring`, `N document(s) restored successfully. M
document(s) failed to restore.`); exit code 0, or 1 (util.ExitFailure) on any error.

What is not: the archive's bytes. Real archives are BSON with a binary prelude; this one is
JSON lines between a header and a trailer. pacdeploy treats archives as opaque bytes, so
nothing depends on the difference. The trailer also ends a restore: KWOK's local exec copies
stdin into the process and never closes it (pkg/utils/exec/exec.go: io.Copy into
cmd.StdinPipe()), so end of file never comes here, where a real kubelet passes it on.

Which pod is asking: the `appName` of the URI, "pacdeploy NAMESPACE/POD" (what mongod
logs as the client's name). A call without it fails as an unreachable server would.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote, urlparse

STORE = "sandbox-documents"  # in a volume: the documents a real mongod keeps in WiredTiger
HEADER = b"pacdeploy-sandbox-archive 1\n"
TRAILER = b"end\n"
SECRET = "mongodb-users-secret"
EXIT_FAILURE = 1
# option -> takes a value; `--archive` takes one only as `--archive=PATH` (optional-value "-")
OPTIONS = {
    "--uri": True,
    "--host": True,
    "--port": True,
    "--username": True,
    "-u": True,
    "--password": True,
    "-p": True,
    "--authenticationDatabase": True,
    "--db": True,
    "-d": True,
    "--nsInclude": True,
    "--archive": False,
    "--drop": False,
    "--quiet": False,
}


class Failed(Exception):
    """What the real tool would log after `Failed:` before exiting 1."""


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    sys.stderr.write(f"{stamp}\t{message}\n")
    sys.stderr.flush()


def parse(tool: str, argv: list[str]) -> dict[str, str]:
    """``--opt value``, ``--opt=value`` and flags, as go-flags reads them; unknown: exit 1."""
    found: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        name, has_value, value = arg.partition("=")
        if name not in OPTIONS:
            log(f"error parsing command line options: unknown option {name!r}")
            log(f"try '{tool} --help' for more information")
            raise SystemExit(EXIT_FAILURE)
        if OPTIONS[name] and not has_value:
            value = next(args, "")
        found[name.lstrip("-")] = value if (has_value or OPTIONS[name]) else "-"
    for short, long in (("u", "username"), ("p", "password"), ("d", "db")):
        if short in found:
            found[long] = found.pop(short)
    return found


def read_password(stdin: BinaryIO) -> str:
    """As readPassNonInteractively: byte by byte, up to a newline (nothing read past it)."""
    sys.stderr.write("Enter password for mongo user:")
    got = bytearray()
    while (byte := stdin.read(1)) and byte not in (b"\n", b"\r"):
        got += byte
    sys.stderr.write("\n")
    return got.decode()


def kubectl(*args: str) -> dict[str, Any]:
    state = Path(__file__).resolve().parent.parent  # exec_bin is <state>/exec-bin
    config = state / "clusters" / "pacdeploy" / "kubeconfig.yaml"
    ran = subprocess.run(
        ["kubectl", "--kubeconfig", str(config), *args, "-o", "json"],
        stdin=subprocess.DEVNULL,  # the archive on our stdin is ours alone
        capture_output=True,
        text=True,
        check=False,
    )
    if ran.returncode != 0:
        raise Failed(f"can't reach the sandbox's API server: {ran.stderr.strip()}")
    result: dict[str, Any] = json.loads(ran.stdout)
    return result


def caller(options: dict[str, str]) -> tuple[str, str]:
    """(namespace, pod) from the URI's appName "pacdeploy NAMESPACE/POD"."""
    query = parse_qs(urlparse(options.get("uri", "")).query)
    name = unquote((query.get("appName") or [""])[0])
    match = re.fullmatch(r"pacdeploy ([a-z0-9-]+)/([a-z0-9.-]+)", name)
    if not match:
        raise Failed(
            "can't create session: server selection error: no reachable servers "
            "(the sandbox's stand-in needs appName=pacdeploy NAMESPACE/POD in --uri)"
        )
    return match.group(1), match.group(2)


def volume_dir(namespace: str, pod: str) -> Path:
    """The directory behind the pod's claim: the provisioner's, as its volume says."""
    spec = kubectl("-n", namespace, "get", "pod", pod)["spec"]
    volumes = spec["volumes"]
    claims = [
        v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
    ]
    if not claims:
        raise Failed(f"pod {pod} has no volume for mongod's data")
    claim = kubectl("-n", namespace, "get", "pvc", claims[0])
    volume = kubectl("get", "pv", claim["spec"]["volumeName"])["spec"]
    path = (volume.get("csi") or {}).get("volumeAttributes", {}).get("path")
    return Path(path or volume["hostPath"]["path"])


def authenticate(options: dict[str, str], namespace: str, stdin: BinaryIO) -> None:
    """As mongod would: the root user and password of the app's Secret, or exit 1."""
    asks = options.get("username") and not options.get("password")
    password = read_password(stdin) if asks else options.get("password", "")
    data = kubectl("-n", namespace, "get", "secret", SECRET).get("data") or {}
    wanted = {k: base64.b64decode(v).decode() for k, v in data.items()}
    user_ok = options.get("username") == wanted.get("database-admin-name")
    if not (user_ok and password == wanted.get("database-admin-password")):
        raise Failed("can't create session: connection() error: auth error: Authentication failed")


def collections(root: Path, database: str) -> Iterator[tuple[str, list[str]]]:
    for path in sorted((root / STORE / database).glob("*.jsonl")):
        yield path.stem, [line for line in path.read_text().splitlines() if line.strip()]


def dump(options: dict[str, str], root: Path, out: BinaryIO) -> None:
    database = options.get("db") or "test"
    if options.get("archive") != "-":
        raise Failed("this stand-in writes archives to stdout only (--archive)")
    out.write(HEADER)
    for name, documents in collections(root, database):
        log(f"writing {database}.{name} to archive on stdout")
        out.write(f"ns {database}.{name} {len(documents)}\n".encode())
        out.writelines(f"{d}\n".encode() for d in documents)
        plural = "document" if len(documents) == 1 else "documents"
        log(f"done dumping {database}.{name} ({len(documents)} {plural})")
    out.write(TRAILER)
    out.flush()


def read_archive(stdin: BinaryIO) -> Iterator[tuple[str, list[str]]]:
    """(namespace, documents) of each collection, up to the trailer (no EOF: see above)."""
    if stdin.readline() != HEADER:
        raise Failed("stream or file does not appear to be a mongodump archive")
    while (line := stdin.readline()) != TRAILER:
        parts = line.decode().split()
        if len(parts) != 3 or parts[0] != "ns":
            raise Failed("corruption found in archive; unexpected end of archive")
        yield parts[1], [stdin.readline().decode().strip() for _ in range(int(parts[2]))]


def included(namespace: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), namespace) is not None


def _id(document: str) -> str:
    return json.dumps(json.loads(document).get("_id"), sort_keys=True)


def restore(options: dict[str, str], root: Path, stdin: BinaryIO) -> tuple[int, int]:
    """Write each included collection into the pod's volume: (restored, failed)."""
    restored = failed = 0
    for namespace, documents in read_archive(stdin):
        if not included(namespace, options.get("nsInclude")):
            continue
        database, _, name = namespace.partition(".")
        path = root / STORE / database / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        have = [] if "drop" in options or not path.exists() else path.read_text().splitlines()
        ids = {_id(d) for d in have if d.strip()}
        fresh = [d for d in documents if _id(d) not in ids]  # E11000 duplicate key: a failure
        path.write_text("".join(f"{d}\n" for d in [*have, *fresh]))
        done, lost = len(fresh), len(documents) - len(fresh)
        log(f"finished restoring {namespace} ({done} documents, {lost} failures)")
        restored, failed = restored + done, failed + lost
    return restored, failed


def main() -> int:
    tool = Path(sys.argv[0]).name
    if log_file := os.environ.get("PACDEPLOY_EXEC_LOG"):
        with open(log_file, "a") as written:
            written.write(" ".join([tool, *sys.argv[1:]]) + "\n")
    options = parse(tool, sys.argv[1:])
    restored = failed = 0
    try:
        namespace, pod = caller(options)
        authenticate(options, namespace, sys.stdin.buffer)
        root = volume_dir(namespace, pod)
        if tool == "mongodump":
            dump(options, root, sys.stdout.buffer)
            return 0
        restored, failed = restore(options, root, sys.stdin.buffer)
    except Failed as exc:
        log(f"Failed: {exc}")
        if tool == "mongorestore":
            summary(restored, failed)
        return EXIT_FAILURE
    summary(restored, failed)
    return 0


def summary(restored: int, failed: int) -> None:
    log(f"{restored} document(s) restored successfully. {failed} document(s) failed to restore.")


if __name__ == "__main__":
    sys.exit(main())
