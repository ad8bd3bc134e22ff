"""A stand-in for a pod's HTTP port: KWOK runs no containers, so its port forwards need
a real server on 127.0.0.1 to land on. Used by the integration tests and benchmarks.

Given where the scores live, it also answers the app's high-score routes (saintdle/pacman's
src/routes/highscores.js: POST /highscores as a form, GET /highscores/list the top 10 as
JSON, its score validation): `test` writes and reads the lesson's score through it.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ClassVar

MAX_POINTS_PER_LEVEL = 104 * 10 + 4 * 50 + 4 * 4 * 100  # the app's score-validation.js
STORE = "highscores.jsonl"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the web app and browsers do
    disable_nagle_algorithm = True  # or every small response waits on a delayed ACK
    pages: ClassVar[dict[str, bytes]] = {}  # set per server by StandIn
    # Where the scores are kept now (mongo's volume directory), None: no score routes.
    scores: ClassVar[Callable[[], Path] | None] = None

    def _answer(self, status: int, body: bytes | None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def do_GET(self) -> None:
        if self.path == "/highscores/list" and self.scores is not None:
            store = self.scores() / STORE
            found = (
                [json.loads(line) for line in store.read_text().splitlines()]
                if store.exists()
                else []
            )
            top = sorted(found, key=lambda s: -s["score"])[:10]
            self._answer(200, json.dumps(top).encode())
            return
        body = self.pages.get(self.path)
        self._answer(200 if body is not None else 404, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if self.path != "/highscores" or self.scores is None:
            self._answer(404, None)
            return
        score, level = int(form.get("score", "x")), int(form.get("level", "1"))
        if level < 1 or score / level > MAX_POINTS_PER_LEVEL:
            self._answer(400, b'{"error": "score is implausible for level"}')
            return
        with (self.scores() / STORE).open("a") as store:
            store.write(json.dumps({**form, "score": score, "level": level}) + "\n")
        self._answer(200, json.dumps({"name": form.get("name"), "rs": "success"}).encode())

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
    """``with StandIn({"/": b"hi"}) as server:`` serves those pages on server.port;
    ``scores``: where the high scores are kept, looked up at each request."""

    def __init__(self, pages: dict[str, bytes], scores: Callable[[], Path] | None = None) -> None:
        handler = type(
            "Handler",
            (_Handler,),
            {"pages": pages, "scores": staticmethod(scores) if scores else None},
        )
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
