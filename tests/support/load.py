"""Many short HTTP connections through a forward, each body checked byte for byte.

Every connection ends in one of four ways. *intact*: the expected body. *refused*: closed
or reset before any response byte. *cut*: a correct prefix of the body, then closed (a pod
went away mid-response). *foreign*: any byte that is not the expected one, the failure a
forward must never produce: it means another connection's bytes leaked into this one.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

OUTCOMES = ("intact", "refused", "cut", "foreign")


@dataclass
class Soak:
    outcomes: Counter[str] = field(default_factory=Counter)
    foreign_samples: list[bytes] = field(default_factory=list)  # first bytes of each
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> str:
        counts = ", ".join(f"{self.outcomes[o]} {o}" for o in OUTCOMES)
        return f"{self.total} connections in {self.seconds:.1f}s: {counts}"


def fetch(port: int, path: str, expected: bytes, timeout: float = 60) -> tuple[str, bytes]:
    """One GET on a new connection; (outcome, the first bytes if they were foreign)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        if response.status != 200:
            return "foreign", f"HTTP {response.status}".encode()
        try:
            body = response.read()
        except http.client.IncompleteRead as exc:
            body = exc.partial
    except http.client.RemoteDisconnected:
        return "refused", b""
    except http.client.BadStatusLine as exc:  # bytes arrived, and they were not HTTP
        return "foreign", str(exc.line).encode()[:32]
    except OSError:
        return "refused", b""
    finally:
        conn.close()
    if body == expected:
        return "intact", b""
    if expected.startswith(body):
        return "cut", b""
    return "foreign", body[:32]


def soak(
    port: int,
    path: str,
    expected: bytes,
    total: int,
    concurrency: int,
    into: Soak | None = None,
) -> Soak:
    """``total`` connections from ``concurrency`` clients. Pass ``into`` to watch its
    ``total`` grow from another thread (to disrupt the pods at given points)."""
    result = into or Soak()
    lock = threading.Lock()

    def one(_: int) -> None:
        outcome, sample = fetch(port, path, expected)
        with lock:
            result.outcomes[outcome] += 1
            if sample and len(result.foreign_samples) < 10:
                result.foreign_samples.append(sample)

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(total)))
    result.seconds = time.monotonic() - started
    return result


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for pid {pid}")
