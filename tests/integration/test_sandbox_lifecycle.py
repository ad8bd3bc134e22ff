"""`pacdeploy sandbox up|status|down`, run as a user would, in a state directory of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlparse

import pytest
import yaml

from pacdeploy.sandbox.lifecycle import CONTEXT
from pacdeploy.sandbox.processes import alive
from tests.support import cli, eventually

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]


def run(env, *args):
    return cli.run("sandbox", *args, env=env)


def status(env):
    result = run(env, "status", "-o", "json")
    return result.returncode, json.loads(result.stdout)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def holders(port: int) -> str:
    """Who listens on ``port`` (for the failure message): the process, from `ss`."""
    command = ["ss", "-ltnpH", f"sport = :{port}"]
    found = subprocess.run(command, check=False, capture_output=True, text=True)
    return found.stdout or found.stderr


def test_up_twice_restart_and_down_leave_nothing(tmp_path):
    kubeconfig = tmp_path / "config"
    env = {
        **os.environ,
        "PACDEPLOY_STATE_DIR": str(tmp_path / "state"),
        "KUBECONFIG": str(kubeconfig),
    }
    first = run(env, "up")
    assert first.returncode == 0, first.stderr
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["current-context"] == CONTEXT
    server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == CONTEXT)
    port = urlparse(server).port
    assert urlparse(server).hostname == "127.0.0.1"

    code, before = status(env)
    assert code == 0 and before["healthy"]
    assert all(before["processes"].values())

    again = run(env, "up")
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert status(env)[1]["processes"] == before["processes"]

    # A crashed component is detected and restarted by the next `up`.
    os.kill(before["processes"]["kube-apiserver"], signal.SIGKILL)
    code, crashed = eventually(lambda: (s := status(env))[0] == 1 and s, timeout=10)
    assert not crashed["healthy"]
    assert crashed["processes"]["kube-apiserver"] is None
    repaired = run(env, "up")
    assert repaired.returncode == 0, repaired.stderr
    code, after = status(env)
    assert code == 0 and after["healthy"]
    assert after["processes"]["kube-apiserver"] != before["processes"]["kube-apiserver"]

    down = run(env, "down")
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 10
    pids = [p for p in after["processes"].values() if p]
    # The port is free once the last thread of the API server has exited, a moment after
    # its process has (a zombie no one reaps here can keep it open that long).
    while (any(alive(p) for p in pids) or listening(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if alive(p)]
    assert not listening(port), holders(port)
    config = yaml.safe_load(kubeconfig.read_text())
    assert CONTEXT not in [c["name"] for c in config["contexts"]]
    assert config["current-context"] == ""
    assert status(env)[1]["exists"] is False
