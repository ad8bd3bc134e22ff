"""One port-forward websocket to one pod port, and the pump that copies bytes both ways.

Ownership is the whole point of this module. A file descriptor must never be closed while
another thread may still use it: the kernel hands the number to the next socket accepted,
and an OpenSSL object still holding the old number then writes TLS records into a stranger's
connection. So a stream and its client socket are closed by exactly one party, the thread
running :meth:`PodStream.pump`, after both directions have stopped; the other direction is
woken with ``shutdown()``, which ends blocking calls without freeing the descriptor.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pacdeploy.errors import PacdeployError
from pacdeploy.kube.client import Cluster

CHUNK = 256 * 1024
DATA, ERROR = 0, 1  # websocket channels of the first (only) forwarded port
OPCODE_CLOSE = 8
# After the client hangs up, how long the pod's side may take to acknowledge our close
# frame before the socket is shut down under it.
CLOSE_GRACE = 0.5

Notify = Callable[[str], None]
Spawn = Callable[..., None]  # runs fn(*args) on another thread (workers.Workers.run)


class StreamError(Exception):
    """A port-forward stream to one pod could not be opened."""


@dataclass
class Stats:
    open: int = 0
    served: int = 0
    bytes_in: int = 0  # client -> pod
    bytes_out: int = 0  # pod -> client
    reconnects: int = 0  # streams retried on another pod
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **deltas: int) -> None:
        with self.lock:
            for key, value in deltas.items():
                setattr(self, key, getattr(self, key) + value)


def _shutdown(sock: Any) -> None:
    """Wake every thread blocked on ``sock``; the descriptor stays open and ours."""
    with contextlib.suppress(OSError, AttributeError):
        sock.shutdown(socket.SHUT_RDWR)


class PodStream:
    """An open port-forward to ``pod``:``port``. Whoever holds it owns it and closes it."""

    def __init__(self, ws: Any, pod: str, port: int) -> None:
        self.ws = ws
        self.pod = pod
        self.port = port
        self.born = time.monotonic()

    def idle(self) -> bool:
        """Nothing to read: a stream the pod or the API server closed has data waiting."""
        sock = self.ws.sock
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable and not sock.pending()

    def close(self) -> None:
        """Free the descriptor. Only the owner calls this, once nothing else uses it."""
        with contextlib.suppress(Exception):
            self.ws.shutdown()

    def pump(self, client: socket.socket, stats: Stats, notify: Notify, spawn: Spawn) -> None:
        """Copy client -> pod here and pod -> client on a thread from ``spawn``, until
        either side ends.

        Returns once both directions have stopped and the stream is closed. The client
        socket is left to its owner (shut down, not closed).
        """
        down = threading.Event()  # set when pod -> client has stopped
        spawn(self._downstream, client, stats, notify, down)
        buf = bytearray(CHUNK + 1)  # byte 0 is the channel, so data lands behind it: no copy
        view = memoryview(buf)
        buf[0] = DATA
        try:
            while n := client.recv_into(view[1:]):
                self.ws.send_binary(view[: n + 1])
                stats.add(bytes_in=n)
            # The client hung up: close politely and give the pod's side a moment to agree.
            self.ws.send_close()
            down.wait(CLOSE_GRACE)
        except Exception:  # a broken stream or client ends just this connection
            pass
        finally:
            _shutdown(self.ws.sock)
            _shutdown(client)
            down.wait()
            self.close()

    def _downstream(
        self, client: socket.socket, stats: Stats, notify: Notify, done: threading.Event
    ) -> None:
        try:
            while True:
                opcode, data = self.ws.recv_data()
                if opcode == OPCODE_CLOSE:
                    break
                if not data:
                    continue
                if data[0] == DATA:
                    client.sendall(memoryview(data)[1:])
                    stats.add(bytes_out=len(data) - 1)
                elif data[0] == ERROR and len(data) > 1:
                    message = bytes(data[1:]).decode(errors="replace").strip()
                    notify(f"error forwarding to pod {self.pod} port {self.port}: {message}")
                    break
        except Exception:  # the stream ended; the pump owns the cleanup
            pass
        finally:
            _shutdown(client)  # wakes the upstream read: this connection is over
            done.set()


def open_stream(cluster: Cluster, namespace: str, pod: str, port: int) -> PodStream:
    """Open the API server's port-forward websocket to ``pod``:``port``; wait for its header."""
    from websocket import WebSocketException

    from pacdeploy.kube.resources import resource

    path = resource("Pod").path(pod, namespace, "portforward")
    ws = None
    try:
        ws = cluster.open_websocket(path, {"ports": str(port)}, "v4.channel.k8s.io")
        # The server first names the port on the data and the error channel.
        for _ in range(2):
            _, data = ws.recv_data()
            if len(data) != 3:
                raise StreamError(f"unexpected port-forward header {data!r}")
        ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (WebSocketException, OSError, StreamError, PacdeployError) as exc:
        if ws is not None:
            ws.shutdown()  # never handed out: this thread is its only user
        raise StreamError(describe(exc)) from None
    return PodStream(ws, pod, port)


def describe(exc: BaseException) -> str:
    """One line for why a stream could not open (kubectl: "error upgrading connection")."""
    from websocket import WebSocketBadStatusException

    if isinstance(exc, WebSocketBadStatusException):
        status = exc.status_code
        if status == 401:
            return "the API server rejected the credentials (401 Unauthorized)"
        if status == 403:
            return "forbidden (403): the user may not create pods/portforward"
        return f"the API server refused the upgrade ({status})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: {exc.verify_message or exc}: the API server's certificate is not trusted"
    return str(exc) or type(exc).__name__
