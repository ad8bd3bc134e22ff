"""The credentials layer: the one place that decides how a connection reaches the API server
and who it says it is. Every REST request (the official client's urllib3 pool is ours) and
every port-forward stream (:meth:`Transport.dial`) goes through it.

- TLS trust: tls.py's context, the same for REST and websockets, and for the connections
  whose handshakes were done before the client loaded (dialing.py).
- Who: a client certificate, a token, a token file re-read every minute and after a 401
  (``transport/token_source.go``: ``NewCachedFileTokenSource``, ``ResetTokenOlderThan``),
  basic auth, or an exec plugin (execplugin.py), whose client certificate, when it rotates,
  replaces every pooled connection (exec.go closes them all on rotation).
- How: directly, or through the proxy client-go would choose (proxy.py).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import urllib3
from urllib3.util.proxy import connection_requires_http_tunnel
from urllib3.util.wait import wait_for_read

from pacdeploy.kube import proxy, tls
from pacdeploy.kube.credentials import cluster_info, impersonation_headers, oidc_id_token
from pacdeploy.kube.dialing import CONNECT_SECONDS, Dialed, socket_options
from pacdeploy.kube.fanout import WIDTH
from pacdeploy.kube.kubeconfig import Endpoint, KubeconfigError, read_file

if TYPE_CHECKING:  # loaded only for a user with an exec plugin (it runs subprocesses)
    from pacdeploy.kube.execplugin import ExecCredential, ExecPlugin

TOKEN_FILE_PERIOD = 60.0  # seconds, client-go's NewCachedFileTokenSource
# Connections kept per host: as many as the official client's own pool (cpu count x 5), and
# never fewer than a parallel round holding another (up's plan: 8 LISTs beside 3 reads) has in
# flight. A connection given back to a full pool is closed, and the next request pays two
# round trips for a new one: up's no-op at 100 ms lost 0.2 s to it on a 2-core machine.
POOL_SIZE = max((os.cpu_count() or 1) * 5, 2 * WIDTH)

log = logging.getLogger(__name__)


class Transport:
    """The connection settings and credentials of one context, kept current."""

    def __init__(
        self,
        endpoint: Endpoint,
        environ: Mapping[str, str] = os.environ,
        *,
        clock: Callable[[], float] = time.monotonic,
        dialed: Dialed | None = None,
    ) -> None:
        """``dialed``: TCP connections to the server opened ahead (dialing.py), for
        :meth:`warm` to start its connections from."""
        self.endpoint = endpoint
        self.host, self.port = endpoint.address
        self.secure = endpoint.secure
        self.proxy = proxy.choose(
            endpoint.server, endpoint.proxy_url, environ, cluster=endpoint.cluster
        )
        self.plugin: ExecPlugin | None = None
        if endpoint.exec:
            from pacdeploy.kube.execplugin import ExecPlugin

            self.plugin = ExecPlugin(endpoint.exec, cluster_info(endpoint, self.proxy))
        self.clock = clock
        self._lock = threading.Lock()
        self._exec: ExecCredential | None = None
        self._file_token: tuple[str, float] | None = None  # (token, read at)
        self._context: tls.Context | None = None
        self._context_pair: tuple[bytes | None, bytes | None] | None = None
        self._pool: urllib3.PoolManager | None = None
        self._dialed = dialed
        self._ahead = 0  # connections being opened ahead that no request has claimed yet
        self._opened = threading.Semaphore(0)  # one release per connection opened ahead
        if endpoint.insecure:  # kubectl says nothing per request either
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)

    # -- who --------------------------------------------------------------------------
    def authorization(self) -> str | None:
        """The Authorization header for the next request (running the plugin if due), in
        client-go's order: a bearer token or basic auth (``HTTPWrappersForConfig``), else
        the exec plugin, else an oidc id-token. None without TLS: the endpoint holds none."""
        endpoint = self.endpoint
        if endpoint.token_file:
            return f"Bearer {self._token_from_file(force=False)}"
        if endpoint.token:
            return f"Bearer {endpoint.token}"
        if endpoint.username:
            pair = f"{endpoint.username}:{endpoint.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        if self.plugin is not None:
            self._use(self.plugin.credential())
            return f"Bearer {self._exec.token}" if self._exec and self._exec.token else None
        if endpoint.oidc is not None:
            return f"Bearer {oidc_id_token(endpoint.oidc, endpoint.user)}"
        return None

    def headers(self) -> list[tuple[str, str]]:
        """Every header that says who the request is from: Authorization, then the
        Impersonate-* headers as ``NewImpersonatingRoundTripper`` adds them (sent without
        TLS too: they are no credential)."""
        found = [("Authorization", auth)] if (auth := self.authorization()) else []
        return found + impersonation_headers(self.endpoint.impersonate)

    def unauthorized(self, sent: str | None) -> bool:
        """A request with ``sent`` got 401: refresh what can be; True if worth one retry."""
        if self.plugin is not None and self._exec is not None:
            rejected = self._exec
            self._use(self.plugin.refresh(rejected))
            return self._exec is not rejected
        if self.endpoint.token_file:
            return f"Bearer {self._token_from_file(force=True)}" != sent
        return False

    def _token_from_file(self, *, force: bool) -> str:
        """The file's token, re-read when due; when it cannot be read, the last one read,
        else the kubeconfig's ``token`` (``bearerAuthRoundTripper``, ``cachingTokenSource``)."""
        now = self.clock()
        with self._lock:
            cached = self._file_token
            if force or cached is None or now - cached[1] >= TOKEN_FILE_PERIOD:
                try:
                    token = read_file(self.endpoint.token_file).decode().strip()
                except KubeconfigError:
                    token = ""
                if token:
                    self._file_token = cached = (token, now)
            if cached is not None:
                return cached[0]
            if self.endpoint.token:
                return self.endpoint.token
            raise KubeconfigError(
                f"tokenFile {self.endpoint.token_file} is missing or empty", "Write a token to it"
            )

    def _use(self, credential: ExecCredential) -> None:
        with self._lock:
            self._exec = credential
            pair = (credential.cert_pem, credential.key_pem) if credential.cert_pem else None
            if self._context is not None and pair != self._context_pair:
                # Connections keep the certificate they were opened with: all new ones.
                self._context = None
                if self._pool is not None:
                    self._pool.clear()
                    self._pool = None

    # -- how --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Everything a first request needs, so a failing plugin or a bad certificate
        fails here, before anything is sent."""
        self.authorization()
        self.pool_manager()

    def ssl_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                cred = self._exec
                pair = (cred.cert_pem, cred.key_pem) if cred and cred.cert_pem else None
                # Without a plugin's certificate: the context the handshakes ahead had.
                ahead = self._dialed.context() if self._dialed and pair is None else None
                self._context = ahead or tls.context_for(self.endpoint, pair)  # type: ignore[arg-type]
                self._context_pair = pair
            return self._context

    def pool_manager(self) -> urllib3.PoolManager:
        """The urllib3 pools every REST request goes through (proxied if need be)."""
        context = self.ssl_context()
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool(context)
            return self._pool

    def _new_pool(self, context: ssl.SSLContext) -> urllib3.PoolManager:
        options: dict[str, Any] = {
            "ssl_context": context,
            "maxsize": POOL_SIZE,
            "socket_options": socket_options(),
            # Requests give their own; this bounds the connections opened ahead.
            "timeout": urllib3.Timeout(connect=CONNECT_SECONDS),
        }
        if self.endpoint.tls_server_name:
            options["server_hostname"] = self.endpoint.tls_server_name
        via = self.proxy
        if via is None:
            manager = urllib3.PoolManager(**options)
            manager.pool_classes_by_scheme = {**manager.pool_classes_by_scheme, "https": _Pool}
            return manager
        if via.scheme == "socks5":
            from urllib3.contrib.socks import SOCKSProxyManager

            return SOCKSProxyManager(
                f"socks5h://{via.url.split('://', 1)[1]}",
                username=via.username,
                password=via.password,
                **options,
            )
        headers = {"Proxy-Authorization": auth} if (auth := via.basic_auth()) else None
        return urllib3.ProxyManager(
            via.url,
            proxy_headers=headers,
            proxy_ssl_context=ssl.create_default_context() if via.scheme == "https" else None,
            **options,
        )

    def dial(self, timeout: float) -> socket.socket:
        """A connected (TLS) socket to the API server, for a websocket upgrade."""
        if self.proxy is None:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        else:
            sock = proxy.tunnel(self.proxy, self.host, self.port, timeout=timeout)
        if not self.secure:
            return sock
        name = tls.server_name(self.endpoint)
        try:
            return self.ssl_context().wrap_socket(sock, server_hostname=name)
        except BaseException:
            with contextlib.suppress(OSError):
                sock.close()
            raise

    def warm(self, connections: int) -> None:
        """Open ``connections`` to the API server in the background, for the parallel
        requests a command is about to make: on a distant cluster each new connection costs
        two round trips (TCP, then TLS) before its first request, and paying them once, all
        at the start, takes them off every later round. Best effort: a connection that
        cannot be opened is simply not there, and requests open their own as before."""
        pool = self.pool_manager().connection_from_url(self.endpoint.server)
        with self._lock:
            self._ahead += connections

        def start_each() -> None:  # one thread started here: the command's goes on loading
            # Every slot first (urllib3's own checkout: its queue holds placeholders), before
            # any is opened: one opened and given back is not to be checked out and opened again.
            for conn in [pool._get_conn() for _ in range(connections)]:
                threading.Thread(
                    target=_open_idle,
                    args=(pool, conn),
                    kwargs={"done": self._opened.release, "dialed": self._dialed},
                    daemon=True,
                    name="warm",
                ).start()

        threading.Thread(target=start_each, daemon=True, name="warm").start()

    def await_connection(self, timeout: float = CONNECT_SECONDS) -> None:
        """Before a request: wait for a connection being opened ahead, if one is left that
        no other request waits for. It started before this request and is ready sooner than
        one the request would open itself (on a distant cluster the connections opened
        while the client loads are still in their handshakes when the first reads leave)."""
        with self._lock:
            if self._ahead == 0:
                return
            self._ahead -= 1
        self._opened.acquire(timeout=timeout)  # one was opened (or failed): go either way


class _Connection(urllib3.connection.HTTPSConnection):
    """urllib3's HTTPS connection, which may start from a connection opened ahead
    (dialing.py): TCP only, TLS then urllib3's as for any other; or its TLS done already,
    with the pool's own context, which hands it back as it is (tls.Context)."""

    opened_ahead: socket.socket | None = None

    def _new_conn(self) -> socket.socket:
        sock, self.opened_ahead = self.opened_ahead, None
        if sock is None:
            return super()._new_conn()
        sock.settimeout(self.timeout)
        return sock

    @property
    def is_connected(self) -> bool:
        """urllib3 takes an idle connection with anything to read for one the server has
        closed. A TLS 1.3 server sends its session tickets a round trip after the
        handshake, so a connection pooled at once may have them to read: read now, it is
        open (not on EOF or data)."""
        if self.sock is None:
            return False
        return not wait_for_read(self.sock, timeout=0.0) or tls.only_records(self.sock)  # type: ignore[arg-type]


class _Pool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _Connection


def _open_idle(pool: Any, conn: Any, *, done: Callable[[], None], dialed: Dialed | None) -> None:
    """Connect ``conn``, checked out of ``pool``, and give it back, idle and clean.

    Through a proxy, whose pools are urllib3's own, the server's session tickets are waited
    for and read first; our pools read them when they next check the connection out
    (``_Connection.is_connected``), and give it to a request at once.
    """
    try:
        if dialed is not None:  # only for a direct https pool, whose connections are ours
            conn.opened_ahead = dialed.take()
        started = time.monotonic()
        if pool.proxy is not None and connection_requires_http_tunnel(
            pool.proxy, pool.proxy_config, pool.scheme
        ):
            pool._prepare_proxy(conn)  # CONNECT first, as urllib3 does before a request
        else:
            conn.connect()
        if not isinstance(conn, _Connection):
            tls.read_tickets(conn.sock, handshake=time.monotonic() - started)
        pool._put_conn(conn)
    except Exception as exc:  # never more than a missed head start
        log.debug("could not open a connection ahead: %s", exc)
        conn.close()
        pool._put_conn(None)  # its slot back, empty
    finally:
        done()
