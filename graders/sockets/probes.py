"""Probes for the sockets topic: they run in the worker, next to the student's server.py and client.py."""

from __future__ import annotations

import importlib
import random
import socket
import time

from graders.harness.core.probing import StudentMistake, in_background, student_module

_real_send = socket.socket.send
_kept: list[socket.socket] = []  # listening sockets the probes opened: alive until the worker ends
_handled: list[dict] = []  # what happened to each connection given to the student's handle()


def _limit_send(most: int) -> None:
    """Make send() on every socket of this process take at most `most` bytes, as a busy network may.

    Linux's blocking send() usually takes everything at once, so a missing send loop would go unnoticed
    here and fail later on a real network. sendall() is not affected: it loops in C until all is sent.
    """

    def send(self: socket.socket, data, flags: int = 0) -> int:
        return _real_send(self, memoryview(data)[:most], flags)

    socket.socket.send = send


# -- task 1 ----------------------------------------------------------------------------------------------------


def make_and_restart(port: int) -> dict:
    """make_server(port) twice, the second time while a closed connection of the port is in TIME_WAIT."""
    server = student_module("server").make_server(port)
    if not isinstance(server, socket.socket):
        raise StudentMistake(f"make_server() should return a socket.socket; it returned {type(server).__name__}")
    facts = {
        "family": server.family.name,
        "type": server.type.name,
        "address": list(server.getsockname()),
        "listening": bool(server.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)),
        "restart_error": None,
    }
    if not facts["listening"] or facts["family"] != "AF_INET":
        server.close()
        return facts
    server.settimeout(2)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
        conn, _ = server.accept()
        conn.close()  # the server closes first, so its end of this connection goes to TIME_WAIT
        client.recv(1)
    server.close()
    time.sleep(0.05)
    try:
        again = student_module("server").make_server(port)
    except OSError as error:
        facts["restart_error"] = f"{type(error).__name__}: {error}"
    else:
        again.close()
    return facts


# -- task 2 ----------------------------------------------------------------------------------------------------


def _accept_for_handle(listener: socket.socket) -> None:
    handle = student_module("server").handle
    while True:
        conn, _ = listener.accept()
        record = {"returned": False, "closed": False}
        _handled.append(record)
        handle(conn)
        record["returned"] = True
        record["closed"] = conn.fileno() == -1


def start_handler(port: int, send_limit: int) -> None:
    """Accept connections on `port` one after another and pass each to the student's handle()."""
    student_module("server").handle  # noqa: B018  (a missing handle() is reported now, not in the thread)
    _limit_send(send_limit)
    listener = socket.create_server(("127.0.0.1", port), backlog=10)
    _kept.append(listener)
    in_background(_accept_for_handle, listener)


def handled(wait: float) -> dict | None:
    """What became of the last connection handed to handle(), waiting up to `wait` s for handle() to return."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _handled and not _handled[-1]["returned"]:
        time.sleep(0.01)
    return dict(_handled[-1]) if _handled else None


# -- task 3 ----------------------------------------------------------------------------------------------------


def _grader_handle(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def start_serve(port: int) -> None:
    """Run the student's serve() on a listening socket on `port`, with the grader's own handle().

    serve() is graded on its own: the grader's handle() stands in for the student's, so a mistake in
    task 2 does not fail task 3 as well.
    """
    module = importlib.import_module("server")
    serve = student_module("server").serve
    module.handle = _grader_handle
    listener = socket.create_server(("127.0.0.1", port), backlog=10)
    _kept.append(listener)
    in_background(serve, listener).join(0.05)  # a serve() that raises at once is reported now, not after timeouts


def still_running() -> bool:
    """A no-op call: the harness reports here a student thread that crashed since the last call."""
    return True


# -- task 4 ----------------------------------------------------------------------------------------------------


def random_message(seed: int, size: int) -> bytes:
    """The random message of a test, made on both sides from its seed: a megabyte is not sent to the worker."""
    return random.Random(seed).randbytes(size)


def call_echo(port: int, seed: int, size: int, send_limit: int) -> dict:
    """Call the student's echo() against the grader's server on `port`; report what came back."""
    echo = student_module("client").echo
    message = random_message(seed, size)
    _limit_send(send_limit)
    started = time.monotonic()
    try:
        reply = echo(("127.0.0.1", port), message)
    except OSError as error:
        return {
            "raised": f"{type(error).__name__}: {error}",
            "connection_error": isinstance(error, ConnectionError),
            "elapsed": time.monotonic() - started,
        }
    if not isinstance(reply, (bytes, bytearray)):
        raise StudentMistake(f"echo() should return the reply as bytes; it returned {type(reply).__name__}")
    return {"reply": bytes(reply), "elapsed": time.monotonic() - started}
