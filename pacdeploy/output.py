"""The one place that decides how pacdeploy talks to a person or a program.

Rich on a terminal; plain, parseable lines when stdout is not one (pipes, CI). Commands
and waits get an :class:`Output` from the Click context (as httpie's ``Environment``) and
call its methods; no other module looks at the terminal. Every string handed to it is text:
cluster messages are never read as Rich markup, so ``[x]`` prints as ``[x]``.
"""

from __future__ import annotations

import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Report = Callable[[str], None]


class Row(NamedTuple):
    """One line of a live board. ``key`` names it for plain output, which prints a keyed row
    each time its text changes and never prints an unkeyed (fast-changing) one."""

    cells: tuple[str, ...]
    style: str = ""  # ok, waiting, failed, accent, dim
    key: str | None = None

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)


@dataclass(frozen=True)
class Outline:
    """A line of a tree (`status`), with the lines under it."""

    text: str
    children: list[Outline] = field(default_factory=list)


class Board(ABC):
    """A block of rows redrawn in place while something is waited for."""

    @abstractmethod
    def update(self, rows: list[Row], title: str = "") -> None: ...

    @abstractmethod
    def settle(self, rows: list[tuple[bool, str]]) -> None:
        """The final state once the wait is over: each line ok or not."""


class Output(ABC):
    @abstractmethod
    def info(self, text: str) -> None:
        """One line of normal output, on stdout."""

    @abstractmethod
    def warning(self, text: str) -> None: ...

    @abstractmethod
    def error(self, text: str) -> None: ...

    @abstractmethod
    def tree(self, root: Outline) -> None: ...

    @abstractmethod
    def table(self, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
        """A listing (`history`, `backup list`): kubectl's upper-case headers and columns."""

    @abstractmethod
    def steps(self, title: str) -> Any:
        """A context manager yielding a ``report(message)`` for the steps of a long task."""

    @abstractmethod
    def board(self, columns: tuple[str, ...] = ()) -> Any:
        """A context manager yielding a :class:`Board`."""

    def data(self, doc: Any, fmt: str) -> None:
        """Machine-readable output: stable key order, no colour, straight to stdout."""
        if fmt == "json":
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            import yaml

            sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
        sys.stdout.flush()


# -- plain ----------------------------------------------------------------------------
def aligned(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell, three spaces apart, as `kubectl get` prints."""
    lines = [tuple(c.upper() for c in columns), *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return [
        "   ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def _print(text: str, stream: Any = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


class _PlainBoard(Board):
    def __init__(self) -> None:
        self.shown: dict[str, str] = {}

    def update(self, rows: list[Row], title: str = "") -> None:
        for row in rows:
            if row.key is not None and self.shown.get(row.key) != row.text:
                self.shown[row.key] = row.text
                _print(row.text)

    def settle(self, rows: list[tuple[bool, str]]) -> None:
        """Each line was printed as it changed; nothing more to say."""


class PlainOutput(Output):
    def info(self, text: str) -> None:
        _print(text)

    def warning(self, text: str) -> None:
        _print(f"warning: {text}", sys.stderr)

    def error(self, text: str) -> None:
        _print(f"error: {text}", sys.stderr)

    def tree(self, root: Outline) -> None:
        def emit(node: Outline, depth: int) -> None:
            _print("  " * depth + node.text)
            for child in node.children:
                emit(child, depth + 1)

        emit(root, 0)

    def table(self, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
        for line in aligned(columns, rows):
            _print(line)

    @contextmanager
    def steps(self, title: str) -> Iterator[Report]:
        yield _print

    @contextmanager
    def board(self, columns: tuple[str, ...] = ()) -> Iterator[Board]:
        yield _PlainBoard()


# -- rich -----------------------------------------------------------------------------
STYLES = {"ok": "green", "waiting": "yellow", "failed": "red", "accent": "bold cyan", "dim": "dim"}


class _RichBoard(Board):
    def __init__(self, output: RichOutput, live: Any, columns: tuple[str, ...]) -> None:
        self.output, self.live, self.columns = output, live, columns

    def update(self, rows: list[Row], title: str = "") -> None:
        from rich.table import Table
        from rich.text import Text

        if self.columns:
            table = Table(title=title or None, expand=False)
            for column in self.columns:
                table.add_column(column)
            for row in rows:
                *first, last = row.cells
                table.add_row(*first, Text(last, style=STYLES.get(row.style, "")))
            self.live.update(table)
        else:
            lines = [Text(row.text, style=STYLES.get(row.style, "")) for row in rows]
            self.live.update(Text("\n").join(lines))

    def settle(self, rows: list[tuple[bool, str]]) -> None:
        for ok, text in rows:
            self.output.line(("✓ ", "green") if ok else ("✗ ", "red"), text)


class RichOutput(Output):
    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def line(self, mark: tuple[str, str], text: str) -> None:
        from rich.text import Text

        self.console.print(Text.assemble(mark, text))

    def info(self, text: str) -> None:
        self.console.print(text, markup=False)

    def _stderr(self, label: str, style: str, text: str) -> None:
        from rich.text import Text

        if self.err.is_terminal:
            self.err.print(Text.assemble((label, style), text), soft_wrap=True)
        else:
            _print(f"{label}{text}", sys.stderr)

    def warning(self, text: str) -> None:
        self._stderr("warning: ", "bold yellow", text)

    def error(self, text: str) -> None:
        self._stderr("error: ", "bold red", text)

    def tree(self, root: Outline) -> None:
        from rich.text import Text
        from rich.tree import Tree

        def add(parent: Tree, node: Outline) -> None:
            for child in node.children:
                add(parent.add(Text(child.text)), child)

        tree = Tree(Text(root.text, style="bold"))
        add(tree, root)
        self.console.print(tree)

    def table(self, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold")
        for column in columns:
            table.add_column(column.upper())
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        self.console.print(table)

    @contextmanager
    def steps(self, title: str) -> Iterator[Report]:
        from rich.text import Text

        with self.console.status(Text(title)) as status:

            def report(message: str) -> None:
                self.console.print(Text.assemble(("  • ", "dim"), message))
                status.update(Text(f"{title}: {message}"))

            yield report

    @contextmanager
    def board(self, columns: tuple[str, ...] = ()) -> Iterator[Board]:
        from rich.live import Live
        from rich.text import Text

        with Live(Text(""), console=self.console, transient=True, refresh_per_second=8) as live:
            yield _RichBoard(self, live, columns)


def for_terminal() -> Output:
    """Rich when stdout is a terminal, plain lines otherwise (checked without importing Rich)."""
    return RichOutput() if sys.stdout.isatty() else PlainOutput()


@contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Keys reach a remote program as typed (no echo, no line editing; Ctrl-C and Ctrl-D
    are bytes for it), as `kubectl exec -it` sets the terminal; put back after, always."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def terminal_size() -> tuple[int, int]:
    """(columns, rows) of the terminal on stdout."""
    import shutil

    size = shutil.get_terminal_size()
    return size.columns, size.lines
