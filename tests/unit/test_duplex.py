"""One TLS socket shared by a reader and a writer thread (kube/duplex.py): one TLS call at a
time, none waiting while it holds the socket, the timeout kept, a close waking a waiter."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from pacdeploy.kube import duplex
from tests.support import apiserver
from tests.support.apiserver import Pki


class FakeTLS:
    """A plain socket answering as a non-blocking SSLSocket does; it counts the calls made
    while another was inside (what OpenSSL forbids), each call held open a moment."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inside = 0
        self.overlaps = 0
        self._count = threading.Lock()

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        with self._count:
            self.inside += 1
            self.overlaps += self.inside > 1
        try:
            time.sleep(0.002)
            yield
        finally:
            with self._count:
                self.inside -= 1

    def recv(self, size: int) -> bytes:
        with self._call():
            try:
                return self.sock.recv(size)
            except BlockingIOError:
                raise ssl.SSLWantReadError from None

    def send(self, data: bytes) -> int:
        with self._call():
            try:
                return self.sock.send(data)
            except BlockingIOError:
                raise ssl.SSLWantWriteError from None

    def gettimeout(self) -> float | None:
        return self.sock.gettimeout()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def fileno(self) -> int:
        return self.sock.fileno()

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def close(self) -> None:
        self.sock.close()


def test_a_reader_and_a_writer_never_call_tls_at_once_and_both_progress():
    ours, peer = socket.socketpair()
    fake = FakeTLS(ours)
    shared = duplex.Duplex(fake)  # type: ignore[arg-type]
    sent = threading.Thread(target=lambda: [shared.send(b"x" * 100) for _ in range(30)])
    sent.start()  # the peer reads only later: the reader waits meanwhile, the writer goes on
    got = bytearray()

    def peer_side() -> None:
        time.sleep(0.05)
        peer.sendall(b"y" * 500)
        while len(got) < 3000:
            got.extend(peer.recv(4096))

    answering = threading.Thread(target=peer_side)
    answering.start()
    read = b""
    while len(read) < 500:
        read += shared.recv(4096)
    sent.join()
    answering.join()
    assert read == b"y" * 500 and bytes(got) == b"x" * 3000
    assert fake.overlaps == 0
    shared.close()
    peer.close()


def test_a_silent_socket_times_out_as_a_blocking_one_does():
    ours, peer = socket.socketpair()
    shared = duplex.Duplex(FakeTLS(ours))  # type: ignore[arg-type]
    shared.settimeout(0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        shared.recv(10)
    assert 0.04 < time.monotonic() - started < 1 and shared.gettimeout() == 0.05
    shared.close()
    peer.close()


def test_close_wakes_a_thread_waiting_to_read():
    ours, peer = socket.socketpair()
    shared = duplex.Duplex(FakeTLS(ours))  # type: ignore[arg-type]
    ended: list[object] = []

    def read() -> None:
        try:
            ended.append(shared.recv(10))
        except OSError as exc:
            ended.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.05)
    shared.close()
    reader.join(timeout=2)
    assert not reader.is_alive()
    assert ended == [b""] or isinstance(ended[0], OSError)  # an end of file, or closed
    peer.close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Pki]]:
    """A TLS 1.3 server (session tickets after the handshake, as the API server's): each
    connection sends 20 small records while it reads all it is sent, then says how much."""
    pki = Pki.make(tmp_path_factory.mktemp("pki"))

    def serve(tls: ssl.SSLSocket) -> None:
        for _ in range(20):
            tls.sendall(b"o" * 100)
        total = 0
        while data := tls.recv(65536):
            total += len(data)
            if total >= 150_000:
                break
        tls.sendall(str(total).encode())

    with apiserver.tls_server(pki, serve) as port:
        yield port, pki


def _feed(shared: duplex.Duplex) -> None:
    for _ in range(50):
        shared.send(b"i" * 3000)


def test_a_real_tls_socket_stays_whole_under_a_reader_and_a_writer(tls_server):
    port, pki = tls_server
    context = ssl.create_default_context(cafile=str(pki.crt("ca-a")))
    for _ in range(30):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        shared = duplex.guard(context.wrap_socket(raw, server_hostname="127.0.0.1"))
        assert isinstance(shared, duplex.Duplex)
        writer = threading.Thread(target=_feed, args=(shared,))
        writer.start()  # at once, as an exec's stdin: the tickets are still unread
        shared.settimeout(10)
        read = b""
        while len(read) < 2000 + len("150000"):
            read += shared.recv(65536)
        writer.join()
        assert read == b"o" * 2000 + b"150000"
        shared.close()
