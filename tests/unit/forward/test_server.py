"""The local listener: busy, invalid and foreign addresses refused, port 0 picks one."""

import socket

import pytest

from pacdeploy.errors import InvalidInput
from pacdeploy.forward.server import listen


def test_busy_port_is_reported():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidInput, match=f"port {port} on 127.0.0.1 is already in use"):
            listen("127.0.0.1", port)


@pytest.mark.parametrize("address", ["not an address", "300.1.1.1"])
def test_invalid_address_is_reported(address):
    with pytest.raises(InvalidInput, match="not a valid IP address"):
        listen(address, 0)


def test_foreign_address_is_reported():
    with pytest.raises(InvalidInput, match="does not belong to this machine"):
        listen("192.0.2.1", 0)  # TEST-NET-1: never assigned to a host


def test_port_zero_picks_a_free_port_on_loopback():
    sock = listen("127.0.0.1", 0)
    try:
        address, port = sock.getsockname()[:2]
        assert address == "127.0.0.1" and port > 0
    finally:
        sock.close()
