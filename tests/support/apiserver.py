"""Stand-in API servers on loopback that record who called them, and the certificates for them.

Each server answers any path (a SelfSubjectReview to a POST, a Pod to a GET, 403 to a
stream's upgrade) and records per request: which server, the path, Authorization, every
Impersonate-* header, the client certificate's CN and the SNI the client sent. The PKI is
made with openssl once: two server CAs, one client CA, server certificates for 127.0.0.1 and
one only for the name ``api.internal``, client certificates ``alice`` and ``bob``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SERVER_NAME = "api.internal"  # the name the "named" server's certificate is for, only
# Names no resolver knows: reachable only through a proxy that maps them to 127.0.0.1.
PROXIED, PROXIED_SUB = "example.test", "api.example.test"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _key_and_request(folder: Path, name: str, cn: str) -> tuple[Path, Path]:
    key, csr = folder / f"{name}.key", folder / f"{name}.csr"
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-subj", f"/CN={cn}", "-out", str(csr),
    )  # fmt: skip
    return key, csr


@dataclass(frozen=True)
class Pki:
    folder: Path

    def crt(self, name: str) -> Path:
        return self.folder / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.folder / f"{name}.key"

    @classmethod
    def make(cls, folder: Path) -> Pki:
        folder.mkdir(parents=True, exist_ok=True)
        for ca in ("ca-a", "ca-b", "client-ca"):
            _openssl(
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", str(folder / f"{ca}.key"), "-out", str(folder / f"{ca}.crt"),
                "-subj", f"/CN={ca}", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
            )  # fmt: skip
        leaves = {
            "tls": (
                "ca-a",
                f"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:{PROXIED},DNS:{PROXIED_SUB}",
            ),
            "other": ("ca-b", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            "named": ("ca-a", f"subjectAltName=DNS:{SERVER_NAME}"),
            "alice": ("client-ca", "extendedKeyUsage=clientAuth"),
            "bob": ("client-ca", "extendedKeyUsage=clientAuth"),
        }
        for name, (ca, extension) in leaves.items():
            _, csr = _key_and_request(folder, name, name)
            (folder / f"{name}.ext").write_text(extension + "\n")
            _openssl(
                "x509", "-req", "-in", str(csr), "-CA", str(folder / f"{ca}.crt"),
                "-CAkey", str(folder / f"{ca}.key"), "-CAcreateserial", "-days", "2",
                "-out", str(folder / f"{name}.crt"), "-extfile", str(folder / f"{name}.ext"),
            )  # fmt: skip
        _openssl(
            "x509",
            "-in",
            str(folder / "ca-a.crt"),
            "-outform",
            "DER",
            "-out",
            str(folder / "ca-a.der"),
        )
        return cls(folder)


@dataclass
class Request:
    server: str
    method: str
    path: str
    authorization: str | None
    impersonate: tuple[tuple[str, str], ...]
    client_cn: str | None
    sni: str | None


@dataclass
class Log:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def take(self) -> list[Request]:
        with self.lock:
            taken, self.requests[:] = list(self.requests), []
            return taken


REVIEW = {
    "apiVersion": "authentication.k8s.io/v1",
    "kind": "SelfSubjectReview",
    "status": {"userInfo": {"username": "stand-in"}},
}
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "default"},
    "spec": {"containers": [{"name": "c", "image": "x"}]},
    "status": {"phase": "Running"},
}
DISCOVERY = {
    "/version": {"major": "1", "minor": "36", "gitVersion": "v1.36.3"},
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {
                "name": "pods",
                "singularName": "pod",
                "namespaced": True,
                "kind": "Pod",
                "verbs": ["get", "list"],
            },
            {
                "name": "pods/exec",
                "singularName": "",
                "namespaced": True,
                "kind": "PodExecOptions",
                "verbs": ["create", "get"],
            },
        ],
    },
}
FORBIDDEN = {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 403}
NOT_FOUND = {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 404}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:
        """Quiet: the log is the record."""

    def _record(self) -> None:
        sock = self.connection
        cn = None
        if isinstance(sock, ssl.SSLSocket) and (peer := sock.getpeercert()):
            cn = next(
                (v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), None
            )
        impersonate = tuple(
            sorted(
                (k.lower(), v)
                for k, v in self.headers.items()
                if k.lower().startswith("impersonate-")
            )
        )
        self.server.log.add(
            Request(
                server=self.server.name,
                method=self.command,
                path=self.path.split("?", 1)[0],
                authorization=self.headers.get("Authorization"),
                impersonate=impersonate,
                client_cn=cn,
                sni=getattr(sock, "sni", None),
            )
        )

    def _answer(self) -> None:
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        upgrade = self.headers.get("Upgrade") or self.path.split("?")[0].endswith("/exec")
        if upgrade:
            status, body = 403, FORBIDDEN
        elif self.command == "POST":
            status, body = 201, REVIEW
        elif "/pods/" in self.path:
            status, body = 200, POD
        elif (path := self.path.split("?")[0]) in DISCOVERY or path.endswith(tuple(DISCOVERY)):
            status, body = 200, next(v for k, v in DISCOVERY.items() if path.endswith(k))
        else:
            status, body = 404, NOT_FOUND
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if upgrade:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, context: ssl.SSLContext | None, log: Log) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name, self.context, self.log = name, context, log

    def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if self.context is not None:
            request.settimeout(10)
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return  # a client that did not trust us: it says so itself
        with contextlib.suppress(OSError):
            super().finish_request(request, client_address)


def _record_sni(sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
    sock.sni = name  # type: ignore[attr-defined]


def server_context(pki: Pki, leaf: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.crt(leaf), pki.key(leaf))
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(pki.crt("client-ca"))
    context.sni_callback = _record_sni
    return context


@contextlib.contextmanager
def tls_server(pki: Pki, serve: Callable[[ssl.SSLSocket], None]) -> Iterator[int]:
    """A plain TLS 1.3 server on loopback (the "tls" certificate, two session tickets after
    each handshake, as the API server sends), each connection given to ``serve`` in a
    thread of its own; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.crt("tls"), pki.key("tls"))
    listener = socket.create_server(("127.0.0.1", 0))

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as sock:
            serve(sock)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=handle, args=(listener.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


class StubServer:
    """One stand-in API server, serving while its ``with`` block runs."""

    def __init__(self, name: str, log: Log, context: ssl.SSLContext | None = None) -> None:
        self._server = _Server(name, context, log)
        self.port = self._server.server_address[1]
        self.scheme = "https" if context else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
