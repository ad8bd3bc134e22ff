"""`pacdeploy sandbox up|down|status`: the project's own local cluster."""

from __future__ import annotations

import sys

import click

from pacdeploy import collector
from pacdeploy.cli.settings import OUTPUT, Settings, pass_settings


@click.group()
def sandbox() -> None:
    """A local cluster: the real control plane, with KWOK simulating nodes and pods."""
    collector.resume()  # these run for seconds to minutes: no start-up to hurry


@sandbox.command("up")
@pass_settings
def sandbox_up(settings: Settings) -> None:
    """Build (first time), start and seed the sandbox; merge context pacdeploy-sandbox."""
    from pacdeploy.sandbox import lifecycle

    with settings.out.steps("sandbox up") as report:
        lifecycle.up(report)
    settings.out.info(f"kubectl --context {lifecycle.CONTEXT} get nodes")


@sandbox.command("down")
@pass_settings
def sandbox_down(settings: Settings) -> None:
    """Stop every sandbox process and remove its context."""
    from pacdeploy.sandbox import lifecycle

    with settings.out.steps("sandbox down") as report:
        existed = lifecycle.down(report)
    settings.out.info("sandbox stopped" if existed else "no sandbox was running")


@sandbox.command("status")
@OUTPUT
@pass_settings
def sandbox_status(settings: Settings, fmt: str) -> None:
    """Say what runs and where."""
    from pacdeploy.sandbox import lifecycle

    out = settings.out
    current = lifecycle.status()
    if fmt != "table":
        out.data(current.as_dict(), fmt)
    elif not current.exists:
        out.info("sandbox: not created (run `pacdeploy sandbox up`)")
    else:
        out.info(f"sandbox: {'healthy' if current.healthy else 'DEGRADED'} at {current.server}")
        for name, pid in current.processes.items():
            out.info(f"  {name:<24} {'pid ' + str(pid) if pid else 'NOT RUNNING'}")
    if current.exists and not current.healthy:
        sys.exit(1)
