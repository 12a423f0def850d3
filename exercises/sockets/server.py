"""The outline's echo server, made to work for any message: listen, serve a client until it leaves, repeat."""

import socket


def make_server(port: int) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:`port` that can be bound again right after the server stops."""
    # TODO(task 1): create the socket, set SO_REUSEADDR, bind it to ("127.0.0.1", port) and listen.
    raise NotImplementedError("task 1")


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends until it closes its side (recv returns b''); then close conn."""
    # TODO(task 2): recv in a loop and sendall what arrives; stop when recv returns b'', then close conn.
    raise NotImplementedError("task 2")


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`, serving each one with handle() until it leaves."""
    # TODO(task 3): accept a client, handle it, then go back to accept() for the next one, forever.
    raise NotImplementedError("task 3")
