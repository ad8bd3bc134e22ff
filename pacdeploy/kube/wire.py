"""Every request pacdeploy sends, REST, watch or websocket upgrade, leaves through
:meth:`Wire.exchange`: built in one place (URL, headers, who the request is from), carried
by the official client's REST layer or upgraded to a websocket over the transport's TLS
and proxy, and retried once with refreshed credentials after a 401, as client-go refreshes
an exec plugin's or a token file's credential.

Retries for a broken connection, throttling and the like are the caller's (`Cluster.send`
and the watches decide differently); this module sends each attempt exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import quote, urlencode

from urllib3 import HTTPHeaderDict

from pacdeploy.kube import duplex, official
from pacdeploy.kube.dialing import CONNECT_SECONDS
from pacdeploy.kube.transport import Transport

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = (CONNECT_SECONDS, 30.0)  # (connect, read) seconds
WHO = ("Authorization", "Impersonate-")  # the headers a stream's upgrade carries too
T = TypeVar("T")


class Request(NamedTuple):
    """One request to the API server, before it is built for the wire. A list in
    ``query`` is a repeated parameter (exec's ``command=mongo&command=--eval&...``)."""

    method: str
    path: str
    query: Mapping[str, object] | None = None
    body: object = None
    content_type: str | None = None
    timeout: tuple[float, float | None] = REQUEST_TIMEOUT  # read None: a followed stream


class Built(NamedTuple):
    """A request as it is sent: its URL, every header, its body."""

    url: str
    headers: HTTPHeaderDict
    body: object

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


class Carrier(NamedTuple, Generic[T]):
    """How a built request travels: ``carry`` sends it; ``refused`` says its answer was a
    401; ``discard`` lets go of an answer that will be asked again."""

    carry: Callable[[Built, Request], T]
    refused: Callable[[T], bool]
    discard: Callable[[T], None]


class Wire:
    """The API server at ``server``, reached through ``transport``."""

    def __init__(self, transport: Transport, server: str) -> None:
        self.transport = transport
        self.server = server.rstrip("/")
        self._lock = threading.Lock()
        self._rest: tuple[object, official.RestClient] | None = None

    def build(self, request: Request) -> Built:
        """The one place a request is built, who it is from included."""
        headers = HTTPHeaderDict({"Accept": "application/json"})
        if request.content_type:
            headers["Content-Type"] = request.content_type
        elif request.body is not None:
            headers["Content-Type"] = "application/json"
        headers.extend(self.transport.headers())  # adds: Impersonate-Group may repeat
        params = [
            (key, _text(item))
            for key, value in (request.query or {}).items()
            for item in (value if isinstance(value, list) else [value])
            if item is not None
        ]
        url = self.server + request.path
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        return Built(url, headers, request.body)

    def exchange(self, request: Request, carrier: Carrier[T]) -> T:
        """Send ``request`` by ``carrier``; a 401 that fresh credentials may cure is sent
        once more with them."""
        for attempt in (1, 2):
            built = self.build(request)
            answer = carrier.carry(built, request)
            if attempt == 2 or not carrier.refused(answer):
                return answer
            if not self.transport.unauthorized(built.authorization):
                return answer
            carrier.discard(answer)
            log.info("401 for %s %s: credentials refreshed, trying once more", *_line(request))
        raise AssertionError("unreachable")  # pragma: no cover

    def rest(self, request: Request) -> official.Response:
        """``request`` over the official REST layer, its answer's body not yet read."""
        return self.exchange(request, Carrier(self._over_rest, _is_401, _read))

    def upgrade(self, request: Request, protocol: str) -> Any:
        """A websocket (``websocket.WebSocket``) speaking ``protocol`` to ``request.path``."""
        from websocket import WebSocketBadStatusException

        def carry(built: Built, _request: Request) -> Any:
            return self._over_websocket(built, protocol)

        def refused(answer: Any) -> bool:
            return isinstance(answer, WebSocketBadStatusException)

        answer = self.exchange(request, Carrier(carry, refused, lambda _: None))
        if refused(answer):
            raise answer
        return answer

    def _over_rest(self, built: Built, request: Request) -> official.Response:
        self.transport.await_connection()
        return self._rest_client().request(
            request.method,
            built.url,
            headers=built.headers,
            body=built.body,
            _request_timeout=request.timeout,
        )

    def _over_websocket(self, built: Built, protocol: str) -> Any:
        """The websocket, or the 401 that refused it (any other failure is raised)."""
        from websocket import WebSocket, WebSocketBadStatusException

        scheme, rest = built.url.split("://", 1)
        target = ("wss" if scheme == "https" else "ws") + "://" + rest
        header = [f"sec-websocket-protocol: {protocol}"]
        header += [f"{k}: {v}" for k, v in built.headers.iteritems() if k.startswith(WHO)]
        ws: Any = WebSocket(skip_utf8_validation=True, enable_multithread=True)  # untyped
        try:
            ws.connect(target, socket=self.transport.dial(CONNECT_SECONDS), header=header)
        except WebSocketBadStatusException as exc:
            ws.shutdown()
            if exc.status_code == 401:
                return exc
            raise
        except BaseException:
            ws.shutdown()
            raise
        ws.sock = duplex.guard(ws.sock)  # a reader and a writer thread share it from here
        ws.settimeout(None)
        return ws

    def prepare(self) -> None:
        """Load the official REST layer now (~20 ms of imports), while the connections
        opened ahead finish their handshakes in threads of their own, rather than in the
        first request's thread, with every other request waiting for it."""
        self._rest_client()

    def _rest_client(self) -> official.RestClient:
        """The official REST client on the transport's current pools: made again only when
        the transport replaced them (a rotated client certificate), never changed."""
        pool = self.transport.pool_manager()
        with self._lock:
            if self._rest is None or self._rest[0] is not pool:
                self._rest = (pool, official.rest_client(self.server, pool))
            return self._rest[1]


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _is_401(response: official.Response) -> bool:
    return response.status == 401


def _read(response: official.Response) -> None:
    response.read()


def _line(request: Request) -> tuple[str, str]:
    return request.method, request.path
