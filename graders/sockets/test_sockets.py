"""Grades exercises/sockets: the listening socket, handle() for any message, the accept loop, the client."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from pathlib import Path

import pytest

from graders.harness.core.network import exchange, free_port
from graders.harness.core.student import TimedOut
from graders.sockets import probes

# send() in the worker takes at most this many bytes per call: a forgotten send loop loses data every time.
SERVER_SEND_LIMIT = 1000
CLIENT_SEND_LIMIT = 65536
MEGABYTE = 1 << 20


def _unread(local_port: int, remote_port: int) -> int | None:
    """Bytes that the loopback socket (local_port -> remote_port) has received but its program has not read;
    None where /proc/net/tcp does not exist."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    local, remote = f":{local_port:04X}", f":{remote_port:04X}"
    for line in text.splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(local) and fields[2].endswith(remote):
            return int(fields[4].split(":")[1], 16)
    return 0


def _wait_until_read(local_port: int, remote_port: int, limit: float = 1.0) -> None:
    """Wait until the program at the other end has read everything sent so far (or has gone), so that what
    is sent next arrives separately however busy the machine is. Without /proc, wait a little instead."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        unread = _unread(local_port, remote_port)
        if unread is None:
            time.sleep(0.05)
            return
        if unread == 0:
            return
        time.sleep(0.005)


def _pieces(data: bytes, largest: int) -> list[bytes]:
    pieces, start = [], 0
    while start < len(data):
        size = random.randint(1, largest)
        pieces.append(data[start : start + size])
        start += size
    return pieces


def _read_to_end(client: socket.socket, into: bytearray) -> str:
    """Read until the server closes: "closed", "reset", or "silent" when nothing came for the timeout."""
    try:
        while chunk := client.recv(65536):
            into += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return "closed"


def _crashed(student) -> None:
    """Fail with the student's crashed thread, if one crashed (the harness reports it on the next call)."""
    student.run(probes.still_running)


# -- task 1 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_make_server_listens_on_loopback_and_can_restart_at_once(student):
    port = free_port()
    facts = student.run(probes.make_and_restart, port)
    assert facts["family"] == "AF_INET" and facts["type"] == "SOCK_STREAM", (
        f"make_server() returned a {facts['family']} {facts['type']} socket; a TCP server over IPv4 needs "
        "socket.socket(socket.AF_INET, socket.SOCK_STREAM)"
    )
    assert facts["address"] == ["127.0.0.1", port], (
        f"make_server({port}) is bound to {tuple(facts['address'])}; expected ('127.0.0.1', {port}): "
        "bind to the loopback address, so only programs on this machine can connect"
    )
    assert facts["listening"], f"make_server({port}) returned a socket that does not listen: call listen() on it"
    assert facts["restart_error"] is None, (
        f"the second make_server({port}) failed with {facts['restart_error']}: the first server's connection "
        "is still in TIME_WAIT on that port. Set SO_REUSEADDR before bind(): "
        "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"
    )


# -- task 2 ----------------------------------------------------------------------------------------------------


def _judge_echo(student, message: bytes, received: bytearray, ending: str, how_sent: str) -> None:
    """The messages for an echo that went wrong, most basic cause first."""
    got = compare(bytes(received), message)
    if not got["equal"]:
        _crashed(student)
        if not got["prefix"]:
            pytest.fail(
                f"the echo differs from the message from byte {got['first_difference']} on ({len(received)} of "
                f"{len(message)} bytes came back): send() may send only part of what you give it and returns how "
                "much it sent; use conn.sendall(data), which repeats until everything is sent",
                pytrace=False,
            )
        if ending == "silent":
            then = f"then sent nothing more for 1.5 s ({student.where()})"
        else:
            then = f"then {ending} the connection"
        pytest.fail(
            f"the server sent back only the first {len(received)} of {len(message)} bytes and {then}. The message "
            f"{how_sent}, and recv() returns only what has arrived so far: call recv() in a loop until it returns "
            "b''",
            pytrace=False,
        )
    if ending != "closed":
        pytest.fail(
            f"the server echoed all {len(message)} bytes but did not close the connection within 1.5 s after the "
            "client closed its side: when recv() returns b'' the client has gone; leave the loop and close conn "
            f"({student.where()})",
            pytrace=False,
        )
    record = student.run(probes.handled, 1.0)
    assert record and record["returned"], (
        f"the connection is closed, but handle() has not returned: {student.where()}"
    )
    assert record["closed"], "handle() returned without closing conn: call conn.close() (or use `with conn:`)"


