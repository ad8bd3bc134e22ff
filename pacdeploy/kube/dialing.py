"""How pacdeploy dials the API server: the socket options client-go dials with, and the
connections a command opens the moment its input is checked.

A command spends its first tenth of a second or more of CPU loading its modules, urllib3 and
the official client's REST layer (more on a small machine). Its connections need none of
that: only the kubeconfig's endpoint. :func:`start` opens them then, from one thread of
their own, TCP and then TLS with the context the transport will use (tls.py), so that their
handshakes are over by the time the first requests leave: one round trip fewer on a distant
cluster, and on a near one the handshakes' CPU beside the imports rather than after them.
When the user's exec plugin may give a client certificate (not known before it runs), only
TCP is done here and the transport starts TLS on those sockets (`Transport.warm`); and only
on a direct connection (through a proxy, the transport dials the proxy itself).
"""

from __future__ import annotations

import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, cast

from pacdeploy.kube import kubeconfig, proxy
from pacdeploy.kube.kubeconfig import Endpoint, KubeconfigError

if TYPE_CHECKING:  # loaded in the dialing thread, and only when it does TLS
    import ssl

    from pacdeploy.kube.tls import Context, Handshakes

CONNECT_SECONDS = 5.0  # to open a connection (TCP, proxy, TLS), every request's too
TCP = "tcp"  # a connection in its TCP handshake (one in its TLS handshake: its Handshakes)

log = logging.getLogger(__name__)


def socket_options() -> list[tuple[int, int, int]]:
    """No Nagle (urllib3's default) and TCP keepalive as client-go dials: 30 s idle
    (``transport/cache.go``), Go's 15 s probe interval and 9 probes (``net/tcpsock.go``).

    The same options as the official client's ``tcp_keepalive_socket_options``, written here
    because connections open before that client is imported.
    """
    options = [
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    ]
    idle = getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None))  # macOS
    probes = (getattr(socket, "TCP_KEEPINTVL", None), 15), (getattr(socket, "TCP_KEEPCNT", None), 9)
    for option, value in ((idle, 30), *probes):
        if option is not None:
            options.append((socket.IPPROTO_TCP, option, value))
    return options


class Dialed:
    """Connections to one server, all opened by one thread (non-blocking connects and TLS
    handshakes waited on together): the command's own thread only starts it, and every
    thread it starts is one more wait for the GIL at its busiest. Handed out in the order
    they are ready; one that fails is simply not there.

    ``tls``: the endpoint whose TLS context (tls.py) the connections do their handshakes
    with, here; None for TCP only (an exec plugin's client certificate is not known yet).
    """

    def __init__(
        self, address: tuple[str, int], count: int, *, tls: Endpoint | None = None
    ) -> None:
        self.address = address
        self._opened: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._left = count
        self._lock = threading.Lock()
        self._context: Context | None = None
        self._context_known = threading.Event()
        if tls is None:
            self._context_known.set()
        threading.Thread(target=self._dial, args=(count, tls), daemon=True, name="dial").start()

    def context(self) -> Context | None:
        """The TLS context the handshakes were done with (None: TCP only, or it could not
        be built, and the transport says why when it builds its own)."""
        self._context_known.wait(CONNECT_SECONDS)
        return self._context

    def _dial(self, count: int, tls: Endpoint | None) -> None:
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                *self.address, type=socket.SOCK_STREAM
            )[0]
        except OSError as exc:  # the transport resolves (and says why) on its own
            log.debug("could not resolve %s ahead: %s", self.address[0], exc)
            self._context_known.set()
            for _ in range(count):
                self._opened.put(None)
            return
        deadline = time.monotonic() + CONNECT_SECONDS
        with selectors.DefaultSelector() as waiting:
            for _ in range(count):
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
                sock.connect_ex(address)  # under way: writable once connected (or failed)
                waiting.register(sock, selectors.EVENT_WRITE, TCP)
            handshakes = None if tls is None else self._handshakes(tls)
            while waiting.get_map() and (left := deadline - time.monotonic()) > 0:
                for key, _ in waiting.select(left):
                    waiting.unregister(key.fileobj)
                    self._advance(waiting, key, handshakes)
            for key in list(waiting.get_map().values()):  # not open in time
                key.fileobj.close()  # type: ignore[union-attr]
                self._opened.put(None)

    def _handshakes(self, endpoint: Endpoint) -> Handshakes | None:
        """The TLS context, built while the TCP handshakes are under way (ssl loads in this
        thread, not in the command's)."""
        from pacdeploy.kube import tls

        try:
            self._context = tls.context_for(endpoint)
        except KubeconfigError as exc:
            log.debug("no TLS ahead: %s", exc)
        self._context_known.set()
        return None if self._context is None else tls.Handshakes(self._context, endpoint)

    def _advance(
        self, waiting: selectors.BaseSelector, key: selectors.SelectorKey, tls: Handshakes | None
    ) -> None:
        """The next step of a connection its selector woke up for, or the connection out."""
        if key.data == TCP:  # its connect ended
            opened = _connected(cast(socket.socket, key.fileobj))
            if opened is None or tls is None:
                self._opened.put(opened)
                return
            sock = tls.start(opened)
        else:
            sock, tls = cast("ssl.SSLSocket", key.fileobj), key.data  # in its TLS handshake
        wanted = tls.step(sock)
        if wanted is None:
            self._opened.put(sock)
        elif wanted:
            waiting.register(sock, wanted, tls)
        else:
            self._opened.put(None)

    def take(self) -> socket.socket | None:
        """The next connection, once it is open; None if none is left or it failed."""
        with self._lock:
            if self._left == 0:
                return None
            self._left -= 1
        try:
            return self._opened.get(timeout=CONNECT_SECONDS)
        except queue.Empty:
            return None


def _connected(sock: socket.socket) -> socket.socket | None:
    """``sock``, blocking again with client-go's options, if its connect succeeded."""
    if error := sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
        log.debug("could not open a connection ahead: %s", os.strerror(error))
        sock.close()
        return None
    sock.setblocking(True)
    for level, option, value in socket_options():
        sock.setsockopt(level, option, value)
    return sock


class Ahead(NamedTuple):
    """What a command started before its modules loaded: the kubeconfig's endpoint, how
    many connections its first round wants, and those being opened (None: through a proxy,
    or a server without TLS, where the transport opens its own)."""

    endpoint: Endpoint
    connections: int
    dialed: Dialed | None = None


def start(
    kubeconfig_file: str | None,
    context: str | None,
    connections: int,
    *,
    environ: Mapping[str, str] = os.environ,
) -> Ahead:
    """Load the endpoint kubectl would reach with these flags and start ``connections`` to
    it. A kubeconfig kubectl would refuse fails here, as `client.connect` would a moment later."""
    endpoint = kubeconfig.load(kubeconfig_file, context)
    route = proxy.choose(endpoint.server, endpoint.proxy_url, environ, cluster=endpoint.cluster)
    if route is not None or not endpoint.secure:
        return Ahead(endpoint, connections)
    log.debug("opening %d connections ahead to %s", connections, endpoint.server)
    tls = None if endpoint.exec else endpoint  # a plugin's certificate is not known yet
    return Ahead(endpoint, connections, Dialed(endpoint.address, connections, tls=tls))
