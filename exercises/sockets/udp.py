"""The echo server and client again, over UDP: datagrams instead of a connection.

A UDP socket has no listen(), no accept() and no connection per client: one socket receives every client's
datagrams, each with the address it came from, and answers each one with sendto(). A datagram arrives whole
or not at all, so nothing has to be put together again; but one can be lost, and nobody says so.
"""

import socket

# The largest datagram UDP can carry: recvfrom(n) cuts off whatever a datagram has beyond n bytes, and the rest
# is gone for good.
MAX_DATAGRAM = 65535


def make_udp_server(port: int) -> socket.socket:
    """A UDP socket bound to 127.0.0.1:`port`, ready to receive datagrams (UDP has nothing to listen for)."""
    # TODO(task 5): socket.socket(AF_INET, SOCK_DGRAM), bound to ("127.0.0.1", port); no listen().
    raise NotImplementedError("task 5")


def serve_udp(server: socket.socket) -> None:
    """Forever: receive one datagram on `server` and send the same bytes back, as one datagram, to its sender."""
    # TODO(task 5): loop forever: data, address = server.recvfrom(MAX_DATAGRAM); server.sendto(data, address).
    raise NotImplementedError("task 5")


def udp_echo(address: tuple[str, int], message: bytes, timeout: float = 1.0, tries: int = 3) -> bytes:
    """Send `message` as one datagram to the UDP echo server at `address` and return its reply.

    A datagram may be lost on the way there or back: wait `timeout` seconds for the reply and send the message
    again if none came, `tries` times in all; then raise TimeoutError. Datagrams from anyone but `address` are
    not the reply and are ignored.
    """
    # TODO(task 6): a SOCK_DGRAM socket with settimeout(timeout); up to `tries` times: sendto, then recvfrom
    #               until a datagram from `address` comes (return it) or TimeoutError (send again).
    raise NotImplementedError("task 6")
