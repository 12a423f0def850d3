"""The outline's client, made to work for any message: send all of it, then read the whole reply."""

import socket  # noqa: F401  (you will need it)


def echo(address: tuple[str, int], message: bytes) -> bytes:
    """Send `message` to the echo server at `address` and return its reply, as many bytes as were sent.

    Raise ConnectionError if the server closes the connection before the whole reply has arrived.
    """
    # TODO(task 4): connect, sendall the message, recv until len(message) bytes have come back, then close.
    raise NotImplementedError("task 4")
