"""One TLS socket read and written by two threads at once: a websocket's reader and the
thread feeding it (an exec's stdin, a port-forward's connections, a terminal's keys).

OpenSSL allows one thread at a time in an SSL object (its threads(7) page: "an SSL object
must not be used concurrently by multiple threads"), and CPython's ssl module releases the
GIL around SSL_read and SSL_write without a lock of its own (Modules/_ssl.c,
PySSL_BEGIN_ALLOW_THREADS). Read and written from two threads at once, a socket here
(CPython 3.11, OpenSSL 3.0) sent records the API server refused ("tls: received record with
version fe21"), read an end of file that never came, and crashed the interpreter; an exec
then lost its outcome and its output (its stream "closed before the command's outcome").

``Duplex`` puts one lock around each TLS call and never waits while holding it: the socket
is non-blocking, a call that would block gives the lock back and waits for the socket to be
ready, then tries again with the same data (what OpenSSL asks of a retried SSL_write).
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
CLOSE_SECONDS = 1.0  # the most a close waits for the threads it woke to leave the socket


class Duplex:
    """A socket-like front for ``sock``: what websocket-client and the port-forward tunnel
    call (recv, recv_into, send, the timeout, shutdown, close), one TLS call at a time."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._waits = threading.Condition()  # the threads waiting on the socket, counted
        self._waiting = 0
        self._closing = False
        self._timeout = sock.gettimeout()
        sock.setblocking(False)

    # -- the TLS calls, one at a time -----------------------------------------------------
    def recv(self, size: int) -> bytes:
        return self._one_at_a_time(lambda: self._sock.recv(size))

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int | None = None) -> int:
        return self._one_at_a_time(lambda: self._sock.recv_into(buffer, nbytes))

    def send(self, data: bytes) -> int:
        return self._one_at_a_time(lambda: self._sock.send(data))

    def close(self) -> None:
        """Wakes the threads waiting on the socket first (their next call fails), then
        closes it once none waits and none is inside OpenSSL. Closing a descriptor wakes
        no thread polling it (the kernel's poll keeps the file alive): it would wait forever."""
        with self._waits:
            self._closing = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with self._waits:
            self._waits.wait_for(lambda: self._waiting == 0, timeout=CLOSE_SECONDS)
        with self._lock:
            self._sock.close()

    def _one_at_a_time(self, call: Callable[[], T]) -> T:
        """``call`` under the lock, waiting (without it) while the socket is not ready;
        TimeoutError after the socket's timeout, as a blocking socket's call raises it."""
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            with self._lock:
                try:
                    return call()
                except ssl.SSLWantReadError:
                    ready = select.POLLIN
                except ssl.SSLWantWriteError:
                    ready = select.POLLOUT
            self._wait(ready, deadline)

    def _wait(self, events: int, deadline: float | None) -> None:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("timed out")
        with self._waits:
            if self._closing:
                raise OSError(errno.EBADF, "the socket is closed")
            self._waiting += 1
        try:
            # poll(), not a selector: a selector makes and closes an epoll descriptor on
            # every wait (four system calls and its bookkeeping), and a port-forward's
            # reader waits before nearly every record: ~0.03 ms more per request (paired
            # runs against bench/forward_vs_kubectl.py's path). A poll object makes no
            # system call of its own; its timeout is in milliseconds.
            poller = select.poll()
            poller.register(self._sock, events)
            if not poller.poll(None if left is None else left * 1000) and deadline is not None:
                raise TimeoutError("timed out")
        finally:
            with self._waits:
                self._waiting -= 1
                if self._closing:  # only a close waits for the count
                    self._waits.notify_all()

    # -- the rest, as the socket has it ----------------------------------------------------
    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout  # the socket itself stays non-blocking

    def shutdown(self, how: int) -> None:
        """Without the lock: it wakes a thread waiting on the socket."""
        self._sock.shutdown(how)

    def fileno(self) -> int:
        return self._sock.fileno()

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self._sock.setsockopt(level, option, value)

    @property
    def _closed(self) -> bool:  # websocket-client's shutdown asks before closing
        return bool(getattr(self._sock, "_closed", False))


def guard(sock: socket.socket) -> socket.socket | Duplex:
    """``sock`` made safe for a reader and a writer thread: TLS sockets need it."""
    return Duplex(sock) if isinstance(sock, ssl.SSLSocket) else sock
