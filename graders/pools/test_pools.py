"""Grades exercises/pools: the outline's Thread_pool (reused threads, join), ThreadPool results through
apply_async(...).get(), and an echo server served by a pool."""

import os
import random
import socket
import uuid

import pytest

from graders.harness.core.network import free_port
from graders.harness.core.probing import thread_count
from graders.pools import probes


def _size_unlike_the_default(choices: range) -> int:
    """A pool size that ThreadPool() without a size would not happen to have on this machine (it makes one
    thread per CPU), so that a forgotten size fails every time, not on some machines only."""
    default = {os.cpu_count(), len(os.sched_getaffinity(0))}
    return random.choice([size for size in choices if size not in default])


@pytest.mark.task(1)
def test_thread_pool_runs_every_task_on_its_n_reused_threads(student):
    n, count, tag = random.randint(2, 4), 12, uuid.uuid4().hex[:6]
    seen = student.run(probes.pool_threads_trace, n, count, tag)
    ran = len(seen["calls"])
    assert ran == count, (
        f"{count} tasks handed to Thread_pool({n}).apply_async ran {ran} times within 2 s: the pool's threads "
        "must take every task from the queue and run it"
    )
    assert seen["calls"] == [[number, tag] for number in range(count)], (
        "apply_async(fun, *args, **kwargs) should run fun(*args, **kwargs) once; the tasks were called with "
        f"(number, tag) = {seen['calls'][:4]}..."
    )
    assert not seen["in_caller"], (
        "tasks ran in the thread that called apply_async: apply_async should only put the task into the queue, "
        "for one of the pool's threads to take"
    )
    assert seen["used"] <= n and not seen["used_outside_made"], (
        f"your pool started a thread per task: {count} tasks ran in {seen['used']} different threads, "
        f"{seen['used_outside_made']} of them started after Thread_pool({n}) was made. A pool starts its {n} "
        "threads once, in __init__, and they take task after task from the queue"
    )
    assert seen["made"] == n, (
        f"Thread_pool({n}) started {seen['made']} thread(s) in __init__; expected {n}, one for each task that "
        "may run at once"
    )
    assert seen["made_daemon"], (
        "the pool's threads are not daemon threads: they wait for tasks forever and would keep the program "
        "from ending. Start them with daemon=True"
    )
    assert seen["peak"] == n, (
        f"Thread_pool({n}) ran at most {seen['peak']} task(s) at a time; its {n} threads should each run one"
    )


@pytest.mark.task(2)
def test_thread_pool_join_waits_for_every_task_and_the_pool_stays_usable(student):
    n, tag = 3, uuid.uuid4().hex[:6]
    naps = [random.choice([0.03, 0.06, 0.1]) for _ in range(6)]
    seen = student.run(probes.pool_join_trace, n, naps, tag, timeout=8)
    for number, batch in enumerate(seen["batches"], start=1):
        which = "the first batch" if number == 1 else "a second batch, handed to the pool after the first join()"
        if not batch["returned"]:
            pytest.fail(
                f"join() did not return within 2 s after {which} of tasks; {batch['done']} of {batch['total']} "
                f"tasks had finished. queue.join() returns once task_done() has been called after every task "
                f"({student.where()})",
                pytrace=False,
            )
        assert batch["done"] == batch["total"], (
            f"join() returned early: {batch['total'] - batch['done']} of the {batch['total']} tasks of {which} had "
            "not finished yet. It must wait until every task has run: call task_done() after the task, and "
            "self.queue.join() in join()"
        )
    assert len(seen["batches"]) == 2, "the second batch of tasks was never checked"


@pytest.mark.task(3)
def test_run_all_submits_everything_then_collects_results_in_order(student):
    size = _size_unlike_the_default(range(2, 6))
    pairs = [[number, random.randint(2, 99)] for number in range(2 * size + 1)]
    seen = student.run(probes.run_all_trace, size, pairs, timeout=8)
    assert seen["returned"], (
        f"run_all did not return within 3 s ({student.where()}); did a get() wait for a call that was never "
        "submitted?"
    )
    expected = [x * y for x, y in pairs]
    assert seen["results"] == expected, (
        f"run_all(multiply, {pairs[:3]}..., {size}) should return the results in the order of args_list, "
        f"{expected}; it returned {seen['results']}"
    )
    assert seen["peak"] != 1, (
        f"at most 1 call ran at a time on a pool of {size}: they ran one after another. "
        "Calling .get() right after each apply_async waits for that call before the next is submitted: "
        "submit them all first, then get() each result"
    )
    assert seen["peak"] == size, (
        f"run_all(func, args_list, {size}) ran at most {seen['peak']} calls at a time; a pool of {size} runs "
        f"{size}: is the pool made with ThreadPool({size})? (ThreadPool() alone has one thread per CPU)"
    )
    assert seen["threads"] <= size, (
        f"the calls ran in {seen['threads']} different threads; a ThreadPool({size}) has {size}"
    )
    assert seen["left_running"] <= 0, (
        f"run_all returned with {seen['left_running']} more threads running than before: close() and join() "
        "the pool before returning"
    )


def _echo(client: socket.socket, message: bytes) -> bytes:
    client.sendall(message)
    received = b""
    while len(received) < len(message):
        chunk = client.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


@pytest.mark.task(4)
def test_pool_server_serves_size_clients_at_once_and_queues_the_next(student):
    size = _size_unlike_the_default(range(2, 5))
    port = free_port()
    before = student.run(probes.start_pool_server, port, size)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=1) for _ in range(size + 1)]
    try:
        served, extra = clients[:size], clients[size]
        for number, client in enumerate(served, start=1):
            message = f"hello from client {number} of {size}".encode()
            try:
                echoed = _echo(client, message)
            except TimeoutError:
                pytest.fail(
                    f"client {number} got no echo within 1 s while {number - 1} other client(s) stayed connected: "
                    f"with ThreadPool({size}), {size} clients are served at once, but your server served only "
                    f"{number - 1} at a time: is the pool made with ThreadPool({size})? ({student.where()})",
                    pytrace=False,
                )
            assert echoed == message, f"sent {message!r}, got back {echoed!r}"
        extra.settimeout(0.3)
        try:
            echoed = _echo(extra, b"I am client number size + 1")
        except TimeoutError:
            echoed = b""
        assert not echoed, (
            f"with {size} clients connected, a pool of {size} threads has none left, yet client {size + 1} was "
            f"served at once: your server starts a thread per connection, or a pool that is not made with "
            f"ThreadPool({size}); hand every connection to one ThreadPool({size})"
        )
        threads = student.run(thread_count) - before
        assert threads <= size + 5, (
            f"serving {size} clients, the server process had {threads} more threads than before: a pool of "
            f"{size} needs {size} worker threads (and a few of its own), not one per connection"
        )
        served[0].close()
        extra.settimeout(1)
        try:
            received = extra.recv(4096)
        except TimeoutError:
            received = b""
        assert received, (
            f"after client 1 left, client {size + 1}, which had been waiting, was not served within 1 s: the pool "
            "thread that served client 1 should take the next connection"
        )
    finally:
        for client in clients:
            client.close()
