"""The sandbox only ever signals processes it started, even when a pid file lies."""

import subprocess
import sys
import time
from pathlib import Path

from pacdeploy.sandbox import processes


def sleeper():
    """A process that sleeps, once it has exec'd (before that /proc shows its parent's cmdline)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    deadline = time.monotonic() + 10
    while b"time.sleep" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return proc


def test_a_reused_pid_is_never_killed(tmp_path):
    stranger = sleeper()
    try:
        pidfile = tmp_path / "kube-apiserver.pid"
        pidfile.write_text(str(stranger.pid))  # a stale pid file, its number now reused
        assert processes.running(pidfile, "/state/bin/kube-apiserver") is None
        assert processes.stop(pidfile, "/state/bin/kube-apiserver") is False
        assert stranger.poll() is None, "a process that is not ours was signalled"
        assert not pidfile.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_our_process_is_stopped_and_its_zombie_not_counted(tmp_path):
    ours = sleeper()
    pidfile = tmp_path / "sleeper.pid"
    pidfile.write_text(str(ours.pid))
    assert processes.running(pidfile, "time.sleep(60)") == ours.pid
    assert processes.stop(pidfile, "time.sleep(60)", grace=2) is True
    # Not yet reaped by its parent: a zombie, which is not running.
    assert not processes.alive(ours.pid)
    ours.wait()
