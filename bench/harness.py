"""What both benchmarks share: the sandbox, the peer kubectl, and honest statistics."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pacdeploy.kube.client import Cluster, connect
from pacdeploy.sandbox import lifecycle, paths

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the benches share tests/support with the test suite
RESULTS = Path(__file__).with_name("results")

from tests.support import cli  # noqa: E402 - needs ROOT on sys.path


def sandbox() -> Cluster:
    """The sandbox, started if needed; KUBECONFIG gets its context."""
    lifecycle.up()
    return connect(None, lifecycle.CONTEXT)


def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(paths.bin_dir() / "kubectl"), "--context", lifecycle.CONTEXT, *args],
        capture_output=True,
        text=True,
        check=check,
    )


def pacdeploy(*args: str) -> subprocess.CompletedProcess[str]:
    result = cli.run("--context", lifecycle.CONTEXT, *args)
    result.check_returncode()
    return result


def start_forward(cmd: list[str], pattern: str) -> tuple[subprocess.Popen[str], int]:
    """Start a port-forward process; the local port it prints (first line, ``pattern``)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(pattern, line)
    assert match, line
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
    return proc, int(match.group(1))


def timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": {"cpus": os.cpu_count()}, **data}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2))


def table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
