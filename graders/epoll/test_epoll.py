"""Grades exercises/epoll: the listener, the accept and read callbacks, and one thread serving 200 clients."""

from __future__ import annotations

import random
import secrets
import selectors
import socket
import time

import pytest

from graders.epoll import probes
from graders.harness.core import observe
from graders.harness.core.network import free_port
from graders.harness.core.student import TimedOut

CLIENTS = 200
ECHO_SECONDS = 2.0


@pytest.mark.task(1)
def test_create_listener_returns_a_non_blocking_listener_that_keeps_200_clients_waiting(student):
    port = free_port()
    facts = student.run(probes.listener_facts, port)
    assert (facts["family"], facts["type"]) == ("AF_INET", "SOCK_STREAM"), (
        f"create_listener should make a TCP socket over IPv4 (AF_INET, SOCK_STREAM); "
        f"yours is {facts['family']}, {facts['type']}"
    )
    assert facts["address"] == ("127.0.0.1", port), (
        f"create_listener({port}) should bind ('127.0.0.1', {port}); your socket is bound to {facts['address']}"
    )
    assert facts["listening"], "the socket create_listener returned is not listening: call listen(...) on it"
    assert not facts["blocking"], (
        "the listening socket is still in blocking mode: call server.setblocking(False), so that accept() can "
        "never stall the one thread that serves every client"
    )
    clients = CLIENTS + 1  # listen(200) keeps backlog + 1 = 201 on Linux; listen(199) would keep 200
    seen = student.run(probes.waiting_connections, free_port(), clients)
    expected = min(clients, seen["somaxconn"] + 1)
    assert seen["waiting"] >= expected, (
        f"{clients} clients connected at once before the server called accept(), but only {seen['waiting']} were "
        "kept waiting; the others were turned away. Pass a backlog of at least 200 to listen(): listen() alone "
        "allows 128 (the outline uses listen(1000))"
    )


@pytest.mark.task(2)
def test_accept_registers_the_connection_non_blocking_for_read_events_with_read(student):
    facts = student.run(probes.accept_registration)
    assert facts["new_keys"] == 1, (
        f"with one client waiting, accept(server, selector) should register exactly one new socket (the accepted "
        f"connection) with the selector; it registered {facts['new_keys']}. "
        "Call selector.register(conn, selectors.EVENT_READ, read)"
    )
    assert facts["is_client"], (
        f"accept registered a {facts['registered']} that is not the client's connection: register the `conn` "
        "that server.accept() returned"
    )
    assert facts["events"] == selectors.EVENT_READ, (
        f"the connection was registered for events={facts['events']}; register it for selectors.EVENT_READ only "
        "(a socket is nearly always writable, so EVENT_WRITE would wake the loop all the time)"
    )
    assert facts["data_is_read"], (
        f"the connection was registered with data={facts['data']}; the event loop calls "
        "key.data(key.fileobj, selector), so the data must be the function `read`"
    )
    assert facts["blocking"] is False, (
        "the accepted connection is still in blocking mode (accept() does not pass on the listener's mode): call "
        "conn.setblocking(False) before registering it"
    )


@pytest.mark.task(3)
def test_read_echoes_each_message_then_unregisters_and_closes_when_the_client_leaves(student):
    messages = [f"hello {secrets.token_hex(6)}".encode(), f"and again {secrets.token_hex(9)}".encode()]
    trace = student.run(probes.read_trace, messages)
    for sent, echoed in zip(messages, trace["echoes"], strict=False):
        assert echoed == sent, f"the client sent {sent!r}; after read(conn, selector) it got back {echoed!r}"
    assert trace["gave_up_after"] is None, (
        f"read() unregistered or closed the connection after message {trace['gave_up_after']} although the "
        "client is still there: only do that when recv returns b''"
    )
    registered, still_open = trace["registered"], trace["open"]
    assert not (registered and still_open), (
        "the client closed its side and read() got b'' from recv, but left the socket registered and open: "
        "call selector.unregister(conn), then conn.close()"
    )
    assert not registered, (
        "when recv returned b'', read() closed the socket but left it registered with the selector: call "
        "selector.unregister(conn) before conn.close(), or the selector keeps a dead socket whose file "
        "descriptor number the next client will get"
    )
    assert not still_open, (
        "when recv returned b'', read() unregistered the socket but never closed it: call conn.close() after "
        "unregistering, or every client that leaves costs the server one open file for good"
    )


