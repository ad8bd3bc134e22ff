"""The sandbox's processes, found by pid file and only ever signalled once known to be ours.

A pid file can outlive its process, and the kernel reuses pids: before any signal the
process's /proc/<pid>/cmdline must name what we started, so a stranger is never killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
KILL_WAIT = 5.0  # seconds SIGKILL may take to end the process


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return False


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie (which still answers kill(0))."""
    return Path(f"/proc/{pid}").exists() and not _zombie(pid)


def ours(pid: int, marker: str) -> bool:
    """``pid`` is alive and its command line contains ``marker``."""
    return any(marker in part for part in _cmdline(pid)) and alive(pid)


def running(pidfile: Path, marker: str) -> int | None:
    """The pid in ``pidfile`` if that process is alive and ours."""
    pid = read_pid(pidfile)
    return pid if pid is not None and ours(pid, marker) else None


def stop(pidfile: Path, marker: str, grace: float = STOP_GRACE) -> bool:
    """SIGTERM, then SIGKILL after ``grace``; removes the pid file. False if none ran."""
    pid = running(pidfile, marker)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _gone(pid, marker, grace):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            # SIGKILL cannot be refused, but it takes effect when the kernel gets to it:
            # stopped means stopped when this returns (seen: still alive right after it
            # on a loaded machine).
            _gone(pid, marker, KILL_WAIT)
    pidfile.unlink(missing_ok=True)
    return pid is not None


def _exiting_or_ours(pid: int, marker: str) -> bool:
    """Still ours to wait for. An exiting process loses its command line (the kernel frees
    its memory) before it becomes a zombie, and meanwhile still holds its ports and files:
    an empty command line is it still exiting, never a stranger (whose has its name)."""
    cmdline = _cmdline(pid)
    return alive(pid) and (not cmdline or any(marker in part for part in cmdline))


def _gone(pid: int, marker: str, seconds: float) -> bool:
    """Whether ``pid`` has ended (or is a zombie, or is no longer ours) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while _exiting_or_ours(pid, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def start_detached(command: list[str], log: Path, pidfile: Path) -> int:
    """Start ``command`` in its own session (it outlives us, like kwokctl's processes)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=output,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pidfile.write_text(str(process.pid))
    return process.pid
