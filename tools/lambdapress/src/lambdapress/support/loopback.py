"""Where the servers lambdapress starts listen: the loopback address, on a port free now.

The emulator's front ends, the local package index, PostgreSQL and moto are for this machine
only; bound to 127.0.0.1, nothing else on the network can reach them. The port is the
kernel's choice among the free ones when nobody asked for one (bound and released here, so
another process may take it before the server does: the servers say so when they fail).
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"

LOCAL_REGION = "us-east-1"
"""The region local AWS lives in: the emulator's functions run there and `db` creates moto's
tables there, so a handler's boto3 client finds the tables `db` made."""

NO_METADATA_SERVICE = {"AWS_EC2_METADATA_DISABLED": "true"}
"""What keeps boto3 in a child process from asking the instance metadata service."""


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port
