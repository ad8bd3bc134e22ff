"""What `pacdeploy forward` shows while it serves, its notices, and its clean exit on Ctrl-C."""

from __future__ import annotations

import queue
import signal
import threading
import time
from types import FrameType

from pacdeploy.forward.server import Forwarder
from pacdeploy.output import Output, Row

REFRESH = 0.25  # seconds between status updates


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def pods_line(forwarder: Forwarder) -> str:
    names = [pod for pod, _ in forwarder.backends]
    if not names:
        return f"waiting for a ready {forwarder.service} pod"
    return "serving from " + ", ".join(names)


def stats_line(forwarder: Forwarder) -> str:
    s = forwarder.stats
    return (
        f"connections {s.open} open, {s.served} served  "
        f"in {size(s.bytes_in)} out {size(s.bytes_out)}  reconnects {s.reconnects}"
        + (f"  failed {s.failures}" if s.failures else "")
        + "  (Ctrl-C to stop)"
    )


def _rows(forwarder: Forwarder) -> list[Row]:
    waiting = not forwarder.backends
    return [
        Row((pods_line(forwarder),), "waiting" if waiting else "ok", key="pods"),
        Row((stats_line(forwarder),), "dim"),
    ]


def _show_notices(forwarder: Forwarder, out: Output) -> None:
    """Lines such as a pod refusing a connection: one each, on stderr, like kubectl's."""
    while True:
        try:
            out.warning(forwarder.notices.get_nowait())
        except queue.Empty:
            return


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # `kill` stops the forward as cleanly as Ctrl-C


def run(forwarder: Forwarder, out: Output) -> None:
    """Serve until Ctrl-C or SIGTERM; then close every socket and return (exit 0)."""
    assert forwarder.target is not None, "open() first"
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    server = threading.Thread(target=forwarder.serve_forever, daemon=True, name="accept")
    server.start()
    out.info(f"Forwarding from {forwarder.url} -> svc/{forwarder.service}:{forwarder.target.port}")
    try:
        with out.board() as board:
            while server.is_alive():
                _show_notices(forwarder, out)
                board.update(_rows(forwarder))
                time.sleep(REFRESH)
    except KeyboardInterrupt:
        pass
    finally:
        forwarder.stop()
        server.join(timeout=2)
        _show_notices(forwarder, out)
    s = forwarder.stats
    out.info(f"stopped: {s.served} connections served, {size(s.bytes_out)} sent to clients")
