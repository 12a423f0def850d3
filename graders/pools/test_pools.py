"""Grades exercises/pools: the outline's Thread_pool (reused threads, join), ThreadPool results through
apply_async(...).get(), an echo server served by a pool, multiprocessing.Pool with cpu_count(), and the
outline's server of a process pool with a thread pool in each process."""

import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from graders.harness.core import observe, platform
from graders.harness.core.network import exchange, free_port
from graders.harness.core.observe import Reports
from graders.harness.core.probing import thread_count
from graders.harness.core.student import worker_environment
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


# -- process pools: facts read here, from outside the worker ---------------------------------------------------


def _cpu_count_as_the_worker_sees_it(student) -> int:
    """What os.cpu_count() (= multiprocessing.cpu_count()) says in the worker: asked of a fresh Python like the
    worker's (its interpreter, its environment, its CPUs), here, since the student's code could change the
    answer inside the worker."""
    student.run(thread_count)  # the worker runs from here on
    python = os.environ.get("GRADE_WORKER_PYTHON") or sys.executable
    cpus = None
    with contextlib.suppress(AttributeError, OSError):
        cpus = sorted(os.sched_getaffinity(student.pid))
    code = f"import os\nif {cpus!r}: os.sched_setaffinity(0, {cpus!r})\nprint(os.cpu_count())"
    try:
        run = subprocess.run([python, "-c", code], env=worker_environment(), capture_output=True, text=True,
                             timeout=60)
        return int(run.stdout.strip())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return os.cpu_count() or 1


def _psutil_process(pid: int):
    """psutil's handle on `pid` where there is no /proc (psutil is installed there), or None."""
    try:
        import psutil

        return psutil.Process(pid)
    except Exception:  # no psutil, no such process, no access
        return None


