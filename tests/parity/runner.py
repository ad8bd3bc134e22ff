"""Running one scenario of the parity table with kubectl, then with pacdeploy, in one Case;
and what of the two runs must be equal.

What is compared, per scenario (``summary``): whether the command failed; which servers it
reached; for the request that matters (the SelfSubjectReview of ``kubectl auth whoami``, the
upgrade of ``kubectl exec``, or the namespaces named by ``kubectl get pods``): the server,
path, Authorization, Impersonate-* headers, client certificate and SNI; whether the proxy
was used (CONNECT) or asked for anything else; what the exec plugin was told, and whether it
ran at all.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.parity.forkserver import Forkserver
from tests.parity.world import Case, Observation, World

RUN_SECONDS = 30


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str  # the client-go test it is ported from, or "hand-written"
    build: Callable[[Case], None]
    mode: str = "rest"  # rest | stream | namespace


# mode -> (kubectl's command, pacdeploy's module and command); global flags go first
COMMANDS = {
    "rest": (["auth", "whoami", "-o", "json"], ("tests.support.whoami", [])),
    "stream": (
        ["-n", "default", "exec", "p", "--", "true"],
        ("tests.support.whoami", ["--exec", "p"]),
    ),
    "namespace": (["get", "pods"], ("pacdeploy", ["history"])),
}
MAIN = {"rest": "selfsubjectreviews", "stream": "/exec"}
NAMESPACE = re.compile(r"/namespaces/([^/]+)/")


def summary(seen: Observation, mode: str) -> dict[str, Any]:
    """What must be equal between kubectl's run and pacdeploy's."""
    if mode == "namespace":
        main = sorted({m.group(1) for r in seen.requests if (m := NAMESPACE.search(r.path))})
    else:
        main = sorted(
            {
                (r.server, r.path, r.authorization, r.impersonate, r.client_cn, r.sni)
                for r in seen.requests
                if r.path.endswith(MAIN[mode])
            }
        )
    tunnels, not_connect = seen.proxy
    return {
        "failed": seen.failed,
        "servers reached": sorted({r.server for r in seen.requests}),
        "request": main,
        "proxy (CONNECT, other)": (tunnels > 0, not_connect > 0),
        "exec plugin told": sorted({repr(sorted(run["info"].items())) for run in seen.plugin}),
        "exec plugin env and args": sorted(
            {repr((run["env"], run["args"])) for run in seen.plugin}
        ),
    }


def _run(command: list[str], case: Case) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            env=case.environment(),
            cwd=case.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, -9, "", f"timed out: {exc}")


def run_scenario(
    scenario: Scenario, world: World, kubectl: str, *, forks: Forkserver
) -> tuple[Observation, Observation]:
    case = Case(world, Path(tempfile.mkdtemp(prefix=f"{scenario.name[:40]}-", dir=world.folder)))
    scenario.build(case)
    theirs, (module, ours) = COMMANDS[scenario.mode]
    world.log.take()
    kubectl_run = _run([kubectl, *case.args, *theirs], case)
    first = world.observe(case.home, kubectl_run)
    folder = case.home.parent / f"{case.home.name}.run"
    options = {
        "env": case.environment(),
        "cwd": case.home,
        "folder": folder,
        "timeout": RUN_SECONDS,
    }
    return first, world.observe(case.home, forks.run(module, [*case.args, *ours], **options))
