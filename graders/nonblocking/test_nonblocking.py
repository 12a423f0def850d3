"""Grades exercises/nonblocking: the listening socket, accepting, reading, sending, and the one-thread loop."""

from __future__ import annotations

import random
import selectors
import socket
import time

import pytest

from graders.harness.core.network import free_port
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
    assert waiting["count"] == count or waiting["still_waiting"], (
        f"{count} clients were waiting and accept_clients() accepted them all, but conn_list holds "
        f"{waiting['count']}: append each connection to the list you were given (conn_list.append(conn)); "
        "`conn_list = ...` inside the function makes a new list that the caller never sees"
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
    first_sizes = facts["passes"][0]["sent_sizes"]
    for number, seen in enumerate(facts["passes"], 1):
        assert seen["elapsed"] < 0.5, f"pass {number} of read_clients() took {seen['elapsed']:.1f} s: never wait"
        if number == 2:
            assert not seen["in_list"][leaving], (
                f"client {leaving + 1} closed its connection, and after read_clients() it is still in conn_list: "
                "when recv() returns b'' the client has left; remove it from conn_list and close it"
            )
            assert seen["closed"][leaving], (
                f"client {leaving + 1} left and was removed from conn_list, but its socket is still open: call "
                "conn.close(), or every departed client keeps a file open in the server for good"
            )
            assert not seen["in_outbox"][leaving], (
                f"client {leaving + 1} sent data and then left, and it still has an entry in outbox: remove it "
                "there too (outbox.pop(conn, None)), or the bytes of every departed client stay in memory for good"
            )
        assert seen["in_list"][silent] and not seen["closed"][silent] and seen["outbox"][silent], (
            f"client {silent + 1} has sent nothing yet, and read_clients() dropped it or put data in its outbox: "
            "BlockingIOError only means 'nothing yet'; leave the client as it is and go on"
        )
        for index, role in enumerate(roles):
            if role == "silent" or (role == "leaving" and number == 2):
                continue
            assert seen["in_list"][index] and not seen["closed"][index], (
                f"client {index + 1} is still connected and talking, but read_clients() dropped it in pass {number}"
            )
            if seen["outbox"][index]:
                continue
            got, sent = seen["outbox_sizes"][index], seen["sent_sizes"][index]
            if number == 2 and index == leaving + 1 and got == first_sizes[index]:
                pytest.fail(
                    f"client {index + 1}, right after the client that left, was not read in the pass where that "
                    "client left: removing from conn_list while a for loop goes over it makes the loop skip the "
                    "next client. Loop over a copy: `for conn in conn_list[:]:`",
                    pytrace=False,
                )
            if number == 2 and got == sent - first_sizes[index]:
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


def _judge_wiring(record: dict) -> None:
    log = record["log"]
    accepts = [entry for entry in log if entry[0] == "accept"]
    if not accepts:
        pytest.fail(
            "serve() never called accept_clients(server, conn_list)"
            + (" and returned" if record["returned"] else "")
            + ": on every pass of its loop it should call accept_clients, read_clients, then send_pending for "
            "every client; do the work through those three functions",
            pytrace=False,
        )
    assert all(entry[2] for entry in accepts), "serve() passed accept_clients a socket other than its `server`"
    assert accepts[0][3], "serve() passed accept_clients a conn_list that is not a list: start with conn_list = []"
    if record["returned"] or len(accepts) < record["passes"]:
        pytest.fail(
            f"serve() called accept_clients {'once' if len(accepts) == 1 else f'{len(accepts)} times'} and then "
            + ("returned" if record["returned"] else "never again")
            + ": serve() should loop forever, calling accept_clients on every pass, then read_clients, then "
            "send_pending for every client",
            pytrace=False,
        )
    passes: list[list] = []
    for entry in log:
        if entry[0] == "accept":
            passes.append([entry])
        elif passes:
            passes[-1].append(entry)
    lists, outboxes = {entry[1] for entry in accepts}, set()
    for number, calls in enumerate(passes[: record["passes"]], 1):
        reads = [entry for entry in calls if entry[0] == "read"]
        assert len(reads) == 1, (
            f"in pass {number} of its loop serve() called read_clients {len(reads)} times; call it once per pass, "
            "after accept_clients"
        )
        _, read_list, outbox, clients, waiting = reads[0]
        lists.add(read_list)
        outboxes.add(outbox)
        sends = [entry for entry in calls if entry[0] == "send"]
        outboxes.update(entry[2] for entry in sends)
        sent_to = sorted(entry[1] for entry in sends)
        assert set(waiting) <= set(sent_to) <= set(clients) and len(sent_to) == len(set(sent_to)), (
            f"in pass {number}, after read_clients, conn_list held clients {sorted(clients)}, with data waiting "
            f"in outbox for {sorted(waiting)}, and serve() called send_pending for {sent_to}: call "
            "send_pending(conn, outbox) once for every client in conn_list"
        )
    assert len(lists) == 1, (
        "serve() passed different lists to accept_clients and read_clients, or a new one on each pass: create "
        "conn_list once, before the loop, and pass the same list to both"
    )
    assert len(outboxes) == 1, (
        "serve() passed different outbox dicts to read_clients and send_pending, or a new one on each pass: create "
        "outbox once, before the loop, so that what read_clients puts there waits until send_pending sends it"
    )


@pytest.mark.task(5)
def test_serve_loops_over_accept_read_and_send_for_every_client(student):
    record = student.run(probes.serve_wiring, 1.0, timeout=3)
    if not record["finished"] and not record["log"]:
        pytest.fail(
            f"serve() called none of accept_clients, read_clients, send_pending within 1 s ({student.where()}): on "
            "every pass of its loop it should call accept_clients, read_clients, then send_pending for every "
            "client; do the work through those three functions",
            pytrace=False,
        )
    _judge_wiring(record)
