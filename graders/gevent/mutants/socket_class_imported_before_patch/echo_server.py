"""The outline's gevent echo server: a greenlet for each client, and every client served in one thread.

Run it as a program with `python echo_server.py [PORT]` (default 5656) and talk to it with `nc 127.0.0.1 5656`.
"""

import sys
from socket import SO_REUSEADDR, SOL_SOCKET, socket

import gevent
from gevent import monkey

if __name__ == "__main__":
    monkey.patch_all()


def worker(sock: socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close the socket too."""
    while True:
        recvData = sock.recv(1024)
        if recvData:
            sock.sendall(recvData)
        else:
            sock.close()
            break


def serve(server: socket) -> None:
    """Accept clients forever on the listening socket `server`, each served by worker() in a greenlet of its own."""
    while True:
        sock, _addr = server.accept()
        gevent.spawn(worker, sock)


def main(port: int = 5656) -> None:
    """The program: listen on 127.0.0.1:port and serve forever."""
    server = socket()
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1000)
    serve(server)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5656)
