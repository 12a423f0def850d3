"""The grader's side of the network: free ports for the servers students write, and an echo exchange."""

from __future__ import annotations

import contextlib
import random
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a student's server."""
    return _free(socket.SOCK_STREAM)


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that no socket is bound to right now, for a student's UDP server."""
    return _free(socket.SOCK_DGRAM)


_RANDOM = random.SystemRandom()  # not the random module's: a forked helper must not pick what its controller picks


def _free(kind: socket.SocketKind) -> int:
    """A port outside the ephemeral range, where the system finds the local ports of outgoing connections: one of
    those (from a test beside this one: epoll's opens 200) could take a free ephemeral port between this check
    and the student's bind, which then fails with "Address already in use"."""
    ports = _unassigned_ports()
    for _ in range(50 if ports else 0):
        port = _RANDOM.choice(ports)
        with contextlib.closing(socket.socket(socket.AF_INET, kind)) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with contextlib.closing(socket.socket(socket.AF_INET, kind)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unassigned_ports() -> range:
    """Up to 12 000 ports just below the ephemeral range (Linux's 32768-60999 unless it was set otherwise; macOS's
    and Windows' 49152-65535, which 20000-32767 keeps clear of too), or above it where it starts too low."""
    low, high = 32768, 60999
    with contextlib.suppress(OSError, ValueError):
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    if low - 1024 >= 1000:
        return range(max(1024, low - 12_000), low)
    return range(high + 1, 65536)


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
