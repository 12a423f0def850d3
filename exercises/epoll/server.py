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
    # TODO(task 1): create the socket, bind ('127.0.0.1', port), listen(backlog >= 200), setblocking(False).
    raise NotImplementedError("task 1")


def accept(server: socket.socket, selector: selectors.BaseSelector) -> None:
    """The listening socket is readable: a client is waiting. Accept it and watch it for data."""
    # TODO(task 2): accept one connection, make it non-blocking, register it for EVENT_READ with `read` as data.
    raise NotImplementedError("task 2")


# What send() has not taken yet, for each connection whose client reads more slowly than it sends.
outbox: dict[socket.socket, bytes] = {}


def read(conn: socket.socket, selector: selectors.BaseSelector) -> None:
    """A client's socket is readable: echo what arrived, or, if the client has gone, forget and close it."""
    # TODO(task 3): recv(1024) once; put the data in outbox[conn] and call write(); on b'' unregister conn
    #               first, then close it.
    raise NotImplementedError("task 3")


def write(conn: socket.socket, selector: selectors.BaseSelector) -> None:
    """Send what waits in outbox[conn]; what send() does not take now waits for the next write event."""
    # TODO(task 3): send() once (BlockingIOError: it took nothing); keep the rest in outbox[conn] and
    #               modify the registration to EVENT_WRITE with `write`; all sent: back to EVENT_READ with `read`.
    raise NotImplementedError("task 3")


def serve_forever(server: socket.socket, selector: selectors.BaseSelector) -> None:
    """Register the listening socket with `accept`, then dispatch ready sockets to their callbacks forever."""
    # TODO(task 4): register server for EVENT_READ with `accept` as data; then loop forever over
    #               selector.select(), calling key.data(key.fileobj, selector) for each ready key.
    raise NotImplementedError("task 4")


def main(port: int = 7634) -> None:
    """Serve on `port` until Ctrl+C."""
    with create_listener(port) as server, selectors.DefaultSelector() as selector:
        print(f"echo server on 127.0.0.1:{port}; stop it with Ctrl+C")
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(server, selector)


if __name__ == "__main__":
    main()