def _parent(pid: int) -> int | None:
    if observe.available():
        try:
            return int((observe.PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return None
    process = _psutil_process(pid)
    try:
        return None if process is None else process.ppid()
    except Exception:  # psutil's NoSuchProcess, AccessDenied
        return None


def _command(pid: int) -> str:
    if observe.available():
        try:
            return (observe.PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    process = _psutil_process(pid)
    try:
        return "" if process is None else " ".join(process.cmdline())
    except Exception:
        return ""


def _pool_processes(root: int) -> list[int]:
    """The running processes below the worker that can be a pool's: those without children of their own
    (which leaves out the forkserver, the parent of the pool's processes under forkserver), other than
    multiprocessing's resource tracker. A Pool starts all its processes before it takes any task."""
    below = [pid for pid in platform.descendants(root) if observe.running(pid)]
    parents = {_parent(pid) for pid in below}
    return sorted(pid for pid in below if pid not in parents and "resource_tracker" not in _command(pid))


def _watch_held_items(student, reports: Reports, first: float = 90, stall: float = 20) -> dict:
    """Watch pool_map while the grader holds its items: until every process of the pool holds one (or the call
    ends, or nothing new starts for `stall` s). Which processes took an item, and the pool's processes."""
    started_at = time.monotonic()
    last_change, count = started_at, 0
    while True:
        done = student.run(probes.call_status, "pool_map")  # raises the student's error, if the call ended so
        started = reports.of("started")
        pool = _pool_processes(student.pid)
        holders = observe.as_seen_here(student.pid, sorted({pid for _item, pid in started}))
        if len(started) != count:
            last_change, count = time.monotonic(), len(started)
        waited = time.monotonic() - (last_change if started else started_at)
        if done or (holders and set(pool) <= set(holders)) or waited > (stall if started else first):
            return {"done": done, "started": started, "holders": holders, "pool": pool}
        time.sleep(0.05)


@pytest.mark.task(5)
def test_pool_map_runs_the_items_on_cpu_count_processes_and_keeps_their_order(student):
    cpus = _cpu_count_as_the_worker_sees_it(student)
    items, salt = list(range(3 * cpus + 1)), uuid.uuid4().hex[:8]
    begun = student.run(probes.start_pool_map, items, salt)
    reports = Reports(begun["folder"]).within(student.workdir)
    held = _watch_held_items(student, reports)
    holders, pool = held["holders"], held["pool"]
    if not held["started"]:
        pytest.fail(
            f"pool_map(fn, {len(items)} items) "
            + ("returned without calling fn" if held["done"] else "did not call fn within 90 s")
            + f": hand the items to the pool, e.g. pool.map(fn, items) ({student.where()})",
            pytrace=False,
        )
    assert student.pid not in holders, (
        f"fn ran in the process that called pool_map (pid {begun['me']}), not in the pool's processes: a "
        "ThreadPool runs its tasks in threads of the same process. Use multiprocessing.Pool, whose tasks run in "
        "processes of their own, one per CPU"
    )
    assert len(pool) == cpus, (
        f"while the grader held the items, your pool had {len(pool)} processes (counted from outside, below the "
        f"process that called pool_map); multiprocessing.cpu_count() is {cpus} here, so Pool(cpu_count()) has "
        f"{cpus}: make the pool with multiprocessing.Pool(multiprocessing.cpu_count())"
    )
    assert set(holders) == set(pool), (
        f"only {len(holders)} of the {len(pool)} processes of your pool had an item while the grader held them "
        "(no new item started for 20 s): the items ran one after another. Hand them all to the pool before "
        "you wait for a result: pool.map(fn, items), or apply_async every item first and get() afterwards"
    )

    seen = student.run(probes.finish_pool_map, 60, timeout=90)
    assert seen["returned"], (
        f"pool_map did not return within 60 s after the grader let its items go ({student.where()})"
    )
    expected = [f"{salt}:{item * item}" for item in items]
    got = seen["results"]
    if isinstance(got, list) and sorted(got, key=repr) == sorted(expected, key=repr) and got != expected:
        pytest.fail(
            f"pool_map returned the right results in the wrong order: the grader let the items finish in another "
            f"order than theirs, and your results came back in the order they finished ({got[:3]}...). "
            "pool.map(fn, items), or the get() of each apply_async result in the order you made them, gives the "
            "results in the order of the items; imap_unordered and callbacks give them as they finish",
            pytrace=False,
        )
    assert got == expected and seen["is_list"], (
        f"pool_map(fn, items) should return the list [fn(item) for item in items] in the order of the items, "
        f"{expected[:3]}...; it returned {got!r:.300}"
    )
    left = observe.still_running(sorted(set(pool) | set(holders)), grace=2.0)
    assert not left, (
        f"{len(left)} process(es) of your pool (pids {left}) were still running after pool_map returned: close() "
        "and join() the pool before returning (or make it in a with-block), so that none of its processes "
        "outlives the call"
    )


def _connect(student, port: int, limit: float) -> socket.socket:
    """A client of the student's server, once it listens (it may take a while to start its processes)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if student.run(probes.call_status, "server"):  # raises the student's error, if serve raised one
                pytest.fail("serve(port) returned; it should serve clients forever", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"nothing listened on port {port} within {limit:g} s after serve({port}) was called: "
                            f"listen on ('127.0.0.1', port) ({student.where()})", pytrace=False)
            time.sleep(0.05)


def _tcp_inode(port: int, peer: int) -> str | None:
    """The inode of the server's end of the connection 127.0.0.1:port <-> 127.0.0.1:peer (Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":"), fields[2].split(":")
            if int(local[1], 16) == port and int(remote[1], 16) == peer:
                return fields[9]
    return None


def _holders(root: int, port: int, peer: int) -> list[int] | None:
    """Which of the worker's processes hold the server's end of the client at `peer`; None if this machine cannot
    tell."""
    pids = [root, *platform.descendants(root)]
    if observe.available():
        inode = _tcp_inode(port, peer)
        if inode is None:
            return None
        found = []
        for pid in pids:
            with contextlib.suppress(OSError):
                fds = observe.PROC / str(pid) / "fd"
                if any(os.readlink(fds / fd) == f"socket:[{inode}]" for fd in os.listdir(fds)):
                    found.append(pid)
        return found
    found = []
    for pid in pids:
        process = _psutil_process(pid)
        with contextlib.suppress(Exception):
            connections = getattr(process, "net_connections", None) or process.connections
            if any(c.laddr and c.raddr and c.laddr.port == port and c.raddr.port == peer for c in connections("tcp")):
                found.append(pid)
    return found or None


@pytest.mark.task(6)
def test_process_pool_server_serves_clients_with_cpu_count_processes_each_with_a_thread_pool(student):
    cpus = _cpu_count_as_the_worker_sees_it(student)
    port = free_port()
    student.run(probes.start_process_pool_server, port)
    count = cpus + 1  # more clients than processes: one process must serve two of them at once
    clients: list[socket.socket] = []
    processes_at_first: list[int] = []
    try:
        for number in range(1, count + 1):
            first = number == 1
            client = _connect(student, port, limit=60 if first else 15)
            clients.append(client)
            client.settimeout(60 if first else 15)
            message = f"hello from client {number} of {count}".encode()
            echoed = exchange(client, message)
            if echoed == "silent" and first:
                pytest.fail(
                    f"the first client got no echo within 60 s: no process accepted it. Is work_process running "
                    "in the pool's processes? An error raised in work_process is kept in the result of "
                    f"apply_async, where no one sees it: call work_process(server) once yourself to see it "
                    f"({student.where()})",
                    pytrace=False,
                )
            assert echoed != "silent", (
                f"client {number} got no echo within 15 s while the {number - 1} client(s) before it stayed "
                f"connected: your server serves one client per process. {cpus} processes serve many clients at "
                "once when each hands its connections to a thread pool: in work_process, give each connection "
                "to a ThreadPool(2 * cpu_count()) with apply_async and go straight back to accept()"
            )
            assert echoed == message, f"client {number} sent {message!r} and got back {echoed!r}"
            if first:  # a Pool has started all its processes before it runs a task
                processes_at_first = _pool_processes(student.pid)
        for number, client in enumerate(clients, start=1):
            message = f"client {number} again".encode()
            echoed = exchange(client, message)
            assert echoed == message, (
                f"with all {count} clients connected, client {number} sent {message!r} and got back {echoed!r}: "
                "every client must be served for as long as it stays connected"
            )

        root = student.pid
        held = {number: _holders(root, port, client.getsockname()[1]) for number, client in enumerate(clients, 1)}
        if all(pids is not None for pids in held.values()):  # else this machine cannot tell who holds a socket
            alone = [number for number, pids in held.items() if set(pids) <= {root}]
            assert not alone, (
                f"client(s) {alone} were served by the process that called serve, not by a process of a pool: "
                f"make multiprocessing.Pool(multiprocessing.cpu_count()) and run work_process in each of its "
                "processes with apply_async(work_process, (server,))"
            )
        pool = _pool_processes(root)
        assert len(pool) <= len(processes_at_first), (
            f"your server ran {len(processes_at_first)} process(es) while 1 client was connected and "
            f"{len(pool)} with {count} clients: it started a process of its own for each client, the outline's "
            f"process-per-client server. A pool starts its {cpus} processes once, and they serve every client"
        )
        assert len(pool) == cpus, (
            f"your server ran {len(pool)} processes (counted from outside, below the process that called "
            f"serve); multiprocessing.cpu_count() is {cpus} here: make multiprocessing.Pool(cpu_count()) and "
            "start work_process once for each of its processes"
        )
        assert not student.run(probes.call_status, "server"), "serve(port) returned; it should serve forever"
    finally:
        for client in clients:
            client.close()
