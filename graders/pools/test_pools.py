"""Grades exercises/pools: the outline's Thread_pool (reused threads, join), ThreadPool results through
apply_async(...).get(), an echo server served by a pool, multiprocessing.Pool with cpu_count(), and the
outline's server of a process pool with a thread pool in each process."""

import contextlib
import os
import random
import socket
import time
import uuid
from pathlib import Path

import pytest

from graders.harness.core import observe, platform
from graders.harness.core.curriculum import say
from graders.harness.core.network import exchange, free_port
from graders.harness.core.observe import Reports
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
    assert ran == count, say(
        f"{count} tasks handed to Thread_pool({n}).apply_async ran {ran} times within 2 s: the pool's threads "
        "must take every task from the queue and run it",
        f"交给 Thread_pool({n}).apply_async 的 {count} 个任务在 2 秒内只运行了 {ran} 次："
        "池里的线程必须从队列中取出每个任务并运行它",
    )
    assert seen["calls"] == [[number, tag] for number in range(count)], say(
        "apply_async(fun, *args, **kwargs) should run fun(*args, **kwargs) once; the tasks were called with "
        f"(number, tag) = {seen['calls'][:4]}...",
        "apply_async(fun, *args, **kwargs) 应当运行一次 fun(*args, **kwargs)；这些任务被调用时的参数是 "
        f"(number, tag) = {seen['calls'][:4]}...",
    )
    assert not seen["in_caller"], say(
        "tasks ran in the thread that called apply_async: apply_async should only put the task into the queue, "
        "for one of the pool's threads to take",
        "任务在调用 apply_async 的线程里运行了：apply_async 只应把任务放进队列，让池里的某个线程取走",
    )
    assert seen["used"] <= n and not seen["used_outside_made"], say(
        f"your pool started a thread per task: {count} tasks ran in {seen['used']} different threads, "
        f"{seen['used_outside_made']} of them started after Thread_pool({n}) was made. A pool starts its {n} "
        "threads once, in __init__, and they take task after task from the queue",
        f"你的池为每个任务启动了一个线程：{count} 个任务在 {seen['used']} 个不同的线程里运行，"
        f"其中 {seen['used_outside_made']} 个是在 Thread_pool({n}) 创建之后才启动的。池只在 __init__ 里启动一次"
        f"它的 {n} 个线程，由它们从队列里一个接一个地取任务",
    )
    assert seen["made"] == n, say(
        f"Thread_pool({n}) started {seen['made']} thread(s) in __init__; expected {n}, one for each task that "
        "may run at once",
        f"Thread_pool({n}) 在 __init__ 里启动了 {seen['made']} 个线程；应当是 {n} 个，可以同时运行的每个任务一个",
    )
    assert seen["made_daemon"], say(
        "the pool's threads are not daemon threads: they wait for tasks forever and would keep the program "
        "from ending. Start them with daemon=True",
        "池里的线程不是守护线程：它们会永远等待任务，让程序无法结束。用 daemon=True 启动它们",
    )
    assert seen["peak"] == n, say(
        f"Thread_pool({n}) ran at most {seen['peak']} task(s) at a time; its {n} threads should each run one",
        f"Thread_pool({n}) 同一时刻最多只运行了 {seen['peak']} 个任务；它的 {n} 个线程应当各运行一个",
    )


@pytest.mark.task(2)
def test_thread_pool_join_waits_for_every_task_and_the_pool_stays_usable(student):
    n, tag = 3, uuid.uuid4().hex[:6]
    naps = [random.choice([0.03, 0.06, 0.1]) for _ in range(6)]
    seen = student.run(probes.pool_join_trace, n, naps, tag, timeout=8)
    for number, batch in enumerate(seen["batches"], start=1):
        which, which_zh = (
            ("the first batch", "第一批")
            if number == 1
            else ("a second batch, handed to the pool after the first join()", "第一次 join() 之后交给池的第二批")
        )
        if not batch["returned"]:
            where = student.where()
            pytest.fail(
                say(
                    f"join() did not return within 2 s after {which} of tasks; {batch['done']} of {batch['total']} "
                    f"tasks had finished. queue.join() returns once task_done() has been called after every task "
                    f"({where})",
                    f"交给池{which_zh}任务之后，join() 在 2 秒内没有返回；{batch['total']} 个任务中完成了 "
                    f"{batch['done']} 个。每个任务之后都调用过 task_done()，queue.join() 才会返回"
                    f"（{where}）",
                ),
                pytrace=False,
            )
        assert batch["done"] == batch["total"], say(
            f"join() returned early: {batch['total'] - batch['done']} of the {batch['total']} tasks of {which} had "
            "not finished yet. It must wait until every task has run: call task_done() after the task, and "
            "self.queue.join() in join()",
            f"join() 返回得太早了：{which_zh}的 {batch['total']} 个任务中还有 {batch['total'] - batch['done']} 个"
            "没有完成。它必须等到每个任务都运行完：在任务之后调用 task_done()，并在 join() 里调用 self.queue.join()",
        )
    assert len(seen["batches"]) == 2, say("the second batch of tasks was never checked", "第二批任务从没被检查过")