@pytest.mark.task(2)
def test_handle_echoes_a_message_that_arrives_in_small_pieces(student):
    port = free_port()
    student.run(probes.start_handler, port, SERVER_SEND_LIMIT)
    message = random.randbytes(random.randint(1500, 3000))
    pieces = _pieces(message, 300)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=1.5) as client:
        me = client.getsockname()[1]
        try:
            for number, piece in enumerate(pieces):
                client.sendall(piece)
                if number == 0:
                    _wait_until_read(port, me)
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server has gone already; what came back tells why
        ending = _read_to_end(client, received)
    _judge_echo(student, message, received, ending, f"was sent in {len(pieces)} pieces")


@pytest.mark.task(2)
def test_handle_echoes_a_megabyte(student):
    port = free_port()
    student.run(probes.start_handler, port, SERVER_SEND_LIMIT)
    message = random.randbytes(MEGABYTE)
    received = bytearray()

    def send_everything(client: socket.socket) -> None:
        try:
            client.sendall(message)
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    with socket.create_connection(("127.0.0.1", port), timeout=1.5) as client:
        # Send and read at once: the server echoes while the megabyte is still coming in.
        sender = threading.Thread(target=send_everything, args=(client,), daemon=True)
        sender.start()
        ending = _read_to_end(client, received)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)  # unblocks the sender if the server stopped reading
        sender.join(2)
    _judge_echo(student, message, received, ending, "was a megabyte, far more than one recv() returns")


# -- task 3 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_serve_serves_clients_one_after_another(student):
    port = free_port()
    student.run(probes.start_serve, port)
    messages = [f"client {n} says {random.randbytes(8).hex()}".encode() for n in (1, 2, 3)]
    first = socket.create_connection(("127.0.0.1", port), timeout=1.5)
    second = None
    try:
        got = exchange(first, messages[0])
        if got != messages[0]:
            _crashed(student)
            pytest.fail(
                f"the first client got no echo ({got}): serve() should accept() a connection and pass it to "
                f"handle() ({student.where()})",
                pytrace=False,
            )
        second = socket.create_connection(("127.0.0.1", port), timeout=1.5)
        second.sendall(messages[1])
        first.close()
        received = bytearray()
        ending = _read_until(second, received, len(messages[1]))
        if bytes(received) != messages[1]:
            _crashed(student)
            why = {
                "reset": "its connection was reset: was the listening socket closed after the first client?",
                "closed": "its connection was closed without an echo",
                "silent": "nothing came within 1.5 s",
            }[ending]
            pytest.fail(
                "a second client connected while the first was being served; once the first left, it got no echo: "
                f"{why}. After handle() returns, serve() must go back to accept() for the next client "
                f"({_serve_where(student)})",
                pytrace=False,
            )
        second.close()
        with socket.create_connection(("127.0.0.1", port), timeout=1.5) as third:
            got = exchange(third, messages[2])
        if got != messages[2]:
            _crashed(student)
            pytest.fail(
                f"a third client, after the first two had left, got no echo ({got}): serve() must accept clients "
                f"forever ({_serve_where(student)})",
                pytrace=False,
            )
    finally:
        first.close()
        if second is not None:
            second.close()


def _serve_where(student) -> str:
    where = student.where()
    return "serve() has returned" if where == "no thread was running your code" else where


def _read_until(client: socket.socket, into: bytearray, size: int) -> str:
    try:
        while len(into) < size:
            chunk = client.recv(65536)
            if not chunk:
                return "closed"
            into += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return "done"


# -- task 4 ----------------------------------------------------------------------------------------------------


class ReplyServer(threading.Thread):
    """The grader's echo server for the student's client: it reads the whole message, then replies in small
    pieces (the second only once the client has read the first), and keeps the connection open
    until the client closes it. With `reply_only`, it sends that many bytes of the reply and hangs up."""

    def __init__(self, size: int, largest_piece: int, reply_only: int | None = None) -> None:
        super().__init__(name="grader-echo-server", daemon=True)
        self.size = size
        self.largest_piece = largest_piece
        self.reply_only = reply_only
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # short waits, so that stop() ends the thread at once
        self.stopping = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.connected = False
        self.received = 0
        self.replied = False

    def run(self) -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                conn, (_, client_port) = self.listener.accept()
                break
            except TimeoutError:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    return
            except OSError:
                return
        self.conn, self.connected = conn, True
        with conn:
            conn.settimeout(1)
            message = bytearray()
            try:
                while len(message) < self.size and (chunk := conn.recv(65536)):
                    message += chunk
            except OSError:
                pass
            self.received = len(message)
            if len(message) < self.size:
                return
            reply = bytes(message[: self.reply_only or self.size])
            try:
                for number, piece in enumerate(_pieces(reply, self.largest_piece)):
                    conn.sendall(piece)
                    if number == 0:
                        _wait_until_read(client_port, self.port)
                self.replied = True
                if self.reply_only is None:
                    conn.settimeout(3)
                    conn.recv(1)
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        self.join(0.2)  # accept() wakes up every 0.05 s to see this
        self.listener.close()
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.shutdown(socket.SHUT_RDWR)
        self.join(2)


