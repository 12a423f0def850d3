"""The outline's concurrent echo server with a process per client (使用多进程与多线程来实现并发服务器)."""

import multiprocessing
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
        # handle is a top-level function and a socket pickles: spawn and forkserver send both to the child.
        child = multiprocessing.Process(target=handle, args=(conn,))
        child.start()
        conn.close()  # the child has its own copy; the client sees EOF only when every copy is closed
        multiprocessing.active_children()  # joins the children that have ended (no zombies left behind)
