"""The outline's non-blocking echo server: one thread, one loop, every client polled in turn."""

import socket


def make_server(port: int) -> socket.socket:
    """A non-blocking TCP socket listening on 127.0.0.1:`port`, with room for 200 connections waiting at once."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1000)  # connections beyond the backlog are refused until the loop accepts some
    server.setblocking(False)
    return server


def accept_clients(server: socket.socket, conn_list: list[socket.socket]) -> None:
    """Accept every connection waiting on `server`, make it non-blocking and append it to `conn_list`.

    Returns at once when no connection is waiting: accept() then raises BlockingIOError.
    """
    while True:
        try:
            conn, _address = server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)  # a blocking recv() on one silent client would stop the whole loop
        conn_list.append(conn)


def read_clients(conn_list: list[socket.socket], outbox: dict[socket.socket, bytearray]) -> None:
    """One pass over every client: what it has sent goes to the end of outbox[conn], to be echoed.

    A client that has sent nothing yet is skipped. A client whose recv() returns b'' has left: remove it from
    `conn_list` and from `outbox`, and close it.
    """
    for conn in conn_list[:]:  # a copy: removing from the list being iterated would skip the next client
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            continue
        if data:
            outbox.setdefault(conn, bytearray()).extend(data)
        else:
            conn_list.remove(conn)
            outbox.pop(conn, None)
            conn.close()


def send_pending(conn: socket.socket, outbox: dict[socket.socket, bytearray]) -> None:
    """Send as much of outbox[conn] as `conn` takes right now; keep the rest there for the next pass."""
    pending = outbox.get(conn)
    if not pending:
        return
    sent = conn.send(pending)
    del pending[:sent]


def serve(server: socket.socket) -> None:
    """Serve every client of the non-blocking listening socket `server` at once, in this one thread, forever."""
    conn_list: list[socket.socket] = []
    outbox: dict[socket.socket, bytearray] = {}
    while True:
        accept_clients(server, conn_list)
        read_clients(conn_list, outbox)
        for conn in conn_list:
            send_pending(conn, outbox)
