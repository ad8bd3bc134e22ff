"""The kubectl parity suite's fixtures: the whole table (scenarios_*.py) run once, with the
real kubectl (the one the other tests use: ``Target.kubectl``, the sandbox's own build) and
with pacdeploy, WORKERS scenarios side by side, each worker with stand-in API servers of its
own (world.py); runner.py runs one scenario and says what must be equal.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.parity.forkserver import Forkserver
from tests.parity.runner import Scenario, run_scenario
from tests.parity.world import Observation, World
from tests.support.apiserver import Pki

WORKERS = 4  # worlds side by side: each run is mostly process start-up


@pytest.fixture(scope="session")
def kubectl(request: Any) -> str:
    """The kubectl every other test uses (the sandbox's build, v1.36.3 like its client-go)."""
    import os  # DEVHACK

    if os.environ.get("DEV_KUBECTL"):  # DEVHACK
        return os.environ["DEV_KUBECTL"]  # DEVHACK
    return str(request.getfixturevalue("target").kubectl)


@pytest.fixture(scope="session")
def parity(
    kubectl: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Scenario], tuple]]:
    """Runs the whole table once, WORKERS at a time; gives each scenario's two observations."""
    from tests.parity.scenarios import SCENARIOS

    folder = tmp_path_factory.mktemp("parity")
    pki = Pki.make(folder / "pki")
    worlds: queue.Queue[World] = queue.Queue()
    opened = [World(folder / f"world-{n}", pki).__enter__() for n in range(WORKERS)]
    for world in opened:
        worlds.put(world)

    forks = Forkserver({"PATH": os.environ["PATH"], "PACDEPLOY_API_RETRY_SECONDS": "0"})

    def one(scenario: Scenario) -> tuple[Observation, Observation]:
        world = worlds.get()
        try:
            return run_scenario(scenario, world, kubectl, forks=forks)
        finally:
            worlds.put(world)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            results = dict(zip([s.name for s in SCENARIOS], pool.map(one, SCENARIOS), strict=True))
        yield lambda scenario: results[scenario.name]
    finally:
        forks.close()
        for world in opened:
            world.__exit__(None, None, None)
