"""Probes for the nonblocking topic: they run in the worker, next to the student's server.py."""

from __future__ import annotations

import importlib
import random
import select
import socket
import threading
import time

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

_kept: list[socket.socket] = []  # sockets that must outlive the probe that opened them
SMALL_BUFFER = 32768  # makes a client that does not read fill the buffers after a few dozen kilobytes


def _listener(backlog: int = 64) -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
    listener.setblocking(False)
    return listener


def _connected_pairs(listener: socket.socket, count: int) -> list[tuple[socket.socket, socket.socket]]:
    """`count` (client, server-side conn) pairs over loopback, the conns accepted by the grader, non-blocking."""
    clients = [socket.create_connection(listener.getsockname(), timeout=2) for _ in range(count)]
    accepted = {}
    deadline = time.monotonic() + 2
    while len(accepted) < count and time.monotonic() < deadline:
        select.select([listener], [], [], 0.1)
        try:
            conn, address = listener.accept()
        except BlockingIOError:
            continue
        conn.setblocking(False)
        accepted[address] = conn
    return [(client, accepted[client.getsockname()]) for client in clients]


# -- task 1 ----------------------------------------------------------------------------------------------------


def make_listener(port: int) -> dict:
    server = student_module("server").make_server(port)
    if not isinstance(server, socket.socket):
        raise StudentMistake(say(
            f"make_server() should return a socket.socket; it returned {type(server).__name__}",
            f"make_server() 应当返回一个 socket.socket，它返回的却是 {type(server).__name__}",
        ))
    _kept.append(server)  # the grader now connects 200 clients to it
    return {
        "family": server.family.name,
        "type": server.type.name,
        "address": list(server.getsockname()),
        "listening": bool(server.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)),
        "blocking": server.getblocking(),
    }


# -- task 2 ----------------------------------------------------------------------------------------------------


def accept_trace(count: int) -> dict:
    """Call accept_clients() with nobody waiting, with `count` clients waiting, and with nobody again."""
    accept_clients = student_module("server").accept_clients
    with _listener() as listener:
        conn_list: list[socket.socket] = []
        facts: dict = {}
        for when in ("before", "waiting", "after"):
            if when == "waiting":
                clients = [socket.create_connection(listener.getsockname(), timeout=2) for _ in range(count)]
                facts["clients"] = sorted(list(client.getsockname()) for client in clients)
            started = time.monotonic()
            try:
                accept_clients(listener, conn_list)
            except BlockingIOError:
                raise StudentMistake(say(
                    f"accept_clients() let BlockingIOError escape ({'no' if when != 'waiting' else 'no more'} "
                    "client was waiting): on a non-blocking socket accept() raises it when nobody is waiting; "
                    "catch it and return",
                    f"accept_clients() 让 BlockingIOError 抛了出去（{'没有' if when != 'waiting' else '已经没有更多'}"
                    "客户端在等待）：没有客户端等待时，非阻塞套接字上的 accept() 会抛出它；捕获它，然后返回",
                )) from None
            facts[when] = {
                "elapsed": time.monotonic() - started,
                "count": len(conn_list),
                "blocking": sum(1 for conn in conn_list if isinstance(conn, socket.socket) and conn.getblocking()),
                "peers": sorted(list(conn.getpeername()) for conn in conn_list if isinstance(conn, socket.socket)),
                "types": sorted({type(conn).__name__ for conn in conn_list}),
                "still_waiting": bool(select.select([listener], [], [], 0)[0]),  # connections not accepted
            }
        for sock in [*clients, *(conn for conn in conn_list if isinstance(conn, socket.socket))]:
            sock.close()
    return facts


# -- task 3 ----------------------------------------------------------------------------------------------------


def _wait_readable(conns: list[socket.socket]) -> None:
    """Wait until every conn has something to read (data or the client's close)."""
    waiting = list(conns)
    deadline = time.monotonic() + 2
    while waiting and time.monotonic() < deadline:
        ready, _, _ = select.select(waiting, [], [], 0.1)
        waiting = [conn for conn in waiting if conn not in ready]


