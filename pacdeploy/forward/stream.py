"""One client connection carried by a tunnel: its pair of SPDY streams and the byte pump.

Ownership is the whole point of this module. A file descriptor must never be closed while
another thread may still use it: the kernel hands the number to the next socket accepted,
and a thread still inside a call on the old number then writes into a stranger's
connection. The client socket belongs to the thread that accepted it (server.py), which
closes it; the tunnel's reader, or a writer thread for a slow client, writes the pod's
bytes into it. So before the owner may close it, :meth:`Stream.pump` wakes any writer with
``shutdown()`` (which ends blocking calls without freeing the descriptor), *detaches* the
stream under the lock the reader writes under, and waits until the writer has left. After
that, nothing but the owner touches the socket.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pacdeploy.forward import spdy

CHUNK = 256 * 1024
# After the client hangs up, how long the pod's side may take to end its side too before
# the stream is reset under it (kubectl resets at once; a moment lets a reply finish).
CLOSE_GRACE = 0.5
BACKLOG = 32 * 1024 * 1024  # bytes queued for one slow client before its tunnel waits

Notify = Callable[[str], None]
Spawn = Callable[..., None]  # runs fn(*args) on another thread (workers.Workers.run)


class Carrier(Protocol):
    """What a stream needs of the tunnel that carries it (tunnel.py's Tunnel is one): said
    here, so this module imports nothing from tunnel.py, which is built on it."""

    def send(self, frames: bytes | memoryview) -> None: ...

    def finish(self, stream: Stream) -> None: ...


class StreamError(Exception):
    """A port-forward stream to one pod could not be opened."""


class TunnelClosed(StreamError):
    """The tunnel ended between being chosen and carrying the stream: try a fresh one."""


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

    def sent(self, count: int) -> None:
        """``add(bytes_out=count)``, for every piece of the pod's bytes: kept cheap."""
        with self.lock:
            self.bytes_out += count


def shutdown(sock: Any) -> None:
    """Wake every thread blocked on ``sock``; the descriptor stays open and its owner's."""
    with contextlib.suppress(OSError, AttributeError):
        sock.shutdown(socket.SHUT_RDWR)


class Stream:
    """The ``data`` and ``error`` streams of one connection to ``port`` of a tunnel's pod.

    The tunnel's reader calls :meth:`replied`, :meth:`deliver`, :meth:`error_text`,
    :meth:`ended` and :meth:`error_ended`; the connection's own thread calls
    :meth:`wait_reply` and :meth:`pump`.

    The reader writes into the client without blocking. What a slow client does not take
    at once is queued and written by a thread of its own (``spawn``), so one client that
    stops reading holds up only itself, until BACKLOG bytes wait for it: then its tunnel
    waits too, as every connection of kubectl's does behind one slow reader.
    """

    def __init__(
        self,
        tunnel: Carrier,
        data_id: int,
        port: int,
        *,
        client: socket.socket,
        stats: Stats,
        spawn: Spawn,
    ) -> None:
        self.tunnel = tunnel
        self.data_id = data_id
        self.error_id = data_id - 2  # client-go opens the error stream first
        self.port = port
        self.client = client
        self.stats = stats
        self.failure = ""  # why it never opened, set before the reply event
        self._spawn = spawn
        self._reply = threading.Event()  # both streams accepted, or a failure
        self._unanswered = 2
        self._done = threading.Event()  # the pod's side has ended
        self._error_over = threading.Event()  # the kubelet has ended the error stream
        self._error = bytearray()
        # Guards what follows. Whoever writes into the client holds it or is the writer.
        self._cond = threading.Condition()
        self._backlog: deque[bytes] = deque()
        self._queued = 0
        self._writing = False  # a writer thread owns the backlog
        self._closing = False  # the pod is done: shut the client once the backlog is out
        self._detached = False  # the owner is about to close the client: hands off

    # -- the tunnel's reader ------------------------------------------------------
    def replied(self) -> None:
        """One of the two streams was accepted. Data waits for both: the kubelet's SPDY
        library blocks a frame worker on data for a stream nobody reads yet, and a pair
        still missing its other stream could then wait on a blocked worker for good."""
        self._unanswered -= 1
        if self._unanswered == 0:
            self._reply.set()

    def opened(self) -> bool:
        return self._reply.is_set() and not self.failure

    def deliver(self, data: bytes | memoryview) -> None:
        """The pod's bytes, into the client; a client gone or detached just drops them."""
        with self._cond:
            if self._detached:
                return
            if not self._writing:
                try:
                    sent = self.client.send(data, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    shutdown(self.client)
                    return
                self.stats.sent(sent)
                if sent == len(data):
                    return
                data = data[sent:]
                self._writing = True
                self._spawn(self._write)
            while self._queued > BACKLOG and not self._detached:
                self._cond.wait()
            self._backlog.append(bytes(data))
            self._queued += len(data)
            self._cond.notify_all()

    def error_text(self, data: bytes | memoryview) -> None:
        self._error += data

    def ended(self, failure: str = "") -> None:
        """The pod's side is over (its FIN, a reset, or the tunnel gone). Before the reply
        that is a failure to open, and the client stays untouched for another try."""
        if not self._reply.is_set():
            if failure:  # reset before it opened: it never will
                self.failure = failure
                self._reply.set()
            # Else the pod's side closed before the other reply came (KWOK's, when it
            # cannot reach the pod's port): the connection opens, and ends at once.
            self._done.set()
            return
        self._done.set()
        if self._error_over.is_set():
            self._end_client()

    def error_ended(self) -> None:
        """The kubelet ended the error stream, having said on it what went wrong, if
        anything. Like kubectl, the client sees its connection end only after that, so
        the reason is shown before anyone acts on the closed connection."""
        self._error_over.set()
        if self._done.is_set() and self.opened():
            self._end_client()

    def _end_client(self) -> None:
        with self._cond:
            if self._writing:
                self._closing = True  # the writer ends the client once it has it all
            elif not self._detached:
                shutdown(self.client)  # wakes the pump's read: this connection is over

    def take_error(self) -> str:
        """What the kubelet wrote on the error stream (a refused pod port), once."""
        text = bytes(self._error).decode(errors="replace").strip()
        self._error.clear()
        return text

    # -- a writer thread, while the client is slower than the pod ---------------------
    def _write(self) -> None:
        while True:
            with self._cond:
                if self._detached or not self._backlog:
                    if self._closing and not self._detached:
                        shutdown(self.client)
                    self._backlog.clear()
                    self._queued = 0
                    self._writing = False
                    self._cond.notify_all()
                    return
                chunk = self._backlog.popleft()
                self._queued -= len(chunk)
                self._cond.notify_all()
            try:
                self.client.sendall(chunk)  # blocks on this client alone
            except OSError:
                with self._cond:
                    self._detached = self._closing = True  # nothing more reaches it
                shutdown(self.client)
                continue
            self.stats.sent(len(chunk))

    # -- the connection's own thread ---------------------------------------------
    def wait_reply(self, timeout: float) -> bool:
        """Whether the kubelet answered in time, accepting (``failure`` empty) or not."""
        return self._reply.wait(timeout)

    def pump(self) -> None:
        """Copy client -> pod until the client hangs up or the pod's side ends; the
        reader copies pod -> client meanwhile. Returns with the stream reset and detached,
        the client socket shut down but left to its owner."""
        buf = bytearray(spdy.HEADER + CHUNK)
        view = memoryview(buf)
        try:
            while not self._done.is_set() and (n := self.client.recv_into(view[spdy.HEADER :])):
                spdy.data_header(buf, self.data_id, n)
                self.tunnel.send(view[: spdy.HEADER + n])
                self.stats.add(bytes_in=n)
            # The client hung up: say so, and give the pod's side a moment to agree.
            self.tunnel.send(spdy.data(self.data_id, fin=True))
            if self._done.wait(CLOSE_GRACE):
                self._error_over.wait(CLOSE_GRACE)
                with self._cond:  # the pod is done: let the client have all it sent
                    while self._writing:
                        self._cond.wait()
        except (OSError, StreamError):  # a broken client or tunnel ends just this connection
            pass
        finally:
            shutdown(self.client)  # wakes a writer blocked on it
            with self._cond:
                self._detached = True
                self._cond.notify_all()
                while self._writing:
                    self._cond.wait()
            self.tunnel.finish(self)


def describe(exc: BaseException) -> str:
    """One line for why a tunnel could not open (kubectl: "error upgrading connection")."""
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
