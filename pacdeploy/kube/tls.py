"""The TLS client context of one context's connections, as client-go's ``TLSConfigFor``
builds it (``transport/transport.go``): the kubeconfig's CA alone, else the system store
(which honours SSL_CERT_FILE and SSL_CERT_DIR as Go's does on Linux); TLS 1.2 at least;
ServerName from tls-server-name; no CA together with insecure-skip-tls-verify; the client
certificate.

Free of urllib3, so that the connections a command opens before its modules load
(dialing.py) do their handshakes then, with the very context the transport's requests use.
"""

from __future__ import annotations

import logging
import os
import select
import selectors
import socket
import ssl
import tempfile
from typing import Any

from pacdeploy.kube.kubeconfig import Endpoint, KubeconfigError, read_file

TICKET_WAIT = 0.05  # seconds, at least, for a new connection's TLS session tickets
# What urllib3 offers in each handshake (its ALPN_PROTOCOLS): a handshake done ahead offers
# the same, so the server speaks the same protocol on every connection.
ALPN = ["http/1.1"]

log = logging.getLogger(__name__)


class Context(ssl.SSLContext):
    """A client context whose connections may have had their TLS done ahead (dialing.py).

    urllib3 wraps every socket it connects; one already wrapped by this very context (its
    handshake done, the server checked by these same rules) is handed back as it is.
    """

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        if isinstance(sock, ssl.SSLSocket) and sock.context is self:
            return sock
        return super().wrap_socket(sock, *args, **kwargs)


def context_for(endpoint: Endpoint, cert: tuple[bytes, bytes] | None = None) -> Context:
    """The TLS context for ``endpoint``; ``cert``: an exec plugin's (certificate, key)."""
    context = Context(ssl.PROTOCOL_TLS_CLIENT)  # as ssl.create_default_context's, checks on
    try:
        if endpoint.ca_data:  # PEM only (transport.go rootCertPool: AppendCertsFromPEM)
            context.load_verify_locations(cadata=endpoint.ca_data.decode(errors="replace"))
        elif endpoint.ca_file:
            context.load_verify_locations(cafile=endpoint.ca_file)
        else:
            context.load_default_certs()
    except (ssl.SSLError, ValueError, OSError, TypeError) as exc:  # TypeError: not ASCII
        raise KubeconfigError(
            f"the certificate authority of cluster {endpoint.cluster!r} cannot be loaded: {exc}",
            "Fix certificate-authority(-data) in the kubeconfig",
        ) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(ALPN)
    if endpoint.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        _load_pair(context, cert[0], cert[1], what="the exec plugin's client certificate")
    elif endpoint.cert_data or endpoint.cert_file:
        cert_pem = endpoint.cert_data or read_file(endpoint.cert_file)
        key_pem = endpoint.key_data or read_file(endpoint.key_file)
        _load_pair(context, cert_pem, key_pem, what=f"the client certificate of {endpoint.user!r}")
    return context


def server_name(endpoint: Endpoint) -> str:
    """The name the server's certificate is checked against, and sent as SNI."""
    return endpoint.tls_server_name or endpoint.address[0]


def _load_pair(context: ssl.SSLContext, cert: bytes, key: bytes, *, what: str) -> None:
    # ssl loads a key pair from files only: a private directory, gone once loaded.
    with tempfile.TemporaryDirectory(prefix="pacdeploy-") as folder:
        cert_path, key_path = os.path.join(folder, "cert"), os.path.join(folder, "key")
        for path, data in ((cert_path, cert), (key_path, key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        try:
            context.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, ValueError) as exc:
            raise KubeconfigError(f"{what} cannot be loaded: {exc}", "Fix or renew it") from exc


class Handshakes:
    """TLS handshakes with one context, a non-blocking step at a time, for one thread that
    waits on many connections at once (dialing.py)."""

    def __init__(self, context: Context, endpoint: Endpoint) -> None:
        self.context = context
        self.name = server_name(endpoint)

    def start(self, sock: socket.socket) -> ssl.SSLSocket:
        sock.setblocking(False)
        return self.context.wrap_socket(
            sock, server_hostname=self.name, do_handshake_on_connect=False
        )

    @staticmethod
    def step(sock: ssl.SSLSocket) -> int | None:
        """The next step of ``sock``'s handshake: None once it is done (``sock`` blocking
        again), else the selector events it waits for; 0 if it failed (``sock`` closed)."""
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            return selectors.EVENT_READ
        except ssl.SSLWantWriteError:
            return selectors.EVENT_WRITE
        except OSError as exc:  # the transport opens its own, and says why it fails
            log.debug("no TLS ahead on a connection: %s", exc)
            sock.close()
            return 0
        sock.setblocking(True)
        return None


def read_tickets(sock: ssl.SSLSocket, handshake: float) -> None:
    """Wait for what a TLS 1.3 server sends just after the handshake, its session tickets,
    and read them: about one round trip after the handshake, as long as it took."""
    if select.select([sock], [], [], max(TICKET_WAIT, 2 * handshake))[0] and not only_records(sock):
        raise OSError("unexpected data on an idle connection")


def only_records(sock: ssl.SSLSocket) -> bool:
    """Whether all a readable idle connection had to read was TLS records for OpenSSL alone
    (session tickets), now read; not on EOF, an error or application data, which no idle
    connection to the API server ever has."""
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        sock.recv(1)
    except ssl.SSLWantReadError:
        return True  # only post-handshake records were there: read, and gone
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)
    return False  # EOF, or a byte nobody asked for