def read_trace(seed: int, count: int) -> dict:
    """Two calls of read_clients() over `count` clients: one silent, one that talks and then leaves, the others
    talking. Nothing is echoed in between, so the outbox holds everything each client sent."""
    read_clients = student_module("server").read_clients
    rng = random.Random(seed)
    with _listener() as listener:
        pairs = _connected_pairs(listener, count)
        roles = ["talker"] * count
        silent = rng.randrange(count)
        leaving = rng.choice([i for i in range(count - 1) if i not in (silent, silent - 1)])
        roles[silent], roles[leaving] = "silent", "leaving"
        conn_list = [conn for _, conn in pairs]
        outbox: dict = {}
        sent: dict[int, bytes] = {}
        facts: dict = {"roles": roles, "passes": []}
        for number in (1, 2):
            for index, (client, _) in enumerate(pairs):
                if roles[index] == "talker" or (roles[index] == "leaving" and number == 1):
                    message = rng.randbytes(rng.randint(1, 1000))
                    client.sendall(message)
                    sent[index] = sent.get(index, b"") + message
                elif roles[index] == "leaving":  # it said something first, so it has an entry in outbox
                    client.close()
            _wait_readable([conn for index, (_, conn) in enumerate(pairs) if roles[index] != "silent"
                            and conn.fileno() != -1])
            started = time.monotonic()
            try:
                read_clients(conn_list, outbox)
            except BlockingIOError:
                raise StudentMistake(say(
                    "read_clients() let BlockingIOError escape: recv() on a non-blocking socket raises it when the "
                    "client has sent nothing yet (like the silent client here); catch it and go on to the next client",
                    "read_clients() 让 BlockingIOError 抛了出去：客户端还没发送任何东西时"
                    "（比如这里那个不说话的客户端），非阻塞套接字上的 recv() 会抛出它；捕获它，继续处理下一个客户端",
                )) from None
            facts["passes"].append(
                {
                    "elapsed": time.monotonic() - started,
                    "in_list": [conn in conn_list for _, conn in pairs],
                    "closed": [conn.fileno() == -1 for _, conn in pairs],
                    "in_outbox": [conn in outbox for _, conn in pairs],
                    "outbox": [bytes(outbox.get(conn, b"")) == sent.get(index, b"") for index, (_, conn) in
                               enumerate(pairs)],
                    "outbox_sizes": [len(outbox.get(conn, b"")) for _, conn in pairs],
                    "sent_sizes": [len(sent.get(index, b"")) for index in range(count)],
                    "list_length": len(conn_list),
                }
            )
        for client, conn in pairs:
            client.close()
            conn.close()
    return facts


# -- task 4 ----------------------------------------------------------------------------------------------------


class _Watched(socket.socket):
    """A socket that counts the times send() could not take everything: proof the test made send block."""

    would_block = 0
    partial = 0

    def send(self, data, flags: int = 0) -> int:
        try:
            sent = super().send(data, flags)
        except BlockingIOError:
            self.would_block += 1
            raise
        if sent < len(data):
            self.partial += 1
        return sent


