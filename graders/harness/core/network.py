"""The grader's side of the network: free ports for the servers students write, and an echo exchange."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable


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


def exchange(client: socket.socket, message: bytes, *, patience: float | None = None,
             waiting: Callable[[], bool] | None = None) -> bytes | str:
    """Send `message` and read its echo: the bytes, or "silent" (nothing came in time), "closed" (the server
    closed first) or "reset".

    "In time" is the client's timeout, or `patience` seconds; with `waiting` (e.g. the server's process is
    idle: `lambda: observe.idle(pid)`), the exchange gives up as soon as that holds after half a second, so
    that a server which is plainly not going to answer costs half a second, not the whole patience.
    """
    patience = client.gettimeout() if patience is None else patience
    deadline = None if patience is None else time.monotonic() + patience
    started = time.monotonic()
    received = bytearray()
    try:
        client.sendall(message)
        while len(received) < len(message):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return "silent"
            ready, _, _ = select.select([client], [], [], 0.1 if left is None else min(left, 0.1))
            if not ready:
                gave_up = waiting is not None and time.monotonic() - started >= 0.5 and waiting()
                if gave_up and not select.select([client], [], [], 0)[0]:  # the echo may have come meanwhile
                    return "silent"
                continue
            chunk = client.recv(65536)
            if not chunk:
                return "closed"
            received += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return bytes(received)
