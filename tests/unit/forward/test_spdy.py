"""forward's SPDY/3 frames: what the kubelet's spdystream reads from us, and what we read
back however the API server cut its bytes into messages."""

from __future__ import annotations

import struct
import zlib

import pytest

from pacdeploy.forward import spdy


def header_block(headers: dict[str, str]) -> bytes:
    block = struct.pack(">I", len(headers))
    for name, value in headers.items():
        block += struct.pack(">I", len(name)) + name.encode()
        block += struct.pack(">I", len(value)) + value.encode()
    return block


def test_the_dictionary_is_the_one_the_peer_checks():
    # spdystream's zlib reader refuses a header block whose dictionary id differs.
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2


def test_syn_stream_carries_its_id_and_headers_a_peer_can_inflate():
    encoder, inflater = spdy.Encoder(), zlib.decompressobj(zdict=spdy.DICTIONARY)
    sent = [
        {"streamtype": "error", "port": "8080", "requestid": "0"},
        {"streamtype": "data", "port": "8080", "requestid": "0"},
    ]
    for stream_id, headers in zip((1, 3), sent, strict=True):
        frame = encoder.syn_stream(stream_id, headers)
        first, second, sid, associated = struct.unpack_from(">IIII", frame)
        assert first == 0x8000_0000 | 3 << 16 | spdy.SYN_STREAM
        assert second & spdy.MAX_LENGTH == len(frame) - spdy.HEADER
        assert (sid, associated) == (stream_id, 0)
        # One zlib stream for the session: the second block inflates only after the first.
        assert inflater.decompress(frame[18:]) == header_block(headers)


def test_data_frames_round_trip_with_and_without_fin():
    decoder = spdy.Decoder()
    frames = decoder.feed(spdy.data(3, b"GET / HTTP/1.1\r\n\r\n") + spdy.data(3, fin=True))
    assert [(f.kind, f.stream_id, bytes(f.payload), f.fin) for f in frames] == [
        (0, 3, b"GET / HTTP/1.1\r\n\r\n", False),
        (0, 3, b"", True),
    ]


def test_frames_cut_anywhere_across_messages_come_out_in_order_and_intact():
    """Data is handed on as it arrives, FIN on its last piece; control frames come whole."""
    wire = spdy.data(7, bytes(range(256)) * 2) + spdy.rst_stream(5) + spdy.ping(2)
    wire += spdy.data(9, fin=True) + spdy.data(9, b"last", fin=True)
    expected = [
        (0, 7, bytes(range(256)) * 2, False),
        (spdy.RST_STREAM, 5, spdy.rst_stream(5)[8:], False),
        (spdy.PING, 0, spdy.ping(2)[8:], False),
        (0, 9, b"", True),
        (0, 9, b"last", True),
    ]
    for cut in (1, 3, 8, 13, 299, len(wire)):
        decoder, got = spdy.Decoder(), []
        for start in range(0, len(wire), cut):
            for f in decoder.feed(wire[start : start + cut]):
                if got and f.kind == 0 and got[-1][:2] == (0, f.stream_id) and not got[-1][3]:
                    got[-1] = (0, f.stream_id, got[-1][2] + bytes(f.payload), f.fin)
                else:
                    got.append((f.kind, f.stream_id, bytes(f.payload), f.fin))
        assert got == expected, cut


def test_a_reset_says_why_and_a_ping_keeps_its_id():
    reset, ping = spdy.Decoder().feed(spdy.rst_stream(5, 3) + spdy.ping(42))
    assert (reset.stream_id, spdy.reset_status(reset)) == (5, "refused")
    assert spdy.ping_id(ping) == 42
    assert spdy.reset_status(spdy.Decoder().feed(spdy.rst_stream(5))[0]) == "cancelled"


def test_another_spdy_version_is_refused():
    frame = bytearray(spdy.ping(1))
    frame[1] = 2  # SPDY/2
    with pytest.raises(spdy.ProtocolError, match="version 2"):
        spdy.Decoder().feed(bytes(frame))
