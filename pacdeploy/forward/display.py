"""The live status of `pacdeploy forward`, its notices, and its clean exit on Ctrl-C."""

from __future__ import annotations

import queue
import threading
import time

from rich.live import Live
from rich.text import Text

from pacdeploy import ui
from pacdeploy.forward.server import Forwarder

REFRESH = 0.25  # seconds between status updates


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _pods(forwarder: Forwarder) -> str:
    names = [pod for pod, _ in forwarder.backends]
    if not names:
        return f"waiting for a ready {forwarder.service} pod"
    return "serving from " + ", ".join(names)


def _show_notices(forwarder: Forwarder) -> None:
    """Lines such as a pod refusing a connection: one each, on stderr, like kubectl's."""
    while True:
        try:
            ui.warning(forwarder.notices.get_nowait())
        except queue.Empty:
            return


def _line(forwarder: Forwarder) -> Text:
    s = forwarder.stats
    waiting = not forwarder.backends
    text = Text()
    text.append(f"{forwarder.url}", style="bold cyan")
    text.append(f" -> svc/{forwarder.service}:{_service_port(forwarder)}  ")
    text.append(_pods(forwarder), style="yellow" if waiting else "green")
    text.append(
        f"\nconnections {s.open} open, {s.served} served  "
        f"in {_size(s.bytes_in)} out {_size(s.bytes_out)}  reconnects {s.reconnects}"
        + (f"  failed {s.failures}" if s.failures else "")
        + "  (Ctrl-C to stop)",
        style="dim",
    )
    return text


def _service_port(forwarder: Forwarder) -> int | str:
    return forwarder.target.port if forwarder.target else forwarder.port


def run(forwarder: Forwarder) -> None:
    """Serve until Ctrl-C; then close every socket and return (exit 0)."""
    server = threading.Thread(target=forwarder.serve_forever, daemon=True, name="accept")
    server.start()
    try:
        if ui.interactive():
            with Live(_line(forwarder), console=ui.console, refresh_per_second=4) as live:
                while server.is_alive():
                    _show_notices(forwarder)
                    live.update(_line(forwarder))
                    time.sleep(REFRESH)
        else:
            ui.info(
                f"Forwarding from {forwarder.url} -> svc/{forwarder.service}:"
                f"{_service_port(forwarder)}"
            )
            shown = None
            while server.is_alive():
                _show_notices(forwarder)
                if (current := _pods(forwarder)) != shown:
                    ui.info(current)
                    shown = current
                time.sleep(REFRESH)
    except KeyboardInterrupt:
        pass
    finally:
        forwarder.stop()
        server.join(timeout=2)
        _show_notices(forwarder)
    s = forwarder.stats
    ui.info(f"stopped: {s.served} connections served, {_size(s.bytes_out)} sent to clients")
