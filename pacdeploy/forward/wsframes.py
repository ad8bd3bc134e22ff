"""The server's side of a websocket (RFC 6455 section 5.2), read in large chunks.

websocket-client reads each frame with several small reads (header, length, payload);
behind the API server's tunnel, half of the frames carry nothing but a SPDY frame's 8-byte
header, so that costs more than the bytes do. A tunnel's reader instead fills one large
buffer per read and takes the frames out of it here. A payload is handed on as it arrives,
in pieces, as views of the caller's buffer: SPDY above it is a byte stream, so message
boundaries do not matter, and nothing is copied or held back.
"""

from __future__ import annotations

import struct

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
DATA = (CONTINUATION, TEXT, BINARY)
MAX_HEADER = 14  # 2 bytes, 8 of extended length, 4 of mask


class ProtocolError(Exception):
    """The server sent bytes that are not websocket frames."""


class Frames:
    """Turns chunks of the server's bytes into (opcode, payload piece) pairs, in order.

    A data frame may come out as several pieces, all with its opcode; a control frame
    (ping, close) comes out whole, at most 125 bytes by the RFC.
    """

    def __init__(self) -> None:
        self._head = bytearray()  # a frame header so far
        self._opcode = 0
        self._left = 0  # payload bytes of the current frame still to come
        self._control = bytearray()  # a control frame's payload so far

    def feed(self, chunk: memoryview) -> list[tuple[int, memoryview | bytes]]:
        out: list[tuple[int, memoryview | bytes]] = []
        at, end = 0, len(chunk)
        while at < end:
            if self._left:
                take = min(self._left, end - at)
                piece = chunk[at : at + take]
                at += take
                self._left -= take
                if self._opcode in DATA:
                    out.append((self._opcode, piece))
                else:
                    self._control += piece
                    if not self._left:
                        out.append((self._opcode, bytes(self._control)))
                continue
            take = min(self._header_length() - len(self._head), end - at)
            self._head += chunk[at : at + take]
            at += take
            if len(self._head) < self._header_length():
                continue  # the rest of the header, or its extended length, is still to come
            self._opcode, self._left = self._header()
            self._control.clear()
            if not self._left and self._opcode not in DATA:
                out.append((self._opcode, b""))
        return out

    def _header_length(self) -> int:
        if len(self._head) < 2:
            return 2
        second = self._head[1]
        extended = {126: 2, 127: 8}.get(second & 0x7F, 0)
        return 2 + extended + (4 if second & 0x80 else 0)

    def _header(self) -> tuple[int, int]:
        """The opcode and payload length of the header collected; the header is consumed."""
        first, second = self._head[0], self._head[1]
        if second & 0x80:
            raise ProtocolError("a masked frame from the server")
        length = second & 0x7F
        if length == 126:
            length = struct.unpack_from(">H", self._head, 2)[0]
        elif length == 127:
            length = struct.unpack_from(">Q", self._head, 2)[0]
        self._head.clear()
        return first & 0x0F, length
