"""Grades exercises/nonblocking: the listening socket, accepting, reading, sending, and the one-thread loop."""

from __future__ import annotations

import contextlib
import random
import selectors
import socket
import threading
import time

import pytest

from graders.harness.core.network import free_port
from graders.harness.core.probing import thread_count
from graders.nonblocking import probes

CLIENTS = 200


def _crashed(student) -> None:
    """Fail with the student's crashed thread, if one crashed (the harness reports it on the next call)."""
    student.run(probes.still_running)


# -- task 1 ----------------------------------------------------------------------------------------------------


def _connect_many(port: int, count: int, wait: float) -> int:
    """Start `count` connections at once; how many are established within `wait` seconds."""
    sockets = [socket.socket() for _ in range(count)]
    selector = selectors.DefaultSelector()
    try:
        for sock in sockets:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
        connected = 0
        deadline = time.monotonic() + wait
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(0.05):
                selector.unregister(key.fileobj)
                connected += key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        return connected
    finally:
        selector.close()
        for sock in sockets:
            sock.close()


@pytest.mark.task(1)
def test_make_server_is_non_blocking_and_holds_200_waiting_connections(student):
    port = free_port()
    facts = student.run(probes.make_listener, port)
    assert facts["family"] == "AF_INET" and facts["type"] == "SOCK_STREAM", (
        f"make_server() returned a {facts['family']} {facts['type']} socket; expected a TCP socket over IPv4"
    )
    assert facts["address"] == ["127.0.0.1", port], (
        f"make_server({port}) is bound to {tuple(facts['address'])}; expected ('127.0.0.1', {port})"
    )
    assert facts["listening"], f"make_server({port}) returned a socket that does not listen: call listen() on it"
    assert not facts["blocking"], (
        "make_server() returned a blocking socket: call server.setblocking(False), or accept() waits for the "
        "next client and the loop stops serving everybody else"
    )
    connected = _connect_many(port, CLIENTS, wait=1.5)
    assert connected >= CLIENTS, (
        f"only {connected} of {CLIENTS} clients could connect while the server was busy and not accepting: the "
        f"listen() backlog looks like {max(connected - 1, 0)}. The grader holds {CLIENTS} clients at once: "
        "use listen(200) or more (the outline uses listen(1000))"
    )


# -- task 2 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_accept_clients_takes_every_waiting_connection_and_makes_it_non_blocking(student):
    count = random.randint(3, 8)
    facts = student.run(probes.accept_trace, count, timeout=3)
    before, waiting, after = facts["before"], facts["waiting"], facts["after"]
    assert before["count"] == 0, (
        f"with nobody waiting, accept_clients() added {before['count']} sockets to conn_list; expected none"
    )
    assert waiting["types"] in ([], ["socket"]), (
        f"accept_clients() appended {', '.join(waiting['types'])} objects to conn_list; append the connection "
        "socket, the first item of what accept() returns"
    )
    assert waiting["count"] == count, (
        f"{count} clients were waiting and accept_clients() added {waiting['count']} to conn_list: call accept() "
        "in a loop until it raises BlockingIOError, so that one pass takes every waiting client"
    )
    assert waiting["peers"] == facts["clients"], (
        f"conn_list holds connections to {waiting['peers']}; the waiting clients were {facts['clients']}"
    )
    assert waiting["blocking"] == 0, (
        f"{waiting['blocking']} of the {count} accepted sockets are still blocking: call conn.setblocking(False) "
        "on each one, or the first recv() on a silent client stops the whole loop"
    )
    assert after["count"] == count, (
        f"called again with nobody waiting, accept_clients() changed conn_list from {count} to {after['count']} "
        "sockets; it should only append new connections"
    )
    slowest = max(before["elapsed"], waiting["elapsed"], after["elapsed"])
    assert slowest < 0.5, f"accept_clients() took {slowest:.1f} s; it must return at once when nobody is waiting"


