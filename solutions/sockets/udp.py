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
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", port))
    return server


def serve_udp(server: socket.socket) -> None:
    """Forever: receive one datagram on `server` and send the same bytes back, as one datagram, to its sender."""
    while True:
        data, address = server.recvfrom(MAX_DATAGRAM)  # one whole datagram, and who sent it
        server.sendto(data, address)  # from the same socket, so the reply comes from the address the client used


def udp_echo(address: tuple[str, int], message: bytes, timeout: float = 1.0, tries: int = 3) -> bytes:
    """Send `message` as one datagram to the UDP echo server at `address` and return its reply.

    A datagram may be lost on the way there or back: wait `timeout` seconds for the reply and send the message
    again if none came, `tries` times in all; then raise TimeoutError. Datagrams from anyone but `address` are
    not the reply and are ignored.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(timeout)
        for _ in range(tries):
            client.sendto(message, address)
            try:
                while True:
                    reply, sender = client.recvfrom(MAX_DATAGRAM)
                    if sender == address:  # anyone can send a datagram to this port
                        return reply
            except TimeoutError:
                continue  # lost on the way there or back: send it again
    raise TimeoutError(f"no reply from {address} after {tries} tries of {timeout:g} s")
