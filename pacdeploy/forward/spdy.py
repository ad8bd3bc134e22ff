"""SPDY/3.1 framing, the part of it port-forward uses: pure bytes in, frames out.

kubectl (1.31+) forwards ports over one websocket carrying a SPDY session
(``SPDY/3.1+portforward.k8s.io``, client-go ``tools/portforward/tunneling_dialer.go``); the
API server or the kubelet unwraps it and serves it with moby/spdystream. Each client
connection is two streams on that session, ``error`` and ``data``, so a new connection costs
two small frames instead of a TLS handshake and an upgrade.

Frame layouts are those of the SPDY/3 draft (draft-mbelshe-httpbis-spdy-00, section 2.2):
a control frame is ``1 | version(15) | type(16) | flags(8) | length(24)`` then its payload;
a data frame is ``0 | stream-id(31) | flags(8) | length(24)`` then the data. spdystream
implements no flow control (it never sends WINDOW_UPDATE and ignores ours), so none is
needed here either.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1, 2, 3, 4, 6, 7, 8, 9,
)  # fmt: skip
FLAG_FIN = 0x01
MAX_LENGTH = (1 << 24) - 1
HEADER = 8  # bytes before every frame's payload
MAX_STREAM_ID = (1 << 31) - 1

# RST_STREAM status codes (section 2.6.3), for saying why a stream was reset.
RESET_STATUS = {
    1: "protocol error",
    2: "invalid stream",
    3: "refused",
    4: "unsupported version",
    5: "cancelled",
    6: "internal error",
    7: "flow control error",
    8: "stream in use",
    9: "stream already closed",
    11: "frame too large",
}
CANCEL = 5

# The header compression dictionary of section 2.6.10.1: these 65 words, each behind its
# length as 4 bytes, then the tail. Both ends must use exactly these bytes: the peer checks
# their Adler-32 (0xe3c6a7c2) before it inflates a single header.
# fmt: off
_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
    "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
    "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma",
    "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server",
    "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
    "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin",
)
# fmt: on
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


class ProtocolError(Exception):
    """The peer sent bytes that are not SPDY/3 frames."""


class Frame(NamedTuple):
    """One frame (a tuple: made for every piece of the pod's bytes, so made cheaply).
    ``kind`` is 0 for data, else the control frame's type."""

    kind: int
    flags: int
    payload: bytes | memoryview
    stream_id: int = 0  # data frames, and control frames that name a stream

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, flags << 24 | len(payload)) + payload


def data_header(
    into: bytearray | memoryview, stream_id: int, length: int, *, fin: bool = False
) -> None:
    """Write a data frame's 8-byte header into the start of ``into`` (the data follows it)."""
    struct.pack_into(">II", into, 0, stream_id, (FLAG_FIN if fin else 0) << 24 | length)


def data(stream_id: int, payload: bytes = b"", fin: bool = False) -> bytes:
    frame = bytearray(HEADER + len(payload))
    data_header(frame, stream_id, len(payload), fin=fin)
    frame[HEADER:] = payload
    return bytes(frame)


def rst_stream(stream_id: int, status: int = CANCEL) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


class Encoder:
    """Builds SYN_STREAM frames. Header blocks share one zlib stream for the whole
    session, so frames must reach the peer in the order they were encoded."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, zdict=DICTIONARY)

    def syn_stream(self, stream_id: int, headers: dict[str, str], fin: bool = False) -> bytes:
        block = bytearray(struct.pack(">I", len(headers)))
        for name, value in headers.items():
            for text in (name.lower(), value):
                raw = text.encode()
                block += struct.pack(">I", len(raw)) + raw
        packed = self._zlib.compress(bytes(block)) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        # associated-to-stream-id 0, priority 0 (spdystream's default), slot 0
        head = struct.pack(">IIBB", stream_id, 0, 0, 0)
        return _control(SYN_STREAM, FLAG_FIN if fin else 0, head + packed)


class Decoder:
    """Splits the byte stream from the peer into frames, however it was cut into messages.

    A data frame's payload is handed on as it arrives, in pieces if the frame spans
    messages (FIN on the last piece only), each piece a view of its message: the pod's bytes
    are never copied or held back here. Control frames are small and come out whole. Their
    header blocks (SYN_REPLY, HEADERS) stay compressed: port-forward's replies carry no
    header anyone reads, and a block never inflated cannot put the inflater out of step.
    """

    def __init__(self) -> None:
        self._head = bytearray()  # a frame header, and a control frame's payload, so far
        self._control = 0  # payload length of the control frame being collected
        self._data_left = 0  # payload bytes of the current data frame still to come
        self._data_id = 0
        self._data_flags = 0

    def feed(self, chunk: bytes | memoryview) -> list[Frame]:
        view = memoryview(chunk)
        frames: list[Frame] = []
        at = 0
        while at < len(view):
            if self._data_left:
                take = min(self._data_left, len(view) - at)
                self._data_left -= take
                flags = 0 if self._data_left else self._data_flags
                frames.append(Frame(0, flags, view[at : at + take], self._data_id))
                at += take
                continue
            if len(self._head) < HEADER:
                take = min(HEADER - len(self._head), len(view) - at)
                self._head += view[at : at + take]
                at += take
                if len(self._head) < HEADER:
                    break
                first, second = struct.unpack_from(">II", self._head)
                if not first & 0x80000000:
                    self._head.clear()
                    self._data_id, self._data_flags = first, second >> 24
                    self._data_left = second & MAX_LENGTH
                    if not self._data_left:
                        frames.append(Frame(0, self._data_flags, b"", first))
                    continue
                self._control = second & MAX_LENGTH
            take = min(HEADER + self._control - len(self._head), len(view) - at)
            self._head += view[at : at + take]
            at += take
            if len(self._head) == HEADER + self._control:
                frames.append(_control_frame(bytes(self._head)))
                self._head.clear()
        return frames


def _control_frame(raw: bytes) -> Frame:
    first, second = struct.unpack_from(">II", raw)
    version, kind, length = first >> 16 & 0x7FFF, first & 0xFFFF, second & MAX_LENGTH
    if version != VERSION:
        raise ProtocolError(f"SPDY version {version}, expected {VERSION}")
    stream_id = 0
    if kind in (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE):
        if length < 4:
            raise ProtocolError(f"control frame {kind} of {length} bytes")
        stream_id = struct.unpack_from(">I", raw, HEADER)[0] & MAX_STREAM_ID
    return Frame(kind, second >> 24, raw[HEADER:], stream_id)


def reset_status(frame: Frame) -> str:
    """Why a RST_STREAM frame reset its stream, in words."""
    if len(frame.payload) < 8:
        return "reset"
    code = struct.unpack_from(">I", frame.payload, 4)[0]
    return RESET_STATUS.get(code, f"status {code}")


def ping_id(frame: Frame) -> int:
    return struct.unpack_from(">I", frame.payload)[0] if len(frame.payload) >= 4 else 0
