"""A port-forward to a Service that outlives its pods.

`kubectl port-forward svc/x` resolves the Service to one pod once and dies with it. Here
every accepted connection gets its own port-forward stream (the API server's websocket
protocol, opened with the official client's credentials) to a *currently* ready pod,
chosen round-robin. A pod that goes away only affects the connections it was serving;
the next connection goes to another ready pod, or waits until there is one.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pacdeploy.cluster import Cluster
from pacdeploy.errors import InvalidInput, NotFound, PacdeployError
from pacdeploy.readiness import has_ready_condition

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
CHUNK = 256 * 1024
# A new connection costs a TLS handshake and an upgrade through the API server to the
# kubelet: ~10 ms. A couple of streams opened ahead of time make it free, like kubectl's
# multiplexed SPDY streams. They are recycled before an app would time out an idle socket.
WARM_STREAMS = 2
WARM_MAX_AGE = 10.0
DATA, ERROR = 0, 1  # websocket channels of the first (only) forwarded port


# -- Service resolution (kubectl's rules) -----------------------------------------
@dataclass(frozen=True)
class ServicePort:
    service: str
    port: int
    target: int | str  # container port number, or the name of one


def resolve_service_port(service: dict[str, Any], port: int | str) -> ServicePort:
    """The Service port asked for, by number or name, and what it targets."""
    name = service["metadata"]["name"]
    if not service["spec"].get("selector"):
        raise InvalidInput(
            f"service/{name} has no selector, so it has no pods to forward to",
            "Forward to a Service that selects pods",
        )
    ports = service["spec"].get("ports", [])
    for entry in ports:
        if port in (entry.get("port"), entry.get("name")):
            return ServicePort(name, entry["port"], entry.get("targetPort", entry["port"]))
    offered = (
        ", ".join(str(p.get("port")) + (f" ({p['name']})" if p.get("name") else "") for p in ports)
        or "none"
    )
    raise InvalidInput(
        f"service/{name} has no port {port} (it has {offered})", "Pass --port with one of those"
    )


def container_port(pod: dict[str, Any], target: int | str) -> int | None:
    """A pod's port for a Service targetPort: numbers as they are, names looked up."""
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in pod["spec"].get("containers", []):
        for entry in container.get("ports", []):
            if entry.get("name") == target:
                return entry["containerPort"]
    return None


def is_ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp") or pod.get("status", {}).get("phase") != "Running":
        return False
    return has_ready_condition(pod)


def ready_backends(pods: list[dict[str, Any]], target: int | str) -> list[tuple[str, int]]:
    """(pod, container port) for each ready pod that has the target port, in name order."""
    backends = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        port = container_port(pod, target)
        if is_ready(pod) and port is not None:
            backends.append((pod["metadata"]["name"], port))
    return backends


# -- statistics the status line shows ---------------------------------------------
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


class StreamError(Exception):
    """A port-forward stream to one pod could not be opened or broke."""


