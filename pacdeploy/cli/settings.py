"""What every command shares: the global options' Settings (hatch's Application), the
parameter types, and the confirmation rule."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from pacdeploy import collector, output
from pacdeploy.errors import InvalidInput

if TYPE_CHECKING:  # imported by the commands that connect: `--help` loads no client
    from pacdeploy.kube.client import Cluster
    from pacdeploy.kube.dialing import Ahead

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


class Duration(click.ParamType[float]):
    """kubectl-style durations: 90s, 5m, 1h, 1m30s, or bare seconds."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            total = float(text)
        elif re.fullmatch(r"(\d+(\.\d+)?[hms])+", text):
            total = sum(
                float(n) * DURATION_UNITS[unit]
                for n, _, unit in re.findall(r"(\d+(\.\d+)?)([hms])", text)
            )
        else:
            self.fail(f"{value!r} is not a duration like 90s, 5m or 1h", param, ctx)
        if total <= 0:
            self.fail(f"{value!r} must be a positive duration", param, ctx)
        return total


class Port(click.ParamType[int]):
    name = "port"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        try:
            port = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a port number", param, ctx)
        if not 0 <= port <= 65535:
            self.fail(f"{port} is out of range: use 1-65535 (or 0 for any free port)", param, ctx)
        return port


@dataclass
class Settings:
    """What every command gets from the global options, and where it writes."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    out: output.Output
    _ahead: Ahead | None = field(default=None, init=False)

    def open_ahead(self, connections: int) -> None:
        """Open the connections the command's first round wants, now: before its modules
        and the client load (kube/dialing.py). Called once its input is checked."""
        from pacdeploy.kube import dialing

        self._ahead = dialing.start(self.kubeconfig, self.context, connections)

    def cluster(self) -> Cluster:
        """The cluster, on the connections opened ahead (one, if none was asked for)."""
        from pacdeploy.kube.client import connect

        cluster = connect(self.kubeconfig, self.context, ahead=self._ahead)
        collector.resume()
        return cluster


pass_settings = click.make_pass_decorator(Settings)
OUTPUT = click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["table", "json", "yaml"]),
    default="table",
    show_default=True,
)
TIMEOUT = click.option(
    "--timeout", type=Duration(), default="5m", show_default=True, help="How long to wait."
)
SHORT_TIMEOUT = click.option(
    "--timeout", type=Duration(), default="2m", show_default=True, help="How long to wait."
)
YES = click.option("--yes", "-y", is_flag=True, help="Do not ask first.")


def require_confirmation(yes: bool, what: str) -> None:
    """Before any connection: a question that cannot be asked fails now, not half-way."""
    if not yes and not sys.stdin.isatty():
        raise InvalidInput(
            f"{what} and needs confirmation", "Run it in a terminal to confirm, or pass --yes"
        )


def confirm(yes: bool, question: str, what: str) -> None:
    """Ask on a terminal; without one, only --yes goes on."""
    require_confirmation(yes, what)
    if not yes:
        click.confirm(question, abort=True)


def report_changes(out: output.Output, changes: list[Any], dry_run: bool = False) -> None:
    suffix = " (server dry run)" if dry_run else ""
    for change in changes:
        out.info(f"{change.ref} {change.action}{suffix}")