# -- task 3 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_read_clients_reads_everyone_skips_the_silent_and_drops_the_departed(student):
    count = random.randint(5, 8)
    facts = student.run(probes.read_trace, random.getrandbits(32), count, timeout=4)
    roles = facts["roles"]
    silent, leaving = roles.index("silent"), roles.index("leaving")
    for number, seen in enumerate(facts["passes"], 1):
        assert seen["elapsed"] < 0.5, f"pass {number} of read_clients() took {seen['elapsed']:.1f} s: never wait"
        assert not seen["in_list"][leaving], (
            f"client {leaving + 1} closed its connection, and after read_clients() it is still in conn_list: when "
            "recv() returns b'' the client has left; remove it from conn_list and close it"
        )
        assert seen["closed"][leaving], (
            f"client {leaving + 1} left and was removed from conn_list, but its socket is still open: call "
            "conn.close(), or every departed client keeps a file open in the server for good"
        )
        assert not seen["in_outbox"][leaving], (
            f"client {leaving + 1} left, but it still has an entry in outbox: remove it there too "
            "(outbox.pop(conn, None))"
        )
        assert seen["in_list"][silent] and not seen["closed"][silent] and seen["outbox"][silent], (
            f"client {silent + 1} has sent nothing yet, and read_clients() dropped it or put data in its outbox: "
            "BlockingIOError only means 'nothing yet'; leave the client as it is and go on"
        )
        for index, role in enumerate(roles):
            if role != "talker":
                continue
            assert seen["in_list"][index] and not seen["closed"][index], (
                f"client {index + 1} is still connected and talking, but read_clients() dropped it"
            )
            if seen["outbox"][index]:
                continue
            got, sent = seen["outbox_sizes"][index], seen["sent_sizes"][index]
            if number == 1 and index == leaving + 1 and got == 0:
                pytest.fail(
                    f"client {index + 1}, right after the client that left, was not read in that pass: removing "
                    "from conn_list while a for loop goes over it makes the loop skip the next client. Loop over "
                    "a copy: `for conn in conn_list[:]:`",
                    pytrace=False,
                )
            if number == 2 and 0 < got < sent:
                pytest.fail(
                    f"after two passes outbox[conn] of client {index + 1} holds {got} bytes, but it has sent {sent} "
                    "and nothing was echoed yet: add new data to the end of outbox[conn] (bytearray.extend), do "
                    "not replace what is waiting there",
                    pytrace=False,
                )
            pytest.fail(
                f"in pass {number}, client {index + 1} had sent {sent} bytes that had all arrived, and afterwards "
                f"outbox[conn] held {got}: recv() once from every client in conn_list and add what it returns to "
                "the end of outbox[conn] (send_pending() echoes it later)",
                pytrace=False,
            )


# -- task 4 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_send_pending_loses_nothing_when_the_client_reads_late(student):
    size = 1 << 20
    facts = student.run(probes.send_trace, random.getrandbits(32), size)
    if facts["equal"]:
        return
    got = facts["received"]
    detail = ""
    if facts["partial"] or facts["would_block"]:
        detail = (
            f" (send() took only part of the data {facts['partial']} times and raised BlockingIOError "
            f"{facts['would_block']} times)"
        )
    if got < size and facts["left_in_outbox"] and facts["first_difference"] == got:
        pytest.fail(
            f"the client read everything it was sent, {got} of {size} bytes, but {facts['left_in_outbox']} bytes "
            f"stayed in outbox[conn]: each call of send_pending() should send() what is waiting{detail}",
            pytrace=False,
        )
    what = (
        f"only the first {got} bytes: the rest was lost"
        if facts["first_difference"] == got
        else f"{got} bytes, different from the data from byte {facts['first_difference']} on"
    )
    pytest.fail(
        f"outbox[conn] held {size} bytes for a client that first read nothing, then everything; it received "
        f"{what}{detail}. send() returns "
        "how many bytes it took: delete exactly those from outbox[conn] and keep the rest (sendall() cannot "
        "tell you how much it sent before it raised BlockingIOError)",
        pytrace=False,
    )