@pytest.mark.task(3)
def test_run_all_submits_everything_then_collects_results_in_order(student):
    size = _size_unlike_the_default(range(2, 6))
    pairs = [[number, random.randint(2, 99)] for number in range(2 * size + 1)]
    seen = student.run(probes.run_all_trace, size, pairs, timeout=8)
    assert seen["returned"], student.where_in(lambda where: say(
        f"run_all did not return within 3 s ({where}); did a get() wait for a call that was never "
        "submitted?",
        f"run_all 在 3 秒内没有返回（{where}）；是不是有个 get() 在等一个从没提交过的调用？",
    ))
    expected = [x * y for x, y in pairs]
    assert seen["results"] == expected, say(
        f"run_all(multiply, {pairs[:3]}..., {size}) should return the results in the order of args_list, "
        f"{expected}; it returned {seen['results']}",
        f"run_all(multiply, {pairs[:3]}..., {size}) 应当按 args_list 的顺序返回结果 {expected}；"
        f"它返回了 {seen['results']}",
    )
    assert seen["peak"] != 1, say(
        f"at most 1 call ran at a time on a pool of {size}: they ran one after another. "
        "Calling .get() right after each apply_async waits for that call before the next is submitted: "
        "submit them all first, then get() each result",
        f"在大小为 {size} 的线程池上，同一时刻最多只有 1 个调用在运行：它们是一个接一个运行的。"
        "每次 apply_async 之后立刻调用 .get()，就会在提交下一个调用之前等这个调用完成："
        "先把它们全部提交，再对每个结果 get()",
    )
    assert seen["peak"] == size, say(
        f"run_all(func, args_list, {size}) ran at most {seen['peak']} calls at a time; a pool of {size} runs "
        f"{size}: is the pool made with ThreadPool({size})? (ThreadPool() alone has one thread per CPU)",
        f"run_all(func, args_list, {size}) 同一时刻最多只运行了 {seen['peak']} 个调用；大小为 {size} 的线程池"
        f"会同时运行 {size} 个：线程池是用 ThreadPool({size}) 创建的吗？（只写 ThreadPool() 的话，每个 CPU 一个线程）",
    )
    assert seen["threads"] <= size, say(
        f"the calls ran in {seen['threads']} different threads; a ThreadPool({size}) has {size}",
        f"这些调用在 {seen['threads']} 个不同的线程里运行；ThreadPool({size}) 只有 {size} 个线程",
    )
    assert seen["left_running"] <= 0, say(
        f"run_all returned with {seen['left_running']} more threads running than before: close() and join() "
        "the pool before returning",
        f"run_all 返回时，运行中的线程比之前多了 {seen['left_running']} 个：返回之前要 close() 并 join() 线程池",
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
                where = student.where()
                pytest.fail(
                    say(
                        f"client {number} got no echo within 1 s while {number - 1} other client(s) stayed "
                        f"connected: with ThreadPool({size}), {size} clients are served at once, but your server "
                        f"served only {number - 1} at a time: is the pool made with ThreadPool({size})? "
                        f"({where})",
                        f"另外 {number - 1} 个客户端保持连接时，客户端 {number} 在 1 秒内没有收到回显："
                        f"用 ThreadPool({size}) 可以同时服务 {size} 个客户端，而你的服务器一次只服务了 "
                        f"{number - 1} 个：线程池是用 ThreadPool({size}) 创建的吗？（{where}）",
                    ),
                    pytrace=False,
                )
            assert echoed == message, say(
                f"sent {message!r}, got back {echoed!r}", f"发送了 {message!r}，收到的却是 {echoed!r}"
            )
        extra.settimeout(0.3)
        try:
            echoed = _echo(extra, b"I am client number size + 1")
        except TimeoutError:
            echoed = b""
        assert not echoed, say(
            f"with {size} clients connected, a pool of {size} threads has none left, yet client {size + 1} was "
            f"served at once: your server starts a thread per connection, or a pool that is not made with "
            f"ThreadPool({size}); hand every connection to one ThreadPool({size})",
            f"已经连上 {size} 个客户端时，{size} 个线程的池已经没有空闲线程了，客户端 {size + 1} 却立刻得到了服务："
            f"你的服务器为每个连接启动一个线程，或者线程池不是用 ThreadPool({size}) 创建的；"
            f"要把每个连接都交给同一个 ThreadPool({size})",
        )
        threads = student.run(thread_count) - before
        assert threads <= size + 5, say(
            f"serving {size} clients, the server process had {threads} more threads than before: a pool of "
            f"{size} needs {size} worker threads (and a few of its own), not one per connection",
            f"服务 {size} 个客户端时，服务器进程的线程比之前多了 {threads} 个：大小为 {size} 的线程池需要 {size} 个"
            "工作线程（再加上它自己的几个），而不是每个连接一个",
        )
        served[0].close()
        extra.settimeout(1)
        try:
            received = extra.recv(4096)
        except TimeoutError:
            received = b""
        assert received, say(
            f"after client 1 left, client {size + 1}, which had been waiting, was not served within 1 s: the pool "
            "thread that served client 1 should take the next connection",
            f"客户端 1 离开后，一直在等的客户端 {size + 1} 在 1 秒内没有得到服务："
            "服务过客户端 1 的那个池线程应当接着处理下一个连接",
        )
    finally:
        for client in clients:
            client.close()


# -- process pools: facts read here, from outside the worker ---------------------------------------------------


def _cpu_count_to_tell() -> int:
    """The CPU count the student's code is told (`probes.tell_cpu_count`): 3, or 6 on a machine that has 3, so
    never the machine's own. A pool size written as a number (Pool(2), Pool(4), the outline's ThreadPool(2) or
    ThreadPool(5)) then fails on every machine, not only on those with another number of CPUs."""
    return 6 if os.cpu_count() == 3 else 3


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
    cpus = _cpu_count_to_tell()
    items, salt = list(range(3 * cpus + 1)), uuid.uuid4().hex[:8]
    begun = student.run(probes.start_pool_map, items, salt, cpus)
    reports = Reports(begun["folder"]).within(student.workdir)
    held = _watch_held_items(student, reports)
    holders, pool = held["holders"], held["pool"]
    if not held["started"]:
        pytest.fail(
            student.where_in(lambda where: say(
                f"pool_map(fn, {len(items)} items) "
                + ("returned without calling fn" if held["done"] else "did not call fn within 90 s")
                + f": hand the items to the pool, e.g. pool.map(fn, items) ({where})",
                f"pool_map(fn, {len(items)} 个 item) "
                + ("没有调用 fn 就返回了" if held["done"] else "在 90 秒内没有调用 fn")
                + f"：把这些 item 交给进程池，例如 pool.map(fn, items)（{where}）",
            )),
            pytrace=False,
        )
    assert student.pid not in holders, say(
        f"fn ran in the process that called pool_map (pid {begun['me']}), not in the pool's processes: a "
        "ThreadPool runs its tasks in threads of the same process. Use multiprocessing.Pool, whose tasks run in "
        "processes of their own, one per CPU",
        f"fn 是在调用 pool_map 的进程（pid {begun['me']}）里运行的，而不是在进程池的进程里：ThreadPool "
        "在同一个进程的线程里运行任务。用 multiprocessing.Pool，它的任务在各自独立的进程里运行，每个 CPU 一个进程",
    )
    assert len(pool) == cpus, say(
        f"while the grader held the items, your pool had {len(pool)} processes (counted from outside, below the "
        f"process that called pool_map); the checks make multiprocessing.cpu_count() say {cpus}, so "
        f"Pool(cpu_count()) has {cpus}: make the pool with multiprocessing.Pool(multiprocessing.cpu_count())",
        f"评分程序扣住这些 item 时，你的进程池有 {len(pool)} 个进程（从外部数的，在调用 pool_map 的进程下面）；"
        f"检查让 multiprocessing.cpu_count() 返回 {cpus}，所以 Pool(cpu_count()) 有 {cpus} 个进程："
        "用 multiprocessing.Pool(multiprocessing.cpu_count()) 创建进程池",
    )
    assert set(holders) == set(pool), say(
        f"only {len(holders)} of the {len(pool)} processes of your pool had an item while the grader held them "
        "(no new item started for 20 s): the items ran one after another. Hand them all to the pool before "
        "you wait for a result: pool.map(fn, items), or apply_async every item first and get() afterwards",
        f"评分程序扣住这些 item 时，你的进程池的 {len(pool)} 个进程中只有 {len(holders)} 个拿到了 item"
        "（20 秒内没有新的 item 开始）：这些 item 是一个接一个运行的。在等待任何结果之前，先把它们全部交给进程池："
        "pool.map(fn, items)，或者先对每个 item 调用 apply_async，之后再 get()",
    )

    seen = student.run(probes.finish_pool_map, 60, timeout=90)
    assert seen["returned"], student.where_in(lambda where: say(
        f"pool_map did not return within 60 s after the grader let its items go ({where})",
        f"评分程序放开这些 item 后 60 秒内 pool_map 没有返回（{where}）",
    ))
    expected = [f"{salt}:{item * item}" for item in items]
    got = seen["results"]
    if isinstance(got, list) and sorted(got, key=repr) == sorted(expected, key=repr) and got != expected:
        pytest.fail(
            say(
                f"pool_map returned the right results in the wrong order: the grader let the items finish in another "
                f"order than theirs, and your results came back in the order they finished ({got[:3]}...). "
                "pool.map(fn, items), or the get() of each apply_async result in the order you made them, gives the "
                "results in the order of the items; imap_unordered and callbacks give them as they finish",
                f"pool_map 返回的结果是对的，但顺序错了：评分程序让这些 item 按与原来不同的顺序完成，"
                f"而你的结果是按完成的先后顺序返回的（{got[:3]}...）。pool.map(fn, items)，"
                "或者按创建的顺序对每个 apply_async 的结果 get()，都会按 item 的顺序给出结果；"
                "imap_unordered 和回调函数则按完成的先后顺序给出结果",
            ),
            pytrace=False,
        )
    assert got == expected and seen["is_list"], say(
        f"pool_map(fn, items) should return the list [fn(item) for item in items] in the order of the items, "
        f"{expected[:3]}...; it returned {got!r:.300}",
        f"pool_map(fn, items) 应当按 item 的顺序返回列表 [fn(item) for item in items]，即 "
        f"{expected[:3]}...；它返回了 {got!r:.300}",
    )
    left = observe.still_running(sorted(set(pool) | set(holders)), grace=2.0)
    assert not left, say(
        f"{len(left)} process(es) of your pool (pids {left}) were still running after pool_map returned: close() "
        "and join() the pool before returning (or make it in a with-block), so that none of its processes "
        "outlives the call",
        f"pool_map 返回后，你的进程池还有 {len(left)} 个进程（pid {left}）在运行：返回之前要 close() 并 join() "
        "进程池（或者在 with 块里创建它），不让它的任何进程在调用结束后继续存在",
    )


def _connect(student, port: int, limit: float) -> socket.socket:
    """A client of the student's server, once it listens (it may take a while to start its processes)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if student.run(probes.call_status, "server"):  # raises the student's error, if serve raised one
                pytest.fail(
                    say(
                        "serve(port) returned; it should serve clients forever",
                        "serve(port) 返回了；它应当永远服务客户端",
                    ),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    student.where_in(lambda where: say(
                        f"nothing listened on port {port} within {limit:g} s after serve({port}) was called: "
                        f"listen on ('127.0.0.1', port) ({where})",
                        f"调用 serve({port}) 后 {limit:g} 秒内，端口 {port} 上没有任何程序在监听："
                        f"在 ('127.0.0.1', port) 上监听（{where}）",
                    )),
                    pytrace=False,
                )
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
    cpus = _cpu_count_to_tell()
    port = free_port()
    student.run(probes.start_process_pool_server, port, cpus)
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
                    student.where_in(lambda where: say(
                        f"the first client got no echo within 60 s: no process accepted it. Is work_process running "
                        "in the pool's processes? An error raised in work_process is kept in the result of "
                        f"apply_async, where no one sees it: call work_process(server) once yourself to see it "
                        f"({where})",
                        "第一个客户端在 60 秒内没有收到回显：没有进程 accept 它。"
                        "work_process 在进程池的进程里运行了吗？work_process 里抛出的异常会留在 apply_async 的结果里，"
                        "没人看得到："
                        f"自己直接调用一次 work_process(server) 就能看到它（{where}）",
                    )),
                    pytrace=False,
                )
            assert echoed != "silent", say(
                f"client {number} got no echo within 15 s while the {number - 1} client(s) before it stayed "
                f"connected: your server serves one client per process. {cpus} processes serve many clients at "
                "once when each hands its connections to a thread pool: in work_process, give each connection "
                "to a ThreadPool(2 * cpu_count()) with apply_async and go straight back to accept()",
                f"前面的 {number - 1} 个客户端保持连接时，客户端 {number} 在 15 秒内没有收到回显："
                "你的服务器每个进程只服务一个客户端。每个进程都把连接交给线程池时，"
                f"{cpus} 个进程就能同时服务许多客户端：在 work_process 里用 apply_async 把每个连接交给一个 "
                "ThreadPool(2 * cpu_count())，然后立刻回到 accept()",
            )
            assert echoed == message, say(
                f"client {number} sent {message!r} and got back {echoed!r}",
                f"客户端 {number} 发送了 {message!r}，收到的却是 {echoed!r}",
            )
            if first:  # a Pool has started all its processes before it runs a task
                processes_at_first = _pool_processes(student.pid)
        for number, client in enumerate(clients, start=1):
            message = f"client {number} again".encode()
            echoed = exchange(client, message)
            assert echoed == message, say(
                f"with all {count} clients connected, client {number} sent {message!r} and got back {echoed!r}: "
                "every client must be served for as long as it stays connected",
                f"全部 {count} 个客户端都连着时，客户端 {number} 发送了 {message!r}，收到的却是 {echoed!r}："
                "每个客户端只要还连着，就必须一直得到服务",
            )

        root = student.pid
        held = {number: _holders(root, port, client.getsockname()[1]) for number, client in enumerate(clients, 1)}
        if all(pids is not None for pids in held.values()):  # else this machine cannot tell who holds a socket
            alone = [number for number, pids in held.items() if set(pids) <= {root}]
            assert not alone, say(
                f"client(s) {alone} were served by the process that called serve, not by a process of a pool: "
                f"make multiprocessing.Pool(multiprocessing.cpu_count()) and run work_process in each of its "
                "processes with apply_async(work_process, (server,))",
                f"客户端 {alone} 是由调用 serve 的进程服务的，而不是由进程池的进程服务："
                "创建 multiprocessing.Pool(multiprocessing.cpu_count())，"
                "并用 apply_async(work_process, (server,)) 在它的每个进程里运行 work_process",
            )
        pool = _pool_processes(root)
        assert len(pool) <= len(processes_at_first), say(
            f"your server ran {len(processes_at_first)} process(es) while 1 client was connected and "
            f"{len(pool)} with {count} clients: it started a process of its own for each client, the outline's "
            f"process-per-client server. A pool starts its {cpus} processes once, and they serve every client",
            f"连着 1 个客户端时，你的服务器运行了 {len(processes_at_first)} 个进程，连着 {count} 个客户端时是 "
            f"{len(pool)} 个：它为每个客户端单独启动了一个进程，也就是大纲里每个客户端一个进程的服务器。"
            f"进程池只启动一次它的 {cpus} 个进程，由它们服务所有客户端",
        )
        assert len(pool) == cpus, say(
            f"your server ran {len(pool)} processes (counted from outside, below the process that called "
            f"serve); the checks make multiprocessing.cpu_count() say {cpus}: make "
            "multiprocessing.Pool(cpu_count()) and start work_process once for each of its processes",
            f"你的服务器运行了 {len(pool)} 个进程（从外部数的，在调用 serve 的进程下面）；"
            f"检查让 multiprocessing.cpu_count() 返回 {cpus}：创建 multiprocessing.Pool(cpu_count())，"
            "并为它的每个进程启动一次 work_process",
        )
        assert not student.run(probes.call_status, "server"), say(
            "serve(port) returned; it should serve forever", "serve(port) 返回了；它应当永远运行下去"
        )
    finally:
        for client in clients:
            client.close()
