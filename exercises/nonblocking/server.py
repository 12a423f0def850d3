"""The outline's non-blocking echo server: one thread, one loop, every client polled in turn."""

import socket


def make_server(port: int) -> socket.socket:
    """A non-blocking TCP socket listening on 127.0.0.1:`port`, with room for 200 connections waiting at once."""
    # TODO(task 1): bind to ("127.0.0.1", port), listen with a backlog of at least 200, then setblocking(False).
    raise NotImplementedError("task 1")


def accept_clients(server: socket.socket, conn_list: list[socket.socket]) -> None:
    """Accept every connection waiting on `server`, make it non-blocking and append it to `conn_list`.

    Returns at once when no connection is waiting: accept() then raises BlockingIOError.
    """
    # TODO(task 2): accept until BlockingIOError; setblocking(False) on each new conn and append it.
    raise NotImplementedError("task 2")


def read_clients(conn_list: list[socket.socket], outbox: dict[socket.socket, bytearray]) -> None:
    """One pass over every client: what it has sent goes to the end of outbox[conn], to be echoed.

    A client that has sent nothing yet is skipped. A client whose recv() returns b'' has left: remove it from
    `conn_list` and from `outbox`, and close it.
    """
    # TODO(task 3): recv once from each conn; BlockingIOError means nothing yet; b'' means drop and close.
    raise NotImplementedError("task 3")


def send_pending(conn: socket.socket, outbox: dict[socket.socket, bytearray]) -> None:
    """Send as much of outbox[conn] as `conn` takes right now; keep the rest there for the next pass."""
    # TODO(task 4): send() what is waiting and delete from the outbox only the bytes send() says it sent.
    raise NotImplementedError("task 4")


def serve(server: socket.socket) -> None:
    """Serve every client of the non-blocking listening socket `server` at once, in this one thread, forever."""
    # TODO(task 5): loop forever: accept_clients, read_clients, then send_pending for every client.
    raise NotImplementedError("task 5")
