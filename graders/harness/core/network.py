"""The grader's side of the network: free ports for the servers students write, and an echo exchange."""

from __future__ import annotations

import contextlib
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a student's server."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that no socket is bound to right now, for a student's UDP server."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def exchange(client: socket.socket, message: bytes) -> bytes | str:
    """Send `message` and read its echo, within the client's timeout: the bytes, or "silent" (nothing came
    in time), "closed" (the server closed first) or "reset"."""
    received = bytearray()
    try:
        client.sendall(message)
        while len(received) < len(message):
            chunk = client.recv(65536)
            if not chunk:
                return "closed"
            received += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return bytes(received)
