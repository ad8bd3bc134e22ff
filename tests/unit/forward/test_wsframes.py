"""WebSocket frames as port-forward reads them: cut anywhere, whole control frames, no mask
from the server."""

from __future__ import annotations

import struct

import pytest

from pacdeploy.forward import wsframes


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A frame as a server sends it: final, unmasked."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 126]) + struct.pack(">H", size)
    else:
        head = bytes([0x80 | opcode, 127]) + struct.pack(">Q", size)
    return head + payload


def test_websocket_frames_cut_anywhere_give_the_same_bytes_and_whole_control_frames():
    big, small = bytes(range(256)) * 300, b"spdy header"
    wire = ws_frame(wsframes.BINARY, big) + ws_frame(wsframes.PING, b"are you there")
    wire += ws_frame(wsframes.BINARY, small) + ws_frame(wsframes.CLOSE, b"")
    for cut in (1, 2, 5, 11, 4096, len(wire)):
        frames, data, controls = wsframes.Frames(), bytearray(), []
        for start in range(0, len(wire), cut):
            for opcode, payload in frames.feed(memoryview(wire[start : start + cut])):
                if opcode in wsframes.DATA:
                    data += payload
                else:
                    controls.append((opcode, bytes(payload), len(data)))
        assert data == big + small, cut
        assert controls == [
            (wsframes.PING, b"are you there", len(big)),
            (wsframes.CLOSE, b"", len(big + small)),
        ], cut


def test_a_masked_frame_from_the_server_is_refused():
    with pytest.raises(wsframes.ProtocolError, match="masked"):
        wsframes.Frames().feed(memoryview(bytes([0x82, 0x81, 1, 2, 3, 4, 0])))
