"""The output layer: cluster text stays text, plain output is parseable, trees indent,
tables align like kubectl get."""

from __future__ import annotations

import io

from rich.console import Console

from pacdeploy import output
from pacdeploy.output import Outline, Row, aligned


def rich(width=200):
    out = output.RichOutput()
    out.console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    return out


def test_rich_prints_cluster_text_literally():
    out = rich()
    out.info("sed: couldn't open [x] and [bold]no[/bold]")
    assert "couldn't open [x] and [bold]no[/bold]" in out.console.file.getvalue()


def test_rich_board_rows_and_tree_keep_brackets():
    out = rich()
    with out.board(("workload", "progress", "status")) as board:
        board.update([Row(("statefulset/mongo", "0/1 ready", "waiting: [x] failed"), "waiting")])
        board.settle([(False, "statefulset/mongo 0/1 ready failed: [x]")])
    out.tree(Outline("namespace/[a]", [Outline("pod/[b]")]))
    text = out.console.file.getvalue()
    assert "statefulset/mongo 0/1 ready failed: [x]" in text
    assert "namespace/[a]" in text and "pod/[b]" in text


def test_plain_board_prints_a_keyed_row_only_when_it_changes(capsys):
    with output.PlainOutput().board() as board:
        board.update([Row(("a", "1"), key="a"), Row(("stats", "9"))])
        board.update([Row(("a", "1"), key="a"), Row(("stats", "10"))])
        board.update([Row(("a", "2"), key="a")])
        board.settle([(True, "a 2")])
    assert capsys.readouterr().out == "a 1\na 2\n"


def test_plain_tree_and_errors(capsys):
    plain = output.PlainOutput()
    plain.tree(Outline("root", [Outline("child", [Outline("leaf")])]))
    plain.error("it broke [x]")
    captured = capsys.readouterr()
    assert captured.out == "root\n  child\n    leaf\n"
    assert captured.err == "error: it broke [x]\n"


def test_tables_align_like_kubectl_get() -> None:
    assert aligned(("name", "ready"), [("b1", "true"), ("backup-long", "false")]) == [
        "NAME          READY",
        "b1            true",
        "backup-long   false",
    ]
