"""A small real proxy on loopback, as a corporate network has: HTTP CONNECT with optional
Basic auth (407 without it), or SOCKS5 with optional username/password (RFC 1928, 1929); or
a plain TCP relay to one address, as a load balancer in front of an API server is.

It records what it was asked, so a test can tell that a client went through it, with the
right credentials, and never sent anything but CONNECT to an HTTP proxy. It serves only
while its ``with`` block runs and only loopback addresses.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class Seen:
    tunnels: list[str] = field(default_factory=list)  # "host:port" of each tunnel opened
    refused: int = 0  # asked with missing or wrong credentials
    not_connect: int = 0  # anything but a CONNECT request line (e.g. raw TLS)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **changes: object) -> None:
        with self.lock:
            for key, value in changes.items():
                if key == "tunnel":
                    self.tunnels.append(str(value))
                else:
                    setattr(self, key, getattr(self, key) + value)


class Proxy:
    def __init__(
        self,
        kind: str = "http",
        username: str | None = None,
        password: str = "",
        *,
        upstream: tuple[str, int] | None = None,
    ):
        assert kind in ("http", "socks5", "tcp") and (kind == "tcp") == (upstream is not None)
        self.kind, self.username, self.password = kind, username, password
        self.upstream = upstream
        self.seen = Seen()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def url(self, with_credentials: bool = True, password: str | None = None) -> str:
        auth = ""
        if self.username is not None and with_credentials:
            auth = f"{self.username}:{self.password if password is None else password}@"
        return f"{self.kind}://{auth}127.0.0.1:{self.port}"

    def __enter__(self) -> Proxy:
        self._listener.settimeout(0.2)
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(10)
            handler = {"http": self._http, "socks5": self._socks, "tcp": self._relay}[self.kind]
            threading.Thread(target=self._serve, args=(handler, client), daemon=True).start()

    def _serve(self, handler, client: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError), client:
            upstream = handler(client)
            if upstream is not None:
                with upstream:
                    self._pipe(client, upstream)

    # -- HTTP CONNECT ---------------------------------------------------------------
    def _http(self, client: socket.socket) -> socket.socket | None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk or len(head) > 65536:
                self.seen.add(not_connect=1)
                return None
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        method, target, _ = [*lines[0].split(" "), "", ""][:3]
        if method != "CONNECT":
            self.seen.add(not_connect=1)
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if self.username is not None:
            pair = f"{self.username}:{self.password}".encode()
            if headers.get("proxy-authorization") != "Basic " + base64.b64encode(pair).decode():
                self.seen.add(refused=1)
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n'
                )
                return None
        host, _, port = target.rpartition(":")
        upstream = self._connect(host.strip("[]"), int(port))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.seen.add(tunnel=target)
        return upstream

    # -- SOCKS5 -------------------------------------------------------------------------
    def _recv(self, sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ValueError("closed")
            data += chunk
        return data

    def _socks(self, client: socket.socket) -> socket.socket | None:
        version, count = self._recv(client, 2)
        methods = self._recv(client, count)
        wanted = 2 if self.username is not None else 0
        if version != 5 or wanted not in methods:
            client.sendall(b"\x05\xff")
            self.seen.add(refused=1)
            return None
        client.sendall(bytes([5, wanted]))
        if wanted == 2:
            _, ulen = self._recv(client, 2)
            user = self._recv(client, ulen).decode()
            (plen,) = self._recv(client, 1)
            password = self._recv(client, plen).decode()
            ok = (user, password) == (self.username, self.password)
            client.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                self.seen.add(refused=1)
                return None
        _, command, _, address_type = self._recv(client, 4)
        if address_type == 1:
            host = socket.inet_ntoa(self._recv(client, 4))
        elif address_type == 3:
            (length,) = self._recv(client, 1)
            host = self._recv(client, length).decode()
        else:
            raise ValueError("address type")
        (port,) = struct.unpack("!H", self._recv(client, 2))
        if command != 1:
            raise ValueError("only CONNECT")
        upstream = self._connect(host, port)
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
        self.seen.add(tunnel=f"{host}:{port}")
        return upstream

    # -- a TCP relay ----------------------------------------------------------------------
    def _relay(self, client: socket.socket) -> socket.socket:
        assert self.upstream is not None
        host, port = self.upstream
        upstream = self._connect(host, port)
        self.seen.add(tunnel=f"{host}:{port}")  # one per TCP connection relayed
        return upstream

    # -- all ----------------------------------------------------------------------------
    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        address = socket.gethostbyname(host)
        if not address.startswith("127."):
            raise ValueError(f"{host} is not on this machine: the test proxy goes nowhere else")
        return socket.create_connection((address, port), timeout=10)

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        a.settimeout(None)
        b.settimeout(None)

        def copy(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        other = threading.Thread(target=copy, args=(b, a), daemon=True)
        other.start()
        copy(a, b)
        other.join()
