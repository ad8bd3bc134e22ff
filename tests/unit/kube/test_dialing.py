"""The connections a command opens before it loads: TCP only, client-go's options, and
never more than a missed head start when they cannot be opened."""

import socket

from pacdeploy.kube import dialing


def test_connections_are_kept_alive_as_the_official_client_keeps_them():
    from pacdeploy.kube import official

    official.stand_in_for_package()
    from kubernetes.utils.keepalive import tcp_keepalive_socket_options

    assert dialing.socket_options() == tcp_keepalive_socket_options()


def test_every_connection_asked_for_is_open_with_keepalive_and_no_nagle():
    with socket.create_server(("127.0.0.1", 0)) as server:
        dialed = dialing.Dialed(server.getsockname()[:2], 3)
        opened = [dialed.take() for _ in range(3)]
        assert all(s is not None for s in opened)
        for sock in opened:
            assert sock is not None
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.gettimeout() is None  # blocking again, for urllib3 to set its own
            sock.close()
        assert dialed.take() is None  # no more than were asked for


def test_a_server_that_refuses_leaves_nothing_to_take():
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = server.getsockname()[:2]
    dialed = dialing.Dialed(address, 2)  # the port is closed now: refused at once
    assert [dialed.take(), dialed.take(), dialed.take()] == [None, None, None]


def test_a_name_that_does_not_resolve_leaves_nothing_to_take():
    dialed = dialing.Dialed(("no-such-host.invalid", 443), 1)
    assert dialed.take() is None
