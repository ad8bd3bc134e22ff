"""The local end of `pacdeploy forward`: a stream per accepted connection, to a ready pod.

`kubectl port-forward svc/x` resolves the Service to one pod once and dies with it. Here
every accepted connection gets its own streams to a *currently* ready pod, chosen
round-robin, on that pod's tunnel. A pod that goes away only affects the connections it was
serving; the next connection goes to another ready pod, or waits until there is one.

Each accepted client socket is owned by the thread that handles it, which alone closes it.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import queue
import socket
import threading
import time

from pacdeploy.errors import InvalidInput, NotFound, PacdeployError
from pacdeploy.forward.service import ServicePort, ready_backends, resolve_service_port
from pacdeploy.forward.stream import Stats, Stream, StreamError, TunnelClosed
from pacdeploy.forward.tunnel import open_tunnel
from pacdeploy.forward.tunnels import Tunnels
from pacdeploy.forward.workers import Workers
from pacdeploy.kube.client import Cluster

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0  # how often the ready pods are listed again
QUARANTINE_SECONDS = 5.0  # a pod whose stream just failed is skipped this long
OPEN_ATTEMPTS = 5  # pods tried for one connection before it is given up
RETRY_PAUSE = 0.5  # before a tunnel that could not open is tried again ahead of need
NO_BACKEND_POLL = 0.5  # how often a connection waiting for a ready pod looks again
ACCEPT_POLL = 0.2  # how quickly the accept loop notices stop()
LISTEN_BACKLOG = 128


class Forwarder:
    """Configure with ``__init__`` (no I/O), then :meth:`open`, then :meth:`serve_forever`."""

    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        service: str,
        *,
        port: int | str,
        address: str,
        local_port: int,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.service = service
        self.port = port
        self.address = address
        self.local_port = local_port
        self.target: ServicePort | None = None
        self.selector = ""
        self.listener: socket.socket | None = None
        self.stats = Stats()
        self.notices: queue.SimpleQueue[str] = queue.SimpleQueue()  # lines for the user
        self.backends: list[tuple[str, int]] = []
        self.bad: dict[str, float] = {}  # pod -> when a stream to it failed
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.workers = Workers(name="connection")
        self.tunnels = Tunnels(
            lambda pod: open_tunnel(
                cluster, namespace, pod, notify=self.notices.put, spawn=self.workers.run
            )
        )
        self._turn = itertools.count()
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        self._reported: set[str] = set()

    def open(self) -> Forwarder:
        """Resolve the Service, bind the local port and list the pods; errors are one line."""
        svc = self.cluster.get("Service", self.service, self.namespace)
        if svc is None:
            raise NotFound(
                f"service/{self.service} not found in namespace {self.namespace}",
                f"Run `pacdeploy up -n {self.namespace}` first, or pass --service",
            )
        self.target = resolve_service_port(svc, self.port)
        self.selector = ",".join(f"{k}={v}" for k, v in svc["spec"]["selector"].items())
        self.listener = listen(self.address, self.local_port)
        self.address, self.local_port = self.listener.getsockname()[:2]
        self.refresh()
        return self

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.local_port}"

    # -- pods -------------------------------------------------------------------
    def refresh(self) -> None:
        assert self.target is not None, "open() first"
        pods = self.cluster.list("Pod", self.namespace, label_selector=self.selector)
        backends = ready_backends(pods, self.target.target)
        with self.changed:
            if backends != self.backends:
                self.backends = backends
                self.changed.notify_all()

    def _watch_pods(self) -> None:
        while not self.stopping.wait(REFRESH_SECONDS):
            try:
                self.refresh()
            except PacdeployError as exc:  # keep serving through an API server blip
                log.warning("could not refresh pods: %s", exc)

    def pick(self) -> tuple[str, int] | None:
        """Next ready pod, round-robin; pods that just failed are skipped for a while."""
        with self.changed:
            now = time.monotonic()
            healthy = [
                b for b in self.backends if now - self.bad.get(b[0], -1e9) > QUARANTINE_SECONDS
            ]
            choices = healthy or self.backends
            if not choices:
                return None
            return choices[next(self._turn) % len(choices)]

    def wait_for_backend(self) -> tuple[str, int] | None:
        with self.changed:
            while not self.stopping.is_set():
                backend = self.pick()
                if backend is not None:
                    return backend
                self.changed.wait(NO_BACKEND_POLL)
        return None

    def report(self, pod: str, exc: StreamError) -> None:
        """Say once why streams fail (kubectl's "error forwarding port"), not per attempt."""
        log.info("stream to %s failed: %s", pod, exc)
        reason = str(exc)
        with self.changed:
            if reason in self._reported:
                return
            self._reported.add(reason)
        self.notices.put(f"error forwarding port {self.port} (pod {pod}): {reason}")

    def mark_bad(self, pod: str) -> None:
        with self.changed:
            self.bad[pod] = time.monotonic()
        self.stats.add(reconnects=1)
        threading.Thread(target=self._refresh_quietly, daemon=True).start()

    def _refresh_quietly(self) -> None:
        with contextlib.suppress(PacdeployError):
            self.refresh()

    def _ready_pods(self) -> set[str]:
        with self.changed:
            return {pod for pod, _ in self.backends}

    # -- streams ----------------------------------------------------------------
    def _keep_warm(self) -> None:
        """Keep a tunnel open to every ready pod, before a connection needs one."""
        while not self.stopping.is_set():
            ready = self._ready_pods()
            self.tunnels.keep(ready)
            for pod in self.tunnels.missing(ready):
                try:
                    self.tunnels.get(pod)
                except TunnelClosed:
                    return  # the forward is stopping
                except StreamError as exc:
                    self.report(pod, exc)
                    self.mark_bad(pod)
                    self.stopping.wait(RETRY_PAUSE)
            with self.changed:
                self.changed.wait(REFRESH_SECONDS)

    def _open_stream(self, client: socket.socket) -> Stream | None:
        """Streams to some ready pod for ``client``, retried on other pods."""
        for _attempt in range(OPEN_ATTEMPTS):
            backend = self.wait_for_backend()
            if backend is None:
                return None
            pod, port = backend
            try:
                return self.tunnels.get(pod).open(port, client, self.stats)
            except TunnelClosed:
                continue  # it ended just now; the next try opens a new one
            except StreamError as exc:
                self.report(pod, exc)
                self.mark_bad(pod)
        self.stats.add(failures=1)
        return None

    # -- connections --------------------------------------------------------------
    def serve_forever(self) -> None:
        listener = self.listener
        assert listener is not None, "open() first"
        threading.Thread(target=self._watch_pods, daemon=True, name="pods").start()
        threading.Thread(target=self._keep_warm, daemon=True, name="tunnels").start()
        listener.settimeout(ACCEPT_POLL)
        try:
            while not self.stopping.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    if self.stopping.is_set():
                        break
                    raise
                client.settimeout(None)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._clients_lock:
                    self._clients.add(client)
                self.workers.run(self._handle, client)
        finally:
            listener.close()  # this thread alone used it

    def _handle(self, client: socket.socket) -> None:
        """Serve one client connection; the only place that closes its socket."""
        self.stats.add(open=1)
        try:
            stream = self._open_stream(client)
            if stream is not None:
                stream.pump()
        finally:
            self.stats.add(open=-1, served=1)
            with self._clients_lock:
                self._clients.discard(client)
            with contextlib.suppress(OSError):
                client.close()

    def stop(self) -> None:
        """Wake every thread; each closes what it owns."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        self.tunnels.close()
        with self._clients_lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


def listen(address: str, port: int) -> socket.socket:
    """Bind like kubectl: one clear error for a busy, privileged or unknown address/port."""
    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(
            f"address {address!r} is not a valid IP address or host name",
            "Pass --address 127.0.0.1 (default), ::1 or 0.0.0.0",
        ) from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidInput(
                f"port {port} on {address} is already in use",
                "Choose another port, or 0 for any free one",
            ) from None
        if exc.errno == errno.EACCES:
            raise InvalidInput(
                f"binding port {port} needs privileges", "Use a port from 1024 up (e.g. 9090)"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise InvalidInput(
                f"address {address} does not belong to this machine",
                "Pass --address 127.0.0.1 or an address of this host",
            ) from None
        raise InvalidInput(f"cannot listen on {address}:{port}: {exc.strerror}") from None
    sock.listen(LISTEN_BACKLOG)
    return sock
