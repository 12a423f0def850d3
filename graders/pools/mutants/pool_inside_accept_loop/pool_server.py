"""The outline's 使用池来实现并发服务器: an echo server whose connections are served by a thread pool."""

import socket
from multiprocessing.pool import ThreadPool


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close it too."""
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def serve(server: socket.socket, size: int) -> None:
    """Accept clients forever on the listening socket `server`, serving them with `size` pooled threads."""
    while True:
        conn, _address = server.accept()
        pool = ThreadPool(size)
        pool.apply_async(handle, (conn,))
