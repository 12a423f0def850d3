"""Grades exercises/threads: starting and joining, the counter race, a thread per client, I/O in threads."""

import socket

import pytest

from graders.harness.core.network import free_port
from graders.harness.core.probing import thread_count
from graders.threads import probes


@pytest.mark.task(1)
def test_start_and_join_runs_every_index_in_its_own_thread(student):
    seen = student.run(probes.start_and_join_trace, count=6, nap=0.2)
    assert seen["indexes"] == list(range(6)), (
        f"target should be called once with each of 0..5; it was called with {seen['indexes']}"
    )
    assert not seen["in_caller"], "target ran in the calling thread: start a threading.Thread for each call"
    assert seen["done_at_return"] == 6, (
        f"start_and_join returned while {6 - seen['done_at_return']} of 6 threads were still running: join them all"
    )
    assert seen["elapsed"] < 0.8, (
        f"6 threads that each sleep 0.2 s took {seen['elapsed']:.1f} s: they ran one after another. "
        "Start them all before joining any."
    )


@pytest.mark.task(2)
def test_counter_loses_no_update_from_four_threads(student):
    total = student.run(probes.hammer_counter, threads=4, increments=100)
    assert total == 400, f"4 threads added 100 each; your counter ended at {total}: {400 - total} updates were lost"


def _echo(client: socket.socket, message: bytes) -> bytes:
    client.sendall(message)
    received = b""
    while len(received) < len(message):
        chunk = client.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


@pytest.mark.task(3)
def test_a_silent_client_does_not_block_the_others(student):
    port = free_port()
    threads_before = student.run(probes.start_echo_server, port)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=1) for _ in range(4)]
    try:
        silent, talkers = clients[0], clients[1:]
        silent.sendall(b"I connect first and then say nothing more")
        for number, client in enumerate(talkers):
            message = f"hello from client {number}".encode()
            try:
                echoed = _echo(client, message)
            except TimeoutError:
                pytest.fail(
                    f"client {number + 2} got no echo within 1 s while client 1 stayed connected: the server is "
                    f"busy with one client at a time ({student.where()})",
                    pytrace=False,
                )
            assert echoed == message, f"sent {message!r}, got back {echoed!r}"
        threads_now = student.run(thread_count)
        assert threads_now >= threads_before + 1 + len(clients), (
            f"with {len(clients)} clients connected the server process had {threads_now - threads_before} "
            "more threads than before it started; expected one for the server and one per client"
        )
    finally:
        for client in clients:
            client.close()


@pytest.mark.task(4)
def test_fetch_all_runs_slow_fetches_at_the_same_time(student):
    delays = [0.25, 0.05, 0.2, 0.02, 0.1, 0.22, 0.08, 0.15]
    seen = student.run(probes.fetch_all_trace, delays)
    expected = [["done", i] for i in range(len(delays))]
    got = [list(result) if isinstance(result, (tuple, list)) else result for result in seen["results"]]
    assert got == expected, (
        f"fetch_all should return [fetch(items[0]), fetch(items[1]), ...] in the order of items; got {got}"
    )
    assert seen["peak"] >= 4 and seen["elapsed"] < 0.7, (
        f"8 fetches that sleep {sum(delays):.1f} s in total took {seen['elapsed']:.1f} s, at most "
        f"{seen['peak']} at a time: run them in threads, all started before any is joined"
    )
