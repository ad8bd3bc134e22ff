"""A stand-in for a pod's HTTP port: KWOK runs no containers, so its port forwards need
a real server on 127.0.0.1 to land on. Used by the integration tests and benchmarks."""

from __future__ import annotations

import http.server
import threading
from types import TracebackType
from typing import ClassVar


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the web app and browsers do
    disable_nagle_algorithm = True  # or every small response waits on a delayed ACK
    pages: ClassVar[dict[str, bytes]] = {}  # set per server by StandIn

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Node's listen backlog, as the app's server has. socketserver's 5 drops the SYNs of a
    # burst of connections, and each dropped one waits a second for its retransmission.
    request_queue_size = 511

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-response is not the server's problem here


class StandIn:
    """``with StandIn({"/": b"hi"}) as server:`` serves those pages on server.port."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        handler = type("Handler", (_Handler,), {"pages": pages})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.port: int = self._server.server_address[1]

    def __enter__(self) -> StandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
