"""What a command loads on its way to the API server: the official client's REST layer,
not its whole package (pydantic, requests, `kubernetes.config`, the 800 models), no
`importlib.metadata` (urllib3's HTTP/2 `__init__`), and no Rich when its output is a pipe.
A gate on what loads, not on how long it takes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.support import cli

pytestmark = pytest.mark.integration

NEVER = (
    "pydantic",
    "requests",
    "kubernetes.config",
    "kubernetes.client.models",
    "rich",
    "importlib.metadata",
)
# Loaded by `status`, `scale` and a no-op `up` on 2026-12-07: 344-357 (592 before the REST
# layer was loaded alone). Room for growth, none for the client package coming back.
BUDGET = 420
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$", re.MULTILINE)


def loaded_by(target, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *cli.command("--context", target.context, *args)[1:]],
        env=target.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [name for _, name in IMPORTED.findall(result.stderr)]


def test_day_to_day_commands_on_a_pipe_load_only_the_rest_layer(target, app):
    for args in (("status",), ("scale", "--replicas", "2"), ("up", "--replicas", "2")):
        modules = loaded_by(target, "-n", app, *args)
        heavy = sorted({m for m in modules for n in NEVER if m == n or m.startswith(n + ".")})
        assert not heavy, f"{' '.join(args)} loaded {heavy}"
        assert len(modules) <= BUDGET, f"{' '.join(args)} loaded {len(modules)} modules"
