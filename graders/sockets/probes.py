"""Probes for the sockets topic: they run in the worker, next to the student's server.py, client.py and udp.py."""

from __future__ import annotations

import errno
import importlib
import random
import socket
import time
import traceback
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, describe, in_background, is_student_file, student_module

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
        raise StudentMistake(say(
            f"make_server() should return a socket.socket; it returned {type(server).__name__}",
            f"make_server() 应当返回一个 socket.socket；它返回的是 {type(server).__name__}",
        ))
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
        raise StudentMistake(say(
            f"echo() should return the reply as bytes; it returned {type(reply).__name__}",
            f"echo() 应当以 bytes 返回回复；它返回的是 {type(reply).__name__}",
        ))
    return {"reply": bytes(reply), "elapsed": time.monotonic() - started}


# -- task 5 ----------------------------------------------------------------------------------------------------

_udp: dict[str, Any] = {}  # the student's UDP server socket, its thread and how that thread ended


def _connectionless_mistake(error: BaseException) -> StudentMistake | None:
    """The explanation of listen() or accept() called on a UDP socket: both fail at once, EOPNOTSUPP."""
    if not isinstance(error, OSError) or error.errno != errno.EOPNOTSUPP:
        return None
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if is_student_file(frame.filename)]
    line = frames[-1].line if frames else ""
    call = next(
        (name for name in ("listen", "accept") if f"{name}(" in (line or "")),
        say("listen() or accept", "listen() 或 accept"),
    )
    facts = describe(error)
    return StudentMistake(say(
        f"{call}() on the UDP socket failed at once with {type(error).__name__}: {error} "
        f"({facts['function']}, {facts['file']}:{facts['line']}). UDP has no connections, so there is nothing to "
        "listen() for or accept(): bind the socket, and recvfrom() hands you each datagram together with the "
        "address of the client that sent it",
        f"在 UDP 套接字上调用 {call}() 立即失败了：{type(error).__name__}: {error}"
        f"（{facts['function']}，{facts['file']}:{facts['line']}）。UDP 没有连接，所以没有什么要 listen() 或 "
        "accept() 的：bind 这个套接字即可，recvfrom() 会把每个数据报连同发送它的客户端的地址一起交给你",
    ))


def make_udp(port: int) -> dict:
    """Call make_udp_server(port) and keep the socket for start_udp(); describe what it made."""
    make = student_module("udp").make_udp_server
    try:
        server = make(port)
    except OSError as error:
        mistake = _connectionless_mistake(error)
        if mistake is None:
            raise
        raise mistake from None
    if not isinstance(server, socket.socket):
        raise StudentMistake(say(
            f"make_udp_server() should return a socket.socket; it returned {type(server).__name__}",
            f"make_udp_server() 应当返回一个 socket.socket；它返回的是 {type(server).__name__}",
        ))
    _udp["server"] = server
    address = server.getsockname()
    return {
        "family": server.family.name,
        "type": server.type.name,
        "address": list(address) if isinstance(address, tuple) else address,
    }


def _serve_udp() -> None:
    try:
        student_module("udp").serve_udp(_udp["server"])
    except BaseException as error:  # reported by the next probe, explained
        _udp["error"] = error
    else:
        _udp["error"] = None


def start_udp() -> bool:
    """Run serve_udp on the socket make_udp() kept, in a background thread."""
    student_module("udp").serve_udp  # noqa: B018  (a missing serve_udp() is reported now, not in the thread)
    _udp["thread"] = in_background(_serve_udp, name="student-udp-server")
    _udp["thread"].join(0.05)  # a serve_udp() that fails at once (accept() on UDP) is reported now
    return udp_state()


def udp_state() -> bool:
    """True while serve_udp runs; an explanation of why it stopped, once it has."""
    thread = _udp.get("thread")
    if thread is None or thread.is_alive():
        return True
    error = _udp.get("error")
    if error is None:
        raise StudentMistake(say(
            "serve_udp() returned, so nobody answers the clients any more: receive and answer datagrams forever, "
            "in a `while True` loop",
            "serve_udp() 返回了，于是再也没有人回复客户端：要在 `while True` 循环里不停地接收并回复数据报",
        ))
    mistake = _connectionless_mistake(error)
    if mistake is not None:
        raise mistake
    raise error


# -- task 6 ----------------------------------------------------------------------------------------------------


def call_udp_echo(port: int, seed: int, size: int, timeout: float, tries: int) -> dict:
    """Call the student's udp_echo() against the grader's UDP server on `port`; report what came back."""
    udp_echo = student_module("udp").udp_echo
    message = random_message(seed, size)
    started = time.monotonic()
    try:
        reply = udp_echo(("127.0.0.1", port), message, timeout=timeout, tries=tries)
    except OSError as error:  # the grader judges which one: TimeoutError is the right one when nothing came
        return {
            "raised": f"{type(error).__name__}: {error}",
            "timeout_error": isinstance(error, TimeoutError),
            "elapsed": time.monotonic() - started,
        }
    if not isinstance(reply, (bytes, bytearray)):
        raise StudentMistake(say(
            f"udp_echo() should return the reply as bytes; it returned {type(reply).__name__}",
            f"udp_echo() 应当以 bytes 返回回复；它返回的是 {type(reply).__name__}",
        ))
    return {"reply": bytes(reply), "elapsed": time.monotonic() - started}
