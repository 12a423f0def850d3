"""The outline's gevent echo server: a greenlet for each client, and every client served in one thread.

Run it as a program with `python echo_server.py [PORT]` (default 5656) and talk to it with `nc 127.0.0.1 5656`.
"""

import socket
import sys
import threading


def worker(sock: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close the socket too."""
    while True:
        recvData = sock.recv(1024)
        if recvData:
            sock.sendall(recvData)
        else:
            sock.close()
            break


def serve(server: socket.socket) -> None:
    """Accept clients forever on the listening socket `server`, each served by worker() in a greenlet of its own."""
    while True:
        sock, _addr = server.accept()
        threading.Thread(target=worker, args=(sock,)).start()


def main(port: int = 5656) -> None:
    """The program: listen on 127.0.0.1:port and serve forever."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1000)
    serve(server)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5656)
