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
    conn.setblocking(False)  # accept() does not pass the listener's non-blocking mode on
    selector.register(conn, selectors.EVENT_READ, read)


# What send() has not taken yet, for each connection whose client reads more slowly than it sends.
outbox: dict[socket.socket, bytes] = {}


def read(conn: socket.socket, selector: selectors.BaseSelector) -> None:
    """A client's socket is readable: echo what arrived, or, if the client has gone, forget and close it."""
    data = conn.recv(1024)  # once: a second recv would fail with BlockingIOError when nothing more has come
    if data:
        outbox[conn] = data
        write(conn, selector)
    else:
        outbox.pop(conn, None)
        selector.unregister(conn)  # while conn still has its file descriptor
        conn.close()


def write(conn: socket.socket, selector: selectors.BaseSelector) -> None:
    """Send what waits in outbox[conn]; what send() does not take now waits for the next write event."""
    try:
        sent = conn.send(outbox[conn])  # never sendall on a non-blocking socket: it cannot say how much it sent
    except BlockingIOError:
        sent = 0
    rest = outbox.pop(conn)[sent:]
    if rest:
        outbox[conn] = rest
        # Stop reading from this client until it has taken its echo: wake up when the socket can take more.
        selector.modify(conn, selectors.EVENT_WRITE, write)
    else:
        selector.modify(conn, selectors.EVENT_READ, read)


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
