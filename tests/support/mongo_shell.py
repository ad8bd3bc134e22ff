"""What the sandbox's mongo shell stand-in recorded: the calls in its exec log (shared by
every test: each picks out its own namespace's) and the fsync locks it holds."""

from __future__ import annotations

from pathlib import Path


def exec_calls(since: int, namespace: str | None = None) -> list[str]:
    """What the sandbox's mongo shell was asked since byte ``since`` of its log; with
    ``namespace``, only about its pods (the calls that name them in their comment,
    "pacdeploy NS/POD"): the log is shared with the tests running beside this one."""
    from pacdeploy.sandbox import paths

    log = paths.exec_log()
    lines = log.read_bytes()[since:].decode().splitlines() if log.exists() else []
    return [line for line in lines if namespace is None or f"pacdeploy {namespace}/" in line]


def exec_log_size() -> int:
    from pacdeploy.sandbox import paths

    log = paths.exec_log()
    return log.stat().st_size if log.exists() else 0


def lock_count(namespace: str, pod: str) -> int:
    """mongod's fsync lock count in ``pod``, as the sandbox's mongo shell keeps it."""
    from pacdeploy.sandbox import paths

    held = Path(f"{paths.exec_log()}.locks") / f"{namespace}_{pod}"
    return int(held.read_text()) if held.exists() else 0
