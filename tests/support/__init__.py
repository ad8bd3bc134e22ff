"""Helpers shared by the unit tests, the integration tests and the benchmarks."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any


def eventually(check: Callable[[], Any], timeout: float = 60, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; its docstring says what failed."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {check.__doc__ or check}")
        time.sleep(interval)
    return result


def one_line(stderr: str) -> str:
    """The single error line a failing command must print, without a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def class_versions(cluster: Any) -> dict[str, str]:
    """StorageClass name -> resourceVersion: equal before and after means none was touched."""
    return {
        sc["metadata"]["name"]: sc["metadata"]["resourceVersion"]
        for sc in cluster.list("StorageClass")
    }


def free_port() -> int:
    """A local TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
