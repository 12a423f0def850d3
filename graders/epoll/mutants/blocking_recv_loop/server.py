"""The outline's epoll echo server: one thread, one selector, and a callback for every socket.

The operating system watches every socket for us; `selector.select()` returns only those that are ready,
and each registered socket carries the function to call when it is (the `data` of its registration).
Nothing here ever waits on one particular client, so one thread serves hundreds of them.

Try it: `python exercises/epoll/server.py`, then connect with the outline's client or `nc 127.0.0.1 7634`.
"""

import contextlib
import selectors
import socket


def create_listener(port: int) -> socket.socket:
    """A TCP socket listening on ('127.0.0.1', port) with a backlog of at least 200, in non-blocking mode.

    Non-blocking, so that a call on it can never stall the one thread that serves everybody.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after Ctrl+C
    server.bind(("127.0.0.1", port))
    server.listen(1000)  # clients that connect in a burst wait here until the loop gets round to them
    server.setblocking(False)
    return server


def accept(server: socket.socket, selector: selectors.BaseSelector) -> None:
    """The listening socket is readable: a client is waiting. Accept it and watch it for data."""
    conn, _address = server.accept()
    selector.register(conn, selectors.EVENT_READ, read)


def read(conn: socket.socket, selector: selectors.BaseSelector) -> None:
    """A client's socket is readable: echo what arrived, or, if the client has gone, forget and close it."""
    while data := conn.recv(1024):
        conn.sendall(data)
    selector.unregister(conn)
    conn.close()


def serve_forever(server: socket.socket, selector: selectors.BaseSelector) -> None:
    """Register the listening socket with `accept`, then dispatch ready sockets to their callbacks forever."""
    selector.register(server, selectors.EVENT_READ, accept)
    while True:
        for key, _mask in selector.select():
            key.data(key.fileobj, selector)


def main(port: int = 7634) -> None:
    """Serve on `port` until Ctrl+C."""
    with create_listener(port) as server, selectors.DefaultSelector() as selector:
        print(f"echo server on 127.0.0.1:{port}; stop it with Ctrl+C")
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(server, selector)


if __name__ == "__main__":
    main()