def _judge_late_reader(student, seed: int, size: int, busy: bool) -> None:
    try:
        trace = student.run(probes.late_reader_trace, seed, size, busy, timeout=7)
    except TimedOut as error:
        pytest.fail(
            "a client sent a lot and read nothing at first, and your read() or write() did not return for 7 s: it "
            "waited for that one client to read. In an event loop no callback may ever wait: the socket must stay "
            "non-blocking (no setblocking(True), no settimeout) and, as sendall() cannot be used on it, write() "
            "sends once and keeps the rest in outbox[conn] for the next write event "
            f"({error.message})",
            pytrace=False,
        )
    data = random.Random(seed).randbytes(size)
    received = trace["received"]
    situation = (
        f"a client sent {trace['sent']} bytes over a busy connection, where send() takes at most "
        f"{probes.PIECE} bytes at a time, reading nothing until the server had to wait, then all there was"
        if busy
        else f"a client sent {trace['sent']} bytes, reading nothing at first and then everything"
    )
    if received != data:
        if data.startswith(received):
            how = f"only the first {len(received)} bytes came back"
        else:
            first = next((i for i, (a, b) in enumerate(zip(received, data, strict=False)) if a != b), len(received))
            how = f"{len(received)} bytes came back, different from what was sent from byte {first} on"
            if data.rfind(received[first : first + 64], 0, first) != -1:
                how += ", where bytes that had come back already came back again"
        pytest.fail(
            f"{situation}: {how}. send() on a non-blocking socket takes only what fits right now and returns how "
            "many bytes that was: keep the rest in outbox[conn], register the socket for EVENT_WRITE with "
            "`write`, and send it when the loop calls write() (sendall() cannot tell you how much it sent before "
            "it raised BlockingIOError)",
            pytrace=False,
        )
    last = random.Random(seed + 1).randbytes(16).hex().encode()
    assert trace["final"] == last, (
        f"after its whole echo had been sent, the client sent {last!r} and got back {trace['final']!r}: once "
        "outbox[conn] is empty, selector.modify(conn, selectors.EVENT_READ, read), so that the loop reads from "
        "the client again"
    )


@pytest.mark.task(3)
def test_write_keeps_what_send_did_not_take_for_a_client_that_reads_late(student):
    _judge_late_reader(student, random.getrandbits(32), 256 * 1024, busy=False)


@pytest.mark.task(3)
def test_write_loses_and_repeats_nothing_when_send_takes_part_again_and_again(student):
    _judge_late_reader(student, random.getrandbits(32), 256 * 1024, busy=True)


def _echoes(student, clients: list[socket.socket], sizes: list[int]) -> tuple[list[bytes], set[int]]:
    """What each client received within ECHO_SECONDS, read all at once; and which ones the server hung up on.

    Whenever nothing arrives for a quarter of a second, the worker is asked whether the event loop still
    runs, so a loop that crashed or returned is reported at once and with its reason.
    """
    received = [b""] * len(clients)
    hung_up: set[int] = set()
    with selectors.DefaultSelector() as selector:
        for index, client in enumerate(clients):
            selector.register(client, selectors.EVENT_READ, index)
        waiting = len(clients)
        deadline = time.monotonic() + ECHO_SECONDS
        while waiting and (left := deadline - time.monotonic()) > 0:
            ready = selector.select(min(left, 0.25))
            if not ready:
                student.run(probes.event_loop_state)  # raises with the reason when the loop has stopped
            for key, _mask in ready:
                index = key.data
                try:
                    chunk = key.fileobj.recv(4096)
                except OSError:
                    chunk = b""
                received[index] += chunk
                if not chunk:
                    hung_up.add(index)
                if not chunk or len(received[index]) >= sizes[index]:
                    selector.unregister(key.fileobj)
                    waiting -= 1
    return received, hung_up


def _check_echoes(student, clients: list[socket.socket], messages: list[bytes], situation: str) -> None:
    echoes, hung_up = _echoes(student, clients, [len(m) for m in messages])
    if hung_up:
        student.run(probes.event_loop_state)  # says why, when the event loop crashed or returned
        first = min(hung_up)
        pytest.fail(
            f"{situation}, the server closed {len(hung_up)} of {len(clients)} connections before echoing, e.g. "
            f"client {first + 1} after sending {messages[first]!r}: close a connection only when recv returns b''",
            pytrace=False,
        )
    missing = [
        index for index, (sent, echoed) in enumerate(zip(messages, echoes, strict=True)) if len(echoed) < len(sent)
    ]
    if missing:
        pytest.fail(
            f"{situation}, {len(missing)} of {len(clients)} clients got no complete echo within "
            f"{ECHO_SECONDS:g} s: the one server thread must never wait on a single client "
            f"({student.where()})",
            pytrace=False,
        )
    for number, (sent, echoed) in enumerate(zip(messages, echoes, strict=True), 1):
        assert echoed == sent, f"{situation}, client {number} sent {sent!r} and got back {echoed!r}"


def _settled(student, fds: int | None) -> dict:
    """The event loop's state once every client that left has been dealt with (or after 2 s).

    The open files are counted from outside, in /proc; without /proc only the selector's map is looked at.
    """
    deadline = time.monotonic() + 2
    while True:
        state = student.run(probes.event_loop_state)
        state["fds"] = observe.open_files(student.pid)
        lingering = state["registered_open"] + state["registered_closed"] + state["unregistered_open"]
        settled = (fds is None or state["fds"] is None or state["fds"] <= fds) and not lingering
        if settled or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