def compare(reply: bytes, message: bytes) -> dict:
    equal = reply == message
    prefix = equal or message.startswith(reply)
    first_difference = None
    if not prefix:
        pairs = enumerate(zip(reply, message, strict=False))
        first_difference = next((i for i, (a, b) in pairs if a != b), min(len(reply), len(message)))
    return {"equal": equal, "prefix": prefix, "first_difference": first_difference}


def _run_echo(student, server: ReplyServer, seed: int, timeout: float) -> dict:
    student.run(probes.still_running)  # the worker is up before the server starts waiting for it
    server.start()
    try:
        got = student.run(probes.call_echo, server.port, seed, server.size, CLIENT_SEND_LIMIT, timeout=timeout)
    except TimedOut as error:
        return {"stuck": error.message}
    finally:
        server.stop()
    if "reply" in got:  # compared here: the worker only hands back what echo() returned
        reply = got.pop("reply")
        got.update(length=len(reply), **compare(reply, probes.random_message(seed, server.size)))
    return got


def _judge_reply(server: ReplyServer, message: bytes, got: dict) -> None:
    size = len(message)
    if "stuck" not in got:
        assert server.connected, (
            f"the server at ('127.0.0.1', {server.port}) saw no connection from echo()"
            + (f"; echo() raised {got['raised']}" if "raised" in got else "")
            + ": connect to the address it is given"
        )
    assert server.received == size, (
        f"the server received only {server.received} of the {size} bytes of your message: send() sends only "
        "what fits at that moment and returns how many bytes that was; use sendall(), which repeats until "
        "everything is sent"
    )
    if "stuck" in got:
        pytest.fail(
            "the server sent the whole reply, but echo() did not return"
            + (": it kept waiting for more. Stop reading once len(message) bytes have arrived; an echo server "
               "does not close first" if server.replied else "")
            + f" ({got['stuck']})",
            pytrace=False,
        )
    assert "raised" not in got, f"echo() raised {got.get('raised')}, although the server sent the whole reply"
    assert got["prefix"], (
        f"echo() returned {got['length']} bytes that differ from the message from byte {got['first_difference']} "
        "on: return exactly the bytes that recv() gave you, in order"
    )
    assert got["equal"], (
        f"echo() returned {got['length']} of the {size} bytes of the reply: it arrives in pieces, and one recv() "
        "returns only what has arrived so far. Call recv() in a loop until len(message) bytes have come back"
    )


@pytest.mark.task(4)
def test_echo_reads_a_reply_that_arrives_in_small_pieces(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, random.randint(2000, 4000))
    server = ReplyServer(len(message), largest_piece=400)
    got = _run_echo(student, server, seed, timeout=3)
    _judge_reply(server, message, got)


@pytest.mark.task(4)
def test_echo_sends_and_receives_a_megabyte(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, MEGABYTE)
    server = ReplyServer(len(message), largest_piece=32768)
    got = _run_echo(student, server, seed, timeout=4)
    _judge_reply(server, message, got)


@pytest.mark.task(4)
def test_echo_raises_connection_error_when_the_server_hangs_up_early(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, random.randint(3000, 5000))
    half = len(message) // 2
    server = ReplyServer(len(message), largest_piece=500, reply_only=half)
    got = _run_echo(student, server, seed, timeout=2)
    if "stuck" in got:
        pytest.fail(
            f"the server sent {half} of {len(message)} bytes and closed the connection, and echo() never returned: "
            "recv() returns b'' from then on, forever; raise ConnectionError when it does "
            f"({got['stuck']})",
            pytrace=False,
        )
    assert "raised" in got, (
        f"the server sent {half} of {len(message)} bytes and closed the connection, and echo() returned "
        f"{got.get('length')} bytes as if all was well: when recv() returns b'' the rest will never come; "
        "raise ConnectionError"
    )
    assert got["connection_error"], (
        f"the server closed the connection half-way and echo() raised {got['raised']}; raise ConnectionError "
        "as soon as recv() returns b''"
    )
