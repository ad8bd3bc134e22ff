"""Terminal output: Rich on a TTY, plain parseable lines otherwise; errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from rich.console import Console
from rich.text import Text

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def interactive() -> bool:
    return console.is_terminal


def info(message: str | Text) -> None:
    """One line on stdout. Strings are never read as markup: they often carry cluster text."""
    if interactive():
        console.print(message, markup=False)
    else:
        print(message.plain if isinstance(message, Text) else message, flush=True)


def _stderr(label: str, style: str, message: str) -> None:
    if err_console.is_terminal:
        err_console.print(Text.assemble((label, style), message), soft_wrap=True)
    else:
        print(f"{label}{message}", file=sys.stderr, flush=True)


def error(message: str) -> None:
    _stderr("error: ", "bold red", message)


def warning(message: str) -> None:
    _stderr("warning: ", "bold yellow", message)


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
            console.print(Text.assemble(("  • ", "dim"), message))
            status.update(Text(f"{title}: {message}"))

        yield report
