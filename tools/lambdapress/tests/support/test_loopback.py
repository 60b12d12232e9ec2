"""Local servers listen on the loopback address, on a port that is free."""

from __future__ import annotations

import socket

from lambdapress.support.loopback import LOOPBACK, free_port


def test_the_free_port_can_be_bound_on_the_loopback_address() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((LOOPBACK, port))
        server.listen()
        assert server.getsockname() == ("127.0.0.1", port)
