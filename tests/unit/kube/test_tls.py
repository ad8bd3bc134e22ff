"""TLS: PEM CAs only; connections opened ahead that did their handshakes with the context
the transport then uses, handed back to it as they are; an idle connection whose only
unread bytes are the server's session tickets is still open."""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from pacdeploy.kube import dialing, tls
from pacdeploy.kube.kubeconfig import Endpoint, KubeconfigError
from tests.support import apiserver
from tests.support.apiserver import Pki


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Pki]]:
    """A TLS 1.3 server: a connection stays open until the client closes it or sends
    "close"."""
    pki = Pki.make(tmp_path_factory.mktemp("pki"))

    def serve(sock: ssl.SSLSocket) -> None:
        while (data := sock.recv(100)) and data != b"close":
            pass

    with apiserver.tls_server(pki, serve) as port:
        yield port, pki


def _endpoint(port: int, **given: object) -> Endpoint:
    return Endpoint(context="c", server=f"https://127.0.0.1:{port}", **given)  # type: ignore[arg-type]


def test_a_der_ca_is_refused_pem_only():
    with pytest.raises(KubeconfigError, match="cannot be loaded"):
        tls.context_for(Endpoint(context="c", server="https://a", ca_data=b"\x30\x82\x01"))


def test_connections_opened_ahead_are_handed_over_with_their_tls_done(server):
    port, pki = server
    endpoint = _endpoint(port, ca_file=str(pki.crt("ca-a")))
    dialed = dialing.Dialed(endpoint.address, 2, tls=endpoint)
    context = dialed.context()
    assert context is not None
    for sock in (dialed.take(), dialed.take()):
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.version() == "TLSv1.3"  # the handshake is over
        assert sock.gettimeout() is None  # blocking again, for urllib3 to set its own
        assert context.wrap_socket(sock, server_hostname="127.0.0.1") is sock  # as it is
        sock.close()
    with socket.create_connection(("127.0.0.1", port)) as plain:
        wrapped = context.wrap_socket(plain, server_hostname="127.0.0.1")  # any other: TLS
        assert wrapped.version() == "TLSv1.3"
        wrapped.close()


def test_a_server_the_ca_does_not_vouch_for_leaves_nothing_to_take(server):
    port, pki = server
    endpoint = _endpoint(port, ca_file=str(pki.crt("ca-b")))
    dialed = dialing.Dialed(endpoint.address, 1, tls=endpoint)
    assert dialed.take() is None  # the transport opens its own, and says why it fails


def test_a_ca_that_cannot_be_loaded_leaves_the_tls_to_the_transport(server):
    port, _ = server
    endpoint = _endpoint(port, ca_data=b"\x30\x82\x01")
    dialed = dialing.Dialed(endpoint.address, 1, tls=endpoint)
    sock = dialed.take()
    assert dialed.context() is None
    assert sock is not None
    assert not isinstance(sock, ssl.SSLSocket)  # TCP only, as without TLS ahead
    sock.close()


def test_an_idle_connection_with_only_tickets_to_read_is_open_and_a_closed_one_is_not(server):
    port, pki = server
    context = tls.context_for(_endpoint(port, ca_file=str(pki.crt("ca-a"))))
    with socket.create_connection(("127.0.0.1", port)) as raw:
        sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        assert select.select([sock], [], [], 5)[0]  # the tickets have come
        assert tls.only_records(sock)
        sock.sendall(b"close")
        deadline = time.monotonic() + 5
        while select.select([sock], [], [], 1)[0] and tls.only_records(sock):
            assert time.monotonic() < deadline  # a ticket that came late, read: then the close
        assert not tls.only_records(sock)  # closed: still so when asked again
