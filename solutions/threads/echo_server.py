"""The outline's concurrent echo server: one thread for each client."""

import socket
import threading


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close it too."""
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`."""
    while True:
        conn, _address = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()
