"""The outline's echo server, made to work for any message: listen, serve a client until it leaves, repeat."""

import socket


def make_server(port: int) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:`port` that can be bound again right after the server stops."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Without it, bind fails with "Address already in use" while old connections of the port are in TIME_WAIT.
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(5)
    return server


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends until it closes its side (recv returns b''); then close conn."""
    data = conn.recv(1024)
    conn.sendall(data)
    conn.close()


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`, serving each one with handle() until it leaves."""
    while True:
        conn, _address = server.accept()
        handle(conn)
