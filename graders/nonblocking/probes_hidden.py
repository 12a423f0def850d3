"""Probes of the hidden nonblocking graders: serve() driven by 200 real clients, with correct helpers.

Kept out of students' repositories (a *_hidden.py file): the helpers below are answers to tasks 2 to 4.
"""

from __future__ import annotations

import importlib
import socket

from graders.harness.core.probing import in_background, student_module
from graders.nonblocking.probes import SMALL_BUFFER, _kept


def _accept_clients(server: socket.socket, conn_list: list[socket.socket]) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn_list.append(conn)


def _read_clients(conn_list: list[socket.socket], outbox: dict) -> None:
    for conn in conn_list[:]:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            continue
        except ConnectionError:
            data = b""
        if data:
            outbox.setdefault(conn, bytearray()).extend(data)
        else:
            conn_list.remove(conn)
            outbox.pop(conn, None)
            conn.close()


def _send_pending(conn: socket.socket, outbox: dict) -> None:
    pending = outbox.get(conn)
    if not pending:
        return
    try:
        sent = conn.send(pending)
    except (BlockingIOError, ConnectionError):
        return
    del pending[:sent]


def start_serve(port: int) -> dict:
    """Run the student's serve() on a non-blocking listening socket on `port`, with the grader's helpers.

    serve() is graded on its own: correct accept_clients, read_clients and send_pending stand in for the
    student's, so a mistake in tasks 2 to 4 does not fail task 5 as well. The listening socket's small send
    buffer, which accepted sockets inherit, makes a client that does not read fill it quickly. The grader
    counts the worker's threads and open files from outside, in /proc.
    """
    module = importlib.import_module("server")
    serve = student_module("server").serve
    module.accept_clients, module.read_clients, module.send_pending = _accept_clients, _read_clients, _send_pending
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    listener.bind(("127.0.0.1", port))
    listener.listen(1000)
    listener.setblocking(False)
    _kept.append(listener)
    thread = in_background(serve, listener)
    thread.join(0.05)  # a serve() that raises at once (the untouched stub) is reported now, not after timeouts
    return True
