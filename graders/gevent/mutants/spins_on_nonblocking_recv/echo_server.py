"""The outline's gevent echo server: a greenlet for each client, and every client served in one thread.

Run it as a program with `python echo_server.py [PORT]` (default 5656) and talk to it with `nc 127.0.0.1 5656`.
"""

if __name__ == "__main__":
    # Before anything imports socket: from now on socket, time.sleep, select... yield to other greenlets
    # instead of blocking the one thread that runs them all.
    from gevent import monkey

    monkey.patch_all()

import socket
import sys

import gevent


def worker(sock: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close the socket too."""
    sock.setblocking(False)
    while True:
        try:
            recvData = sock.recv(1024)
        except BlockingIOError:
            continue
        if recvData:
            sock.sendall(recvData)
        else:
            sock.close()
            break


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`, each served by worker() in a greenlet of its own."""
    while True:
        sock, _addr = server.accept()
        gevent.spawn(worker, sock)


def main(port: int = 5656) -> None:
    """The program: listen on 127.0.0.1:port and serve forever."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1000)
    serve(server)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5656)