IDLE_SECONDS = 0.6
IDLE_CPU = 0.3  # a share of one core; a loop that never sleeps wants all of one, however busy the machine is


def _check_idle_with_clients(student, connected: int) -> None:
    """With every client connected, echoed and quiet, the loop must sleep in select(): a connection left
    registered for EVENT_WRITE with nothing to send makes select() return at once, every time."""
    busy = observe.busy(student.pid, IDLE_SECONDS)
    if busy is None:
        return
    state = student.run(probes.event_loop_state)  # a loop that stopped is reported first, with its reason
    if busy < IDLE_CPU:
        return
    writing = state["registered_for_write"]
    pytest.fail(
        f"with {connected} clients connected, every echo sent and no client sending anything, the server kept "
        f"{busy:.0%} of a CPU core busy for {IDLE_SECONDS:g} s"
        + (f", with {writing} connection{'s' if writing != 1 else ''} registered for EVENT_WRITE" if writing else "")
        + ". A socket is writable nearly all the time, so a connection registered for EVENT_WRITE with nothing "
        "to send wakes the loop at once, again and again: register connections for EVENT_READ, and for "
        "EVENT_WRITE only while outbox[conn] holds what send() did not take",
        pytrace=False,
    )


@pytest.mark.task(4)
def test_one_thread_serves_200_clients_at_once_and_lets_them_all_go(student):
    port = free_port()
    student.run(probes.ready)
    threads_before = observe.threads(student.pid)
    student.run(probes.start_event_loop, port)
    fds_before = observe.open_files(student.pid)
    busy = observe.busy(student.pid, IDLE_SECONDS)
    if busy is not None:
        student.run(probes.event_loop_state)  # a loop that stopped is reported first, with its reason
        assert busy < IDLE_CPU, (
            f"with no client at all, the server kept {busy:.0%} of a CPU core busy for {IDLE_SECONDS:g} s: the loop "
            "never waits. Call selector.select() without a timeout (or timeout=None): it sleeps until a socket is "
            "ready; select(0) returns at once and the loop spins"
        )
    address = ("127.0.0.1", port)
    token = secrets.token_hex(4)
    messages = [f"client {n} of {CLIENTS}: {token}-{secrets.token_hex(3)}\n".encode() for n in range(1, CLIENTS + 1)]
    clients: list[socket.socket] = []
    try:
        clients.append(socket.create_connection(address, timeout=2))  # connects first, then never says a word
        talkers = []
        for _ in messages:
            talkers.append(socket.create_connection(address, timeout=2))
            clients.append(talkers[-1])
        for client, message in zip(talkers, messages, strict=True):
            client.sendall(message)
        _check_echoes(student, talkers, messages, f"with {CLIENTS} clients and a silent one connected at once")
        _check_idle_with_clients(student, len(clients))
        threads_now = observe.threads(student.pid)
        if threads_before is not None and threads_now is not None:
            extra = threads_now - threads_before
            assert extra <= 1, (
                f"with {CLIENTS + 1} clients connected the server process had {extra} more threads than before "
                "serve_forever started; an epoll server needs only the one thread that runs serve_forever: "
                "register each connection with the selector instead of starting a thread for it"
            )
    finally:
        for client in clients:
            client.close()

    state = _settled(student, fds_before)
    assert not state["registered_closed"], (
        f"after all {CLIENTS + 1} clients left, {state['registered_closed']} closed sockets were still registered "
        "with the selector: call selector.unregister(conn) before conn.close(), or the next client that gets "
        "the same file descriptor number cannot be registered"
    )
    assert not state["registered_open"], (
        f"after all {CLIENTS + 1} clients left, {state['registered_open']} of their sockets were still registered "
        "and open: when recv returns b'', unregister the socket and close it"
    )
    assert not state["unregistered_open"], (
        f"after all {CLIENTS + 1} clients left, {state['unregistered_open']} of their sockets were unregistered "
        "but never closed: call conn.close() after selector.unregister(conn), or every client that leaves costs "
        "the server an open file"
    )
    if fds_before is not None and state["fds"] is not None:
        leaked = state["fds"] - fds_before
        assert leaked <= 0, (
            f"after all {CLIENTS + 1} clients left, the server process still had {leaked} more open files than "
            "when serve_forever started: close every connection when recv returns b''"
        )

    later = [f"a later client {secrets.token_hex(4)}\n".encode() for _ in range(3)]
    newcomers: list[socket.socket] = []
    try:
        for message in later:
            newcomers.append(socket.create_connection(address, timeout=2))
            newcomers[-1].sendall(message)
        _check_echoes(student, newcomers, later, "after the first clients had left")
    finally:
        for client in newcomers:
            client.close()
