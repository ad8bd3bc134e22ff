"""One websocket to one pod carrying a SPDY session: every connection to that pod rides it.

This is how kubectl forwards (1.31+, ``PortForwardWebsockets``): one upgrade through the
API server, then a pair of streams per connection (client-go
``tools/portforward/portforward.go`` ``handleConnection``). A new connection therefore
costs two frames and one round trip, not a TLS handshake and an upgrade (~10 ms here).
Unlike kubectl, both streams are opened in one message and only the data stream's reply is
awaited, so the round trip is paid once, not twice.

The websocket belongs to the tunnel's reader thread, which alone closes it: senders
(each connection's pump) write under :attr:`Tunnel._send_lock`, and the reader takes that
lock before it closes, so no thread is ever inside a call on a freed descriptor.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from typing import Any

from pacdeploy.errors import PacdeployError
from pacdeploy.forward import spdy, wsframes
from pacdeploy.forward.stream import (
    Notify,
    Spawn,
    Stats,
    Stream,
    StreamError,
    TunnelClosed,
    describe,
    shutdown,
)
from pacdeploy.kube.client import Cluster

log = logging.getLogger(__name__)

# client-go's constants.WebsocketsSPDYTunnelingPrefix + portforward.PortForwardProtocolV1Name
PROTOCOL = "SPDY/3.1+portforward.k8s.io"
READ_CHUNK = 256 * 1024
REPLY_SECONDS = 5.0  # for the kubelet to accept a stream; a tunnel that does not is dropped
PING_SECONDS = 10.0  # client-go's PingPeriod: keeps idle proxies and load balancers open
LAST_ID = spdy.MAX_STREAM_ID - 4  # ids are never reused: past this, a new tunnel


class Tunnel:
    """A SPDY session to ``pod``. :meth:`open` starts a connection's streams on it."""

    def __init__(self, ws: Any, pod: str, notify: Notify, *, spawn: Spawn) -> None:
        self.ws = ws
        self.pod = pod
        self.notify = notify
        self.spawn = spawn
        self.closed = False  # the reader has stopped; nothing more goes in or out
        self._draining = False  # no new streams (retired, GOAWAY, ids used up)
        self._streams: dict[int, Stream] = {}  # by data and by error stream id
        self._ids = itertools.count(1, 4)  # error stream id; its data stream is id + 2
        self._requests = itertools.count()
        self._lock = threading.Lock()  # the stream table and the flags
        self._send_lock = threading.Lock()  # frame order on the wire, and the socket's life
        self._encoder = spdy.Encoder()
        self.last_sent = time.monotonic()
        threading.Thread(target=self._read, daemon=True, name=f"tunnel-{pod}").start()

    # -- for the forwarder ----------------------------------------------------------
    def usable(self) -> bool:
        with self._lock:
            return not (self.closed or self._draining)

    def open(self, port: int, client: socket.socket, stats: Stats) -> Stream:
        """Streams for one connection to ``port``, accepted by the kubelet (StreamError if
        not). The pod's bytes flow into ``client`` from here on."""
        with self._send_lock:
            with self._lock:
                error_id = next(self._ids)
                if self.closed or self._draining or error_id > LAST_ID:
                    self._draining = True
                    raise TunnelClosed("the tunnel is closing")
                stream = Stream(
                    self, error_id + 2, port, client=client, stats=stats, spawn=self.spawn
                )
                self._streams[stream.error_id] = self._streams[stream.data_id] = stream
            request = str(next(self._requests))
            headers = {"streamtype": "error", "port": str(port), "requestid": request}
            error = self._encoder.syn_stream(stream.error_id, headers)
            data = self._encoder.syn_stream(stream.data_id, {**headers, "streamtype": "data"})
            try:
                # The error stream is the kubelet's to write; ours ends at once, as kubectl's.
                self._send_locked(error + spdy.data(stream.error_id, fin=True) + data)
            except StreamError:
                self._forget(stream)
                raise
        if not stream.wait_reply(REPLY_SECONDS):
            # The kubelet's frame workers block on data nobody reads (say, bytes that
            # reached a pod's connection just as the pod closed it), and then every stream
            # of theirs waits. A tunnel that stops answering is replaced, not waited on.
            self._forget(stream)
            self.close()
            raise StreamError(f"no reply from the kubelet within {REPLY_SECONDS:.0f} s")
        if stream.failure:
            self.finish(stream)
            raise StreamError(stream.failure)
        return stream

    def _forget(self, stream: Stream) -> None:
        with self._lock:
            self._streams.pop(stream.error_id, None)
            self._streams.pop(stream.data_id, None)

    def finish(self, stream: Stream) -> None:
        """A connection is over: reset its data stream, as kubectl does, so the kubelet
        lets go of the pod's connection at once. Its error stream stays until the kubelet
        ends it: what went wrong may still come on it (kubectl reads it to the end too)."""
        with self._lock:
            self._streams.pop(stream.data_id, None)
        with contextlib.suppress(StreamError):
            self.send(spdy.rst_stream(stream.data_id))
        self._close_if_retired_and_idle()

    def _close_if_retired_and_idle(self) -> None:
        with self._lock:
            idle = self._draining and not self._streams
        if idle:
            self.close()

    def send(self, frames: bytes | memoryview) -> None:
        with self._send_lock:
            self._send_locked(frames)

    def ping_if_idle(self) -> None:
        if time.monotonic() - self.last_sent >= PING_SECONDS:
            with contextlib.suppress(StreamError):
                self.send(spdy.ping(1))  # odd: a client's id; the reply needs no answer

    def retire(self) -> None:
        """Take no new streams; close once the ones it carries are done."""
        with self._lock:
            self._draining = True
            idle = not self._streams
        if idle:
            self.close()

    def close(self) -> None:
        """Wake the reader, which closes everything."""
        with self._lock:
            self._draining = True
        shutdown(self.ws.sock)

    # -- the wire ---------------------------------------------------------------------
    def _send_locked(self, frames: bytes | memoryview) -> None:
        if self.closed:
            raise TunnelClosed("the tunnel is closed")
        try:
            self.ws.send_binary(frames)
        except Exception as exc:  # the socket, TLS or websocket layer: the tunnel is gone
            shutdown(self.ws.sock)
            raise TunnelClosed(describe(exc)) from None
        self.last_sent = time.monotonic()

    def _read(self) -> None:
        buffer = bytearray(READ_CHUNK)
        view = memoryview(buffer)
        messages, decoder = wsframes.Frames(), spdy.Decoder()
        reason = "the API server closed the port-forward connection"
        try:
            # The frames handed on are views of ``buffer``: each is written to its client
            # or copied before the next read overwrites it.
            while n := self.ws.sock.recv_into(buffer):
                for opcode, payload in messages.feed(view[:n]):
                    if opcode in wsframes.DATA:
                        for frame in decoder.feed(payload):
                            self._dispatch(frame)
                    elif opcode == wsframes.PING:
                        with self._send_lock:
                            self.ws.pong(payload)
                    elif opcode == wsframes.CLOSE:
                        return
        except Exception as exc:  # whatever ended the tunnel is its reason
            if not self._draining:
                reason = describe(exc)
                log.info("tunnel to %s ended: %s", self.pod, reason)
        finally:
            self._end(reason)

    def _dispatch(self, frame: spdy.Frame) -> None:
        if frame.kind == spdy.PING:
            if spdy.ping_id(frame) % 2 == 0:  # the server's: echo it back
                self.send(spdy.ping(spdy.ping_id(frame)))
            return
        if frame.kind == spdy.GOAWAY:
            with self._lock:
                self._draining = True
            return
        with self._lock:
            stream = self._streams.get(frame.stream_id)
        if stream is None:
            return  # a stream already finished, or SETTINGS and the like
        on_data = frame.stream_id == stream.data_id
        if frame.kind == 0:
            if on_data and frame.payload:
                stream.deliver(frame.payload)
            elif frame.payload:
                stream.error_text(frame.payload)
        elif frame.kind == spdy.SYN_REPLY:
            stream.replied()
        # The kubelet ends the data stream when the pod's connection is over, and writes on
        # the error stream why, if it could not reach the pod's port, before ending that
        # too (cri-streaming portforward/httpstream.go; KWOK closes the data stream first).
        if not (frame.fin or frame.kind == spdy.RST_STREAM):
            return
        if message := stream.take_error():
            self.notify(f"error forwarding to pod {self.pod} port {stream.port}: {message}")
        reset = f"the kubelet reset the stream ({spdy.reset_status(frame)})"
        if on_data:
            stream.ended(reset if frame.kind == spdy.RST_STREAM else "")
            return
        if frame.kind == spdy.RST_STREAM and not stream.opened():
            stream.ended(reset)
        stream.error_ended()
        with self._lock:  # the kubelet is done with the error stream: so are we
            self._streams.pop(stream.error_id, None)
        self._close_if_retired_and_idle()

    def _end(self, reason: str) -> None:
        shutdown(self.ws.sock)  # wakes any sender blocked on a full socket
        with self._send_lock, self._lock:
            self.closed = True
            streams = set(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.ended(reason)
            stream.error_ended()
        with contextlib.suppress(Exception):  # closing what is already broken
            self.ws.shutdown()


def open_tunnel(
    cluster: Cluster, namespace: str, pod: str, *, notify: Notify, spawn: Spawn
) -> Tunnel:
    """Upgrade to a SPDY session over a websocket to ``pod``'s port-forward subresource."""
    from websocket import WebSocketException

    from pacdeploy.kube.resources import resource

    path = resource("Pod").path(pod, namespace, "portforward")
    ws = None
    try:
        ws = cluster.open_websocket(path, {}, PROTOCOL)
        chosen = (ws.getheaders() or {}).get("sec-websocket-protocol", "")
        if chosen != PROTOCOL:
            raise StreamError(
                f"the API server does not forward ports over websockets ({PROTOCOL}); "
                "it needs Kubernetes 1.31 or later with PortForwardWebsockets on"
            )
        ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (WebSocketException, OSError, PacdeployError) as exc:
        if ws is not None:
            ws.shutdown()  # never handed out: this thread is its only user
        raise StreamError(describe(exc)) from None
    except StreamError:
        if ws is not None:
            ws.shutdown()
        raise
    return Tunnel(ws, pod, notify, spawn=spawn)
