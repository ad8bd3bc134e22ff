"""Terminal output: Rich on a TTY, plain parseable lines otherwise; errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def interactive() -> bool:
    return console.is_terminal


def info(message: str) -> None:
    if interactive():
        console.print(message)
    else:
        print(message, flush=True)


def error(message: str) -> None:
    if err_console.is_terminal:
        err_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    else:
        print(f"error: {message}", file=sys.stderr, flush=True)


def emit(data: Any, output: str) -> None:
    """Machine-readable output: stable key order, no colour, straight to stdout."""
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    sys.stdout.flush()


@contextmanager
def step_reporter(title: str) -> Iterator[Any]:
    """A callable that reports progress: a live spinner on a TTY, one line per step otherwise."""
    if not interactive():
        yield lambda message: print(message, flush=True)
        return
    with console.status(title) as status:

        def report(message: str) -> None:
            console.print(f"  [dim]•[/] {message}")
            status.update(f"{title}: {message}")

        yield report