@dataclass
class WarmStream:
    pod: str
    ws: Any
    born: float = field(default_factory=time.monotonic)

    def usable(self, ready_pods: set[str]) -> bool:
        """Young, to a pod still ready, and silent: a stream the pod closed has data waiting."""
        if self.pod not in ready_pods or time.monotonic() - self.born > WARM_MAX_AGE:
            return False
        try:
            readable, _, _ = select.select([self.ws.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable and not self.ws.sock.pending()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close(timeout=0.2)


# -- the forwarder ------------------------------------------------------------------
class Forwarder:
    def __init__(
        self,
        cluster: Cluster,
        namespace: str,
        service: str,
        port: int | str,
        address: str,
        local_port: int,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        svc = cluster.get("Service", service, namespace)
        if svc is None:
            raise NotFound(
                f"service/{service} not found in namespace {namespace}",
                f"Run `pacdeploy up -n {namespace}` first, or pass --service",
            )
        self.target = resolve_service_port(svc, port)
        self.selector = ",".join(f"{k}={v}" for k, v in svc["spec"]["selector"].items())
        self.listener = _listen(address, local_port)
        self.address, self.local_port = self.listener.getsockname()[:2]
        self.stats = Stats()
        self.backends: list[tuple[str, int]] = []
        self.bad: dict[str, float] = {}  # pod -> when a stream to it failed
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self._turn = itertools.count()
        self._conns: set[socket.socket] = set()
        self._warm: deque[WarmStream] = deque()
        self._warm_wanted = threading.Event()
        self._warm_lock = threading.Lock()
        self._opening = 0
        self.refresh()

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.local_port}"

    # pods
    def refresh(self) -> None:
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
            healthy = [b for b in self.backends if now - self.bad.get(b[0], -1e9) > 5.0]
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
                self.changed.wait(0.5)
        return None

    def mark_bad(self, pod: str) -> None:
        with self.changed:
            self.bad[pod] = time.monotonic()
        self.stats.add(reconnects=1)
        threading.Thread(target=self._refresh_quietly, daemon=True).start()

    def _refresh_quietly(self) -> None:
        with contextlib.suppress(PacdeployError):
            self.refresh()

    # connections
    def _ready_pods(self) -> set[str]:
        with self.changed:
            return {pod for pod, _ in self.backends}

    def _take_warm(self) -> Any:
        ready = self._ready_pods()
        while True:
            try:
                stream = self._warm.popleft()
            except IndexError:
                return None
            self._warm_wanted.set()
            if stream.usable(ready):
                return stream.ws
            stream.close()

    def _keep_warm(self) -> None:
        """One of WARM_STREAMS threads keeping streams open ahead of need."""
        while not self.stopping.is_set():
            ready = self._ready_pods()
            for stream in list(self._warm):
                if not stream.usable(ready):
                    with contextlib.suppress(ValueError):
                        self._warm.remove(stream)
                    stream.close()
            with self._warm_lock:
                short = len(self._warm) + self._opening < WARM_STREAMS
                backend = self.pick() if short else None
                self._opening += backend is not None
            if backend is None:
                self._warm_wanted.wait(1.0)
                self._warm_wanted.clear()
                continue
            try:
                ws = open_stream(self.cluster, self.namespace, *backend)
                self._warm.append(WarmStream(backend[0], ws))
            except StreamError:
                self.mark_bad(backend[0])
                self.stopping.wait(0.5)
            finally:
                with self._warm_lock:
                    self._opening -= 1

    def serve_forever(self) -> None:
        threading.Thread(target=self._watch_pods, daemon=True, name="pods").start()
        for _ in range(WARM_STREAMS):
            threading.Thread(target=self._keep_warm, daemon=True, name="warm").start()
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    break
                raise
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns.add(client)
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        self.stats.add(open=1)
        try:
            ws = self._open_stream()
            if ws is not None:
                _pump(client, ws, self.stats)
        except OSError:
            pass
        finally:
            self.stats.add(open=-1, served=1)
            self._conns.discard(client)
            with contextlib.suppress(OSError):
                client.close()

    def _open_stream(self) -> Any:
        """A port-forward stream to some ready pod: a warm one, else a new one (retried)."""
        if (warm := self._take_warm()) is not None:
            return warm
        for _attempt in range(5):
            backend = self.wait_for_backend()
            if backend is None:
                return None
            pod, port = backend
            try:
                return open_stream(self.cluster, self.namespace, pod, port)
            except StreamError as exc:
                log.info("stream to %s failed: %s", pod, exc)
                self.mark_bad(pod)
        self.stats.add(failures=1)
        return None

    def stop(self) -> None:
        self.stopping.set()
        self._warm_wanted.set()
        with self.changed:
            self.changed.notify_all()
        while self._warm:
            self._warm.popleft().close()
        with contextlib.suppress(OSError):
            self.listener.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()


def _listen(address: str, port: int) -> socket.socket:
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
    sock.listen(128)
    return sock


# -- one stream ---------------------------------------------------------------------
def open_stream(cluster: Cluster, namespace: str, pod: str, port: int) -> Any:
    """Open the API server's port-forward websocket to ``pod``:``port``; wait for its header."""
    from kubernetes.stream.ws_client import create_websocket, get_websocket_url
    from websocket import WebSocketException

    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward"
    _, url, headers, _, _ = cluster.api.param_serialize(
        method="GET",
        resource_path=path,
        query_params=[("ports", str(port))],
        header_params={},
        auth_settings=["BearerToken"],
    )
    headers = {k.lower(): v for k, v in headers.items()}
    headers["sec-websocket-protocol"] = "v4.channel.k8s.io"
    try:
        ws = create_websocket(cluster.api.configuration, get_websocket_url(url), headers)
        # The server first names the port on the data and the error channel.
        for _ in range(2):
            _, data = ws.recv_data()
            if len(data) != 3:
                raise StreamError(f"unexpected port-forward header {data!r}")
    except (WebSocketException, OSError) as exc:
        raise StreamError(str(exc)) from None
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ws


def _pump(client: socket.socket, ws: Any, stats: Stats) -> None:
    """Copy both ways until either side closes: client->pod here, pod->client in a thread."""
    down = threading.Thread(target=_downstream, args=(ws, client, stats), daemon=True)
    down.start()
    buf = bytearray(CHUNK + 1)  # byte 0 is the channel, so data lands behind it: no copy
    view = memoryview(buf)
    buf[0] = DATA
    try:
        while n := client.recv_into(view[1:]):
            ws.send_binary(view[: n + 1])
            stats.add(bytes_in=n)
    except OSError:
        pass
    finally:
        with contextlib.suppress(Exception):
            ws.close(timeout=0.5)
        down.join(timeout=5)


def _downstream(ws: Any, client: socket.socket, stats: Stats) -> None:
    try:
        while True:
            opcode, data = ws.recv_data()
            if not data:
                if opcode == 8:  # close frame
                    break
                continue
            if data[0] == DATA:
                client.sendall(memoryview(data)[1:])
                stats.add(bytes_out=len(data) - 1)
            elif data[0] == ERROR and len(data) > 1:
                log.info("pod stream error: %s", bytes(data[1:]).decode(errors="replace"))
                break
    except Exception:
        pass
    finally:
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