def _drain(client: socket.socket, into: bytearray) -> None:
    while True:
        try:
            chunk = client.recv(1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            return
        into += chunk


def send_trace(seed: int, size: int) -> dict:
    """send_pending() to a client that first reads nothing, then reads everything, one pass at a time."""
    send_pending = student_module("server").send_pending
    data = random.Random(seed).randbytes(size)
    with _listener() as listener:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        client.connect(listener.getsockname())
        select.select([listener], [], [], 2)
        raw, _ = listener.accept()
        conn = _Watched(fileno=raw.detach())
        conn.setblocking(False)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        outbox = {conn: bytearray(data)}
        received = bytearray()
        facts: dict = {"size": size}

        def call(phase: str, phase_zh: str) -> None:
            try:
                send_pending(conn, outbox)
            except BlockingIOError:
                raise StudentMistake(say(
                    f"send_pending() let BlockingIOError escape ({phase}): when the client does not read, the "
                    "buffers fill up and send() on a non-blocking socket raises it; leave the data in outbox[conn] "
                    "and return, the next pass will try again",
                    f"send_pending() 让 BlockingIOError 抛了出去（{phase_zh}）：客户端不读时，缓冲区会被填满，"
                    "非阻塞套接字上的 send() 就会抛出它；把数据留在 outbox[conn] 里然后返回，下一轮会再试",
                )) from None

        for _ in range(5):  # the client reads nothing yet: the buffers fill and send() must block
            call("the client was not reading", "客户端没有在读")
        client.setblocking(False)
        deadline = time.monotonic() + 3
        while len(outbox.get(conn, b"")) and len(received) <= size and time.monotonic() < deadline:
            _drain(client, received)
            call("the client was reading", "客户端在读")
            select.select([client], [], [], 0.05)
        quiet_since = time.monotonic()
        while len(received) < size and time.monotonic() - quiet_since < 0.2:  # what the kernel still holds
            before = len(received)
            select.select([client], [], [], 0.05)
            _drain(client, received)
            if len(received) > before:
                quiet_since = time.monotonic()
        facts["received"] = len(received)
        facts["left_in_outbox"] = len(outbox.get(conn, b""))
        facts["equal"] = bytes(received) == data
        facts["first_difference"] = None
        if not facts["equal"]:
            pairs = enumerate(zip(received, data, strict=False))
            facts["first_difference"] = next((i for i, (a, b) in pairs if a != b), min(len(received), size))
        facts["partial"] = conn.partial
        facts["would_block"] = conn.would_block
        client.close()
        conn.close()
    return facts


# -- task 5 ----------------------------------------------------------------------------------------------------


class _Enough(BaseException):
    """Ends the student's serve() after the scripted passes (a BaseException, so that `except Exception` lets it by)."""


class _Conn:
    """A stand-in for a client's socket in the scripted passes: serve() only hands it on, so a name is enough."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<client {self.name}>"

    def __getattr__(self, attribute: str):
        raise StudentMistake(say(
            f"serve() called conn.{attribute} itself; serve() reads and sends only through read_clients and "
            "send_pending, which keep what a client cannot take yet in outbox[conn]",
            f"serve() 自己调用了 conn.{attribute}；serve() 只应通过 read_clients 和 send_pending 读取和发送，"
            "它们会把客户端暂时收不下的数据留在 outbox[conn] 里",
        ))


# What happens in each pass of the script: clients that arrive, clients that send, clients that leave.
_SCRIPT = [
    {"arrive": ["A", "B"], "send": ["A"], "leave": []},
    {"arrive": ["C"], "send": ["B", "C"], "leave": []},
    {"arrive": [], "send": [], "leave": ["A"]},
    {"arrive": ["D", "E"], "send": ["E"], "leave": ["C"]},
    {"arrive": [], "send": ["D"], "leave": []},
]


def serve_wiring(limit: float) -> dict:
    """Run the student's serve() with stand-ins for accept_clients, read_clients and send_pending that play a script.

    serve() is graded on its own: the stand-ins do no network I/O at all, they record how serve() calls them
    (which list and dict it passes, in which order, for which clients), so a mistake in tasks 2 to 4 does not
    fail task 5 and no answer to those tasks is needed here. What serve() did can only be recorded in the
    worker, where it runs; the grader judges the record.
    """
    module = importlib.import_module("server")
    serve = student_module("server").serve
    log: list[list] = []
    clients: dict[str, _Conn] = {}
    passes = {"count": 0}

    def accept_clients(server, conn_list) -> None:
        if passes["count"] == len(_SCRIPT):
            raise _Enough
        step = _SCRIPT[passes["count"]]
        passes["count"] += 1
        log.append(["accept", id(conn_list), server is listener, isinstance(conn_list, list)])
        for name in step["arrive"]:
            clients[name] = _Conn(name)
            conn_list.append(clients[name])

    def read_clients(conn_list, outbox) -> None:
        if len(log) > 200:  # a loop that no longer calls accept_clients would go round forever
            raise _Enough
        step = _SCRIPT[max(passes["count"] - 1, 0)]
        for name in step["leave"]:
            if clients[name] in conn_list:
                conn_list.remove(clients[name])
            outbox.pop(clients[name], None)
        for name in step["send"]:
            if clients[name] in conn_list:
                outbox.setdefault(clients[name], bytearray()).extend(f"from {name}".encode())
        names = [getattr(conn, "name", repr(conn)) for conn in conn_list]
        waiting = [conn.name for conn, pending in outbox.items() if pending and isinstance(conn, _Conn)]
        log.append(["read", id(conn_list), id(outbox), names, waiting])

    def send_pending(conn, outbox) -> None:
        log.append(["send", getattr(conn, "name", repr(conn)), id(outbox)])
        pending = outbox.get(conn) if isinstance(outbox, dict) else None
        if pending:
            del pending[:]  # as if the client took everything

    module.accept_clients, module.read_clients, module.send_pending = accept_clients, read_clients, send_pending
    listener = _listener()
    _kept.append(listener)
    ended: dict = {"returned": False, "error": None}

    def run() -> None:
        try:
            serve(listener)
            ended["returned"] = True
        except _Enough:
            pass

    thread = threading.Thread(target=run, name="student-server", daemon=True)
    thread.start()
    thread.join(limit)
    return {"log": log, "finished": not thread.is_alive(), "returned": ended["returned"], "passes": len(_SCRIPT)}


def still_running() -> bool:
    """A no-op call: the harness reports here a student thread that crashed since the last call."""
    return True
