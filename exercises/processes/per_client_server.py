"""The outline's concurrent echo server with a process per client (使用多进程与多线程来实现并发服务器)."""

import multiprocessing  # noqa: F401  (you will need it)
import socket


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends, until it stops sending; then close the connection."""
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`; serve each one with handle(conn) in a child
    process of its own."""
    while True:
        conn, _address = server.accept()
        # TODO(task 8): serve this client in a new multiprocessing.Process running handle, close the parent's
        # copy of conn, reap the children that have ended, and go straight back to accept().
        handle(conn)