# -- task 5 ----------------------------------------------------------------------------------------------------


def _read_exactly(client: socket.socket, size: int) -> bytes:
    received = bytearray()
    with contextlib.suppress(OSError):
        while len(received) < size and (chunk := client.recv(65536)):
            received += chunk
    return bytes(received)


@pytest.mark.task(5)
def test_serve_echoes_200_clients_at_once_in_one_thread_and_closes_their_sockets(student):
    port = free_port()
    start = student.run(probes.start_serve, port)
    clients: list[socket.socket] = []
    try:
        silent = socket.create_connection(("127.0.0.1", port), timeout=1.5)
        clients.append(silent)
        talkers = [socket.create_connection(("127.0.0.1", port), timeout=1.5) for _ in range(CLIENTS)]
        clients += talkers
        messages = [f"client {n} says {random.getrandbits(48):x}\n".encode() for n in range(1, CLIENTS + 1)]
        for client, message in zip(talkers, messages, strict=True):
            client.sendall(message)
        for number, (client, message) in enumerate(zip(talkers, messages, strict=True), 1):
            got = _read_exactly(client, len(message))
            if got != message:
                _crashed(student)
                pytest.fail(
                    f"client {number} of {CLIENTS}, all connected at once beside a silent one, sent {message!r} "
                    f"and got back {got!r} within 1.5 s. serve() should loop forever: accept_clients, read_clients, "
                    f"then send_pending for every client ({student.where()})",
                    pytrace=False,
                )
        threads = student.run(thread_count)
        assert threads <= start["threads"] + 1, (
            f"with {CLIENTS + 1} clients connected the server process had {threads - start['threads']} more threads "
            "than before serve() started; expected 1, the one running serve(): serve every client from that "
            "thread, with non-blocking sockets"
        )
    finally:
        for client in clients:
            client.close()
    files = student.run(probes.settle_files, start["files"], 1.5)
    assert files <= start["files"], (
        f"1.5 s after all {CLIENTS + 1} clients left, the server process still had {files - start['files']} more "
        "open files than before they came: a client whose recv() returns b'' has left; remove it from conn_list "
        "and close its socket"
    )


@pytest.mark.task(5)
def test_serve_keeps_every_byte_for_a_client_that_reads_late(student):
    port = free_port()
    student.run(probes.start_serve, port)
    data = random.randbytes(2 << 20)
    big = socket.socket()
    big.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, probes.SMALL_BUFFER)
    big.settimeout(1.5)
    def send_everything() -> None:
        with contextlib.suppress(OSError):
            big.sendall(data)

    sender = threading.Thread(target=send_everything, daemon=True)
    try:
        big.connect(("127.0.0.1", port))
        sender.start()
        with socket.create_connection(("127.0.0.1", port), timeout=1.5) as talker:
            message = f"talker {random.getrandbits(48):x}".encode()
            talker.sendall(message)
            got = _read_exactly(talker, len(message))
        if got != message:
            _crashed(student)
            pytest.fail(
                f"while one client sent 2 MB and read nothing, another sent {message!r} and got back {got!r} within "
                f"1.5 s: a client that does not read must not stall the others ({student.where()})",
                pytrace=False,
            )
        time.sleep(0.3)
        echoed = _read_exactly(big, len(data))
    finally:
        with contextlib.suppress(OSError):
            big.shutdown(socket.SHUT_RDWR)
        big.close()
        if sender.is_alive():
            sender.join(2)
    if echoed != data:
        _crashed(student)
        lost = "got back only" if data.startswith(echoed) else "got back a different stream of"
        pytest.fail(
            f"a client sent 2 MB, read nothing for a while, then read everything, and {lost} {len(echoed)} bytes: "
            "when send() would block (BlockingIOError) or takes only part, the rest must wait in outbox[conn] "
            "for the next pass; serve() should echo only through send_pending",
            pytrace=False,
        )
