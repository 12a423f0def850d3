"""Grades exercises/threads: starting and joining, the counter race, a thread per client, I/O in threads,
CPU-bound work in threads and in processes (the GIL), and choosing between them (parallel or concurrent).

The verdicts rest on what the grader sees from outside the worker: the calls of the student's threads
arriving at the grader's switchboard (which ones run at once, and when start_and_join returns compared with
when the grader let the last one finish, on the grader's clock), the worker's threads as the kernel counts
them (/proc/<pid>/task), the CPU time of each thread of the worker and of each process below it, and the
echo server through the grader's own sockets. Only the counter's final value, the results of task 5 and
the answers of choose() are read inside the worker, and what they should be is known only here.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import socket
import time
from dataclasses import dataclass, field

import pytest

from graders.harness.core import observe
from graders.harness.core.curriculum import say
from graders.harness.core.network import exchange, free_port
from graders.harness.core.student import StudentError, TimedOut
from graders.threads import probes
from graders.threads.switchboard import Background, Switchboard

HOLD = 0.4  # how much longer than the others the grader keeps one target running: wrong code returns within ms
# Waits that only wrong code pays for, long enough for correct code on a machine with every core busy:
QUIET = 2.0  # no new call for this long: no more are coming until the grader answers one
ECHO_WAIT = 3.0  # a client that got no echo for this long is being ignored


def _blocked(student):
    """Whether every thread of the worker is blocked right now (read from outside, see observe.idle)."""
    return lambda: observe.idle(student.pid)


def _worker_threads(student) -> int | None:
    """The worker's thread count from /proc, after starting it if it is not running yet."""
    student.run(probes.ready)
    return observe.threads(student.pid)


def _in_brackets(text: str) -> str:
    """`text` (already in the student's language, e.g. student.where()) in brackets, as a message ends."""
    return say(" (", "（") + text + say(")", "）")


def _crash_note(student) -> str:
    """What crashed in the worker since the last call, as a sentence to add to a message; "" if nothing did."""
    try:
        student.run(probes.ready)
    except StudentError as error:
        return _in_brackets(error.message)
    return ""


# -- task 1 ----------------------------------------------------------------------------------------------------


def _check_start_and_join(student, count: int) -> None:
    base = _worker_threads(student)
    board = Switchboard()
    call = Background(student, probes.start_and_join_calls, board.port, count, timeout=2 * QUIET + 3 + HOLD)
    expected = [f"target {index}" for index in range(count)]
    try:
        at_once = board.gather(count, patience=2 * QUIET, quiet=QUIET, done=call.done, waiting=_blocked(student))
        threads_then = observe.threads(student.pid)
        if call.done():
            call.result()  # raises what the student's code raised
            running = count - len(board.answered)
            pytest.fail(
                say(
                    f"start_and_join returned while {running} of {count} threads were still running "
                    f"(target was called with {_indexes(board.names)} by then, and the grader had let none of them "
                    "finish): join every thread before returning",
                    f"start_and_join 返回时，{count} 个线程中还有 {running} 个在运行（到那时 target 被调用时传入的是 "
                    f"{_indexes(board.names)}，而评分程序还没有让其中任何一个结束）：返回之前要 join 每一个线程",
                ),
                pytrace=False,
            )
        unexpected = sorted(set(board.names) - set(expected)) or sorted(n for n in expected if board.names.count(n) > 1)
        assert not unexpected, say(
            f"target should be called once with each of 0..{count - 1}; it was called with {_indexes(board.names)}",
            f"target 应当对 0..{count - 1} 中的每个数各调用一次；实际调用时传入的是 {_indexes(board.names)}",
        )
        if at_once < count:
            if base is not None and threads_then is not None and threads_then <= base:
                pytest.fail(
                    say(
                        "target ran in the thread that called start_and_join (the process had no more threads than "
                        "before): create a threading.Thread(target=target, args=(i,)) for each call and start() it; "
                        "thread.run() or target(i) runs it right here",
                        "target 在调用 start_and_join 的线程里运行了（进程的线程数并不比之前多）：为每次调用创建一个 "
                        "threading.Thread(target=target, args=(i,)) 并 start() 它；thread.run() 或 target(i) "
                        "会就地在当前线程里运行它",
                    ),
                    pytrace=False,
                )
            pytest.fail(
                say(
                    f"only {at_once} of {count} targets were running at once; the next one started only after the "
                    "previous had finished: the threads ran one after another. Start them all before joining any.",
                    f"{count} 个 target 中只有 {at_once} 个在同时运行；下一个要等上一个结束后才开始："
                    "这些线程是一个接一个地运行的。先启动所有线程，再开始 join。",
                ),
                pytrace=False,
            )
        if base is not None and threads_then is not None:
            assert threads_then - base >= count, say(
                f"while {count} targets were running, the process had only {threads_then - base} more threads than "
                f"before: each call of target needs a thread of its own",
                f"{count} 个 target 正在运行时，进程的线程只比之前多了 {threads_then - base} 个："
                "每次调用 target 都需要自己的线程",
            )
        # Let every target finish at a different moment; one in the middle finishes last, HOLD s after the others.
        held = f"target {count // 2}"
        others = [name for name in expected if name != held]
        random.shuffle(others)
        for name in others:
            board.answer(name)
            time.sleep(0.005)
        call.join(HOLD)
        if call.done():
            call.result()
            pytest.fail(
                say(
                    f"start_and_join returned while target({count // 2}) was still running, which the grader kept "
                    f"going {HOLD:g} s longer than the others: threads that do not finish together were still running "
                    "when it returned. Join every thread (a sleep is not enough, and joining only one of them neither)",
                    f"start_and_join 返回时 target({count // 2}) 还在运行，评分程序让它比其他的多运行了 {HOLD:g} 秒："
                    "它返回时，不同时结束的线程还在运行。要 join 每一个线程"
                    "（sleep 一会儿不够，只 join 其中一个也不够）",
                ),
                pytrace=False,
            )
        board.answer(held)
        if not call.join(2):
            pytest.fail(
                say("every target had finished, and start_and_join did not return within 2 s",
                    "所有 target 都已结束，start_and_join 却没有在 2 秒内返回") + _in_brackets(student.where()),
                pytrace=False,
            )
        call.result()
    finally:
        board.close()
        call.join(5)


def _indexes(names: list[str]) -> list:
    return sorted(int(name.split()[-1]) if name.split()[-1].isdigit() else name for name in names)


@pytest.mark.task(1)
def test_start_and_join_runs_every_target_in_its_own_thread_and_waits_for_all(student):
    _check_start_and_join(student, 6)


# -- task 2 ----------------------------------------------------------------------------------------------------


# Implementations whose counter deadlocked once: later counter checks fail at once with the same message,
# instead of waiting out the same timeout again.
_DEADLOCKED: dict[str, str] = {}


def _hammer(student, counts: list[int]) -> None:
    label = student.implementation.label
    if label in _DEADLOCKED:
        pytest.fail(
            _DEADLOCKED[label] + say(" (seen in an earlier check of the counter)", "（在之前一次检查计数器时发现）"),
            pytrace=False,
        )
    board = Switchboard()
    call = Background(student, probes.hammer_counter, board.port, len(counts), timeout=2 * QUIET + 3)
    try:
        board.gather(len(counts), patience=2 * QUIET, quiet=QUIET, done=call.done, waiting=_blocked(student))
        for number, count in enumerate(counts):
            name = f"thread {number}"
            if name in board.waiting:
                board.answer(name, bytes(count))
        call.join(4)
        try:
            total = call.result()
        except TimedOut as error:
            _DEADLOCKED[label] = error.message
            raise
    finally:
        board.close()
        call.join(4)
    expected = sum(counts)
    assert total == expected, say(
        f"{len(counts)} threads called increment() {expected} times in all (between {min(counts)} and {max(counts)} "
        f"each); your counter ended at {total}: {expected - total} updates were lost. Hold one Lock, shared by "
        "every thread, around the read and the write of self.value",
        f"{len(counts)} 个线程一共调用了 {expected} 次 increment()（每个线程 {min(counts)} 到 {max(counts)} 次）；"
        f"你的计数器最后是 {total}：丢失了 {expected - total} 次更新。用一把所有线程共用的 Lock，"
        "把对 self.value 的读和写一起保护起来",
    )


@pytest.mark.task(2)
def test_counter_loses_no_update_from_four_threads(student):
    _hammer(student, random.sample(range(60, 140), 4))


# -- task 3 ----------------------------------------------------------------------------------------------------


def _leave_cleanly(clients: list[socket.socket], limit: float = 1.0) -> None:
    """Say goodbye as a polite client does: no more data (SHUT_WR), read what is left until the server closes.

    Closing with an echo still unread makes the kernel reset the connection, and the student's recv() would
    die with ConnectionResetError: the grader's own leaving must never fail a correct server.
    """
    for client in clients:
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + limit
    for client in clients:
        try:
            while (left := deadline - time.monotonic()) > 0:
                client.settimeout(left)
                if not client.recv(4096):
                    break
        except OSError:
            pass
        client.close()


@pytest.mark.task(3)
def test_a_silent_client_does_not_block_the_others(student):
    port = free_port()
    base = _worker_threads(student)
    student.run(probes.start_echo_server, port)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=ECHO_WAIT) for _ in range(4)]
    try:
        first, talkers = clients[0], clients[1:]
        hello = f"client 1 says hello {secrets.token_hex(4)}".encode()
        got = exchange(first, hello, patience=ECHO_WAIT, waiting=_blocked(student))
        if got != hello:
            _fail_client(student, 1, got, hello, ("its first message", "第一条消息"))
        for number, client in enumerate(talkers, 2):
            message = f"client {number} says {secrets.token_hex(6)}".encode()
            got = exchange(client, message, patience=ECHO_WAIT, waiting=_blocked(student))
            if got == "silent":
                pytest.fail(
                    say(
                        f"client {number} got no echo while client 1 stayed connected and silent, and the server "
                        "waited instead: it is busy with one client at a time (",
                        f"客户端 1 保持连接却一直不发数据时，客户端 {number} 没有收到回显，服务器一直在等："
                        "它一次只服务一个客户端（",
                    ) + student.where() + say(
                        "). Hand each connection to a new thread and go straight back to accept()",
                        "）。把每个连接交给一个新线程，然后立刻回到 accept()",
                    ),
                    pytrace=False,
                )
            if got != message:
                _fail_client(student, number, got, message, ("its message", "消息"))
        again = f"client 1 speaks again {secrets.token_hex(4)}".encode()
        got = exchange(first, again, patience=ECHO_WAIT, waiting=_blocked(student))
        if got != again:
            _fail_client(student, 1, got, again,
                         ("a second message after the others were served", "其他客户端都得到服务之后的第二条消息"))
        # Every connection must still echo: a connection closed under its thread (by the accept loop) can
        # still answer once, then its thread dies; the thread count below would name only the symptom.
        for number, client in enumerate(talkers, 2):
            message = f"client {number} speaks again {secrets.token_hex(6)}".encode()
            got = exchange(client, message, patience=ECHO_WAIT, waiting=_blocked(student))
            if got != message:
                _fail_client(student, number, got, message, ("a second message", "第二条消息"))
        threads_now = observe.threads(student.pid)
        if base is not None and threads_now is not None:
            assert threads_now - base >= 1 + len(clients), say(
                f"with {len(clients)} clients connected the server process had {threads_now - base} more threads "
                "than before it started; expected one for the server and one per client",
                f"{len(clients)} 个客户端连接着的时候，服务器进程的线程比它启动前多了 {threads_now - base} 个；"
                "应当是服务器一个，再加上每个客户端一个",
            )
    finally:
        _leave_cleanly(clients)
    crash = _crash_note(student)
    assert not crash, say("the server crashed while its clients left one by one",
                          "客户端逐个离开时，服务器崩溃了") + crash


def _fail_client(student, number: int, got: bytes | str, message: bytes, what: tuple[str, str]) -> None:
    """Fail with what client `number` got for `what` (its words in English and Chinese) instead of its echo."""
    what_en, what_zh = what
    if got in ("closed", "reset"):
        happened = "关闭" if got == "closed" else "重置"
        pytest.fail(
            say(f"client {number} sent {what_en} and its connection was {got} instead of echoed",
                f"客户端 {number} 发送{what_zh}后，连接被{happened}了，没有收到回显")
            + _crash_note(student) + say(
                ": the connection belongs to the thread running handle(conn), which closes it when the client leaves "
                "(its `with conn:`); the accept loop must not close it",
                "：连接属于运行 handle(conn) 的线程，客户端离开时由它来关闭（它的 `with conn:`）；"
                "accept 循环不能关闭它",
            ),
            pytrace=False,
        )
    if got == "silent":
        pytest.fail(say(f"client {number} sent {what_en} and got no echo; the server was waiting for something else",
                        f"客户端 {number} 发送{what_zh}后没有收到回显；服务器在等别的东西")
                    + _in_brackets(student.where()), pytrace=False)
    pytest.fail(say(f"client {number} sent {what_en}, {message!r}, and got back {got!r}",
                    f"客户端 {number} 发送了{what_zh} {message!r}，收回来的却是 {got!r}"), pytrace=False)


# -- task 4 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_fetch_all_runs_slow_fetches_at_the_same_time_and_keeps_their_order(student):
    count = 8
    base = _worker_threads(student)
    board = Switchboard()
    call = Background(student, probes.fetch_all_calls, board.port, count, timeout=2 * QUIET + 6)
    answers = {f"item {index}": secrets.token_hex(6).encode() for index in range(count)}
    try:
        at_once = board.gather(count, patience=2 * QUIET, quiet=QUIET, done=call.done, waiting=_blocked(student))
        threads_then = observe.threads(student.pid)
        if call.done():
            call.result()
            pytest.fail(
                say(
                    f"fetch_all returned while {at_once} of its fetches were still running: join every thread before "
                    "returning the results",
                    f"fetch_all 返回时，它还有 {at_once} 次 fetch 在运行：返回结果之前要 join 每一个线程",
                ),
                pytrace=False,
            )
        unknown = sorted(set(board.names) - set(answers))
        assert not unknown, say(
            f"fetch should be called with the items 0..{count - 1}; it was called with {unknown}",
            f"调用 fetch 时应当传入 item 0..{count - 1}；实际传入的是 {unknown}",
        )
        if at_once < 4:
            pytest.fail(
                say(
                    f"only {at_once} of {count} fetches were running at once: the fetches ran one after another. Run "
                    "each in a thread, all started before any is joined",
                    f"{count} 次 fetch 中只有 {at_once} 次在同时运行：这些 fetch 是一个接一个地运行的。"
                    "把每次 fetch 放进一个线程，全部启动之后再 join",
                ),
                pytrace=False,
            )
        if base is not None and threads_then is not None:
            assert threads_then - base >= at_once, say(
                f"while {at_once} fetches were running, the process had only {threads_then - base} more threads",
                f"{at_once} 次 fetch 正在运行时，进程的线程只多了 {threads_then - base} 个",
            )
        # Answer in an order other than the items': slow and fast fetches finish in a mixed order.
        last_first, *rest = sorted(board.waiting, key=lambda name: -int(name.split()[-1]))
        random.shuffle(rest)
        *order, held = [last_first, *rest]
        for name in order:
            board.answer(name, answers[name])
            time.sleep(0.005)
        call.join(HOLD)  # one fetch is slower than all the others
        if call.done():
            call.result()
            pytest.fail(
                say(
                    f"fetch_all returned while the fetch of {held}, slower than the others, was still running: join "
                    "every thread before returning the results",
                    f"fetch_all 返回时，对 {held} 的 fetch（比其他的都慢）还在运行：返回结果之前要 join 每一个线程",
                ),
                pytrace=False,
            )
        board.answer(held, answers[held])
        deadline = time.monotonic() + 3
        while not call.done() and time.monotonic() < deadline:  # a pool of threads fetches the rest later
            board.gather(count, patience=0.1, quiet=0.1, done=call.done)
            for name in list(board.waiting):
                board.answer(name, answers.get(name, b""))
        call.join(3)
        results = call.result()
    finally:
        board.close()
        call.join(6)
    missing = ", ".join(name for name in answers if name not in board.names)
    assert not missing, say(f"fetch_all never called fetch for {missing}", f"fetch_all 从没有对 {missing} 调用 fetch")
    expected = [answers[f"item {index}"] for index in range(count)]
    assert results == expected, say(
        f"fetch_all should return [fetch(items[0]), fetch(items[1]), ...] in the order of items; the fetches "
        f"returned {expected} and fetch_all returned {results}: put each "
        "result at its item's index, not in the order the threads finish",
        f"fetch_all 应当按 items 的顺序返回 [fetch(items[0]), fetch(items[1]), ...]；这些 fetch 返回的是 {expected}，"
        f"而 fetch_all 返回了 {results}：要把每个结果放在它的 item 所在的下标上，而不是按线程结束的先后顺序",
    )


# -- task 5 ----------------------------------------------------------------------------------------------------

WORK = 0.05  # CPU seconds that each call of fn computes (Fib measures its own thread's CPU time)
CALLS = 2


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@dataclass
class _CpuRun:
    """What the grader saw of one run of run_in_threads or run_in_processes, read from /proc while the calls of fn
    that had done their work waited at the switchboard."""

    items: list[int]
    peak: int = 0  # calls of fn that had done their work and waited at once
    worker_cpu: float | None = None  # CPU seconds the worker process itself used during the call
    threads: dict[int, float] = field(default_factory=dict)  # the worker's threads started during the call
    children: dict[int, float] = field(default_factory=dict)  # the processes below the worker
    results: object = None
    measured: bool = False  # whether the kernel's CPU times of processes could be read (/proc, or psutil)
    measured_threads: bool = False  # and those of each thread

    def busy(self, where: dict[int, float]) -> list[float]:
        """The CPU times of the threads or processes that did at least half the work of one call."""
        return sorted((seconds for seconds in where.values() if seconds >= WORK / 2), reverse=True)

    @property
    def expected(self) -> list[int]:
        return [_fib(n) for n in self.items]


def _drive_cpu_work(student, probe, *, processes: bool) -> _CpuRun:
    """Run `probe` (run_in_threads or run_in_processes on fn = Fib) and watch it from outside.

    Each call of fn computes for WORK s of CPU, then waits at the switchboard. While they wait, the grader reads
    the CPU time of the worker, of each of its threads and of each process below it. It then lets them finish
    last item first, each child process gone before the next is let go, so that they finish in an order other
    than the items'.
    """
    seen = _CpuRun(random.sample(range(17, 23), CALLS))
    pid = _worker_pid(student)
    threads_before = observe.thread_cpu_seconds(pid)
    cpu_before = observe.cpu_seconds(pid)
    seen.measured, seen.measured_threads = cpu_before is not None, threads_before is not None
    board = Switchboard()
    call = Background(student, probe, board.port, WORK, seen.items, timeout=40)
    try:
        board.gather(1, patience=20, quiet=20, done=call.done)  # spawn may take a while on a busy machine
        while board.waiting:
            board.gather(CALLS - len(board.answered), patience=10, quiet=4, done=call.done)
            seen.peak = max(seen.peak, len(board.waiting))
            worker_cpu = observe.cpu_seconds(pid)
            if worker_cpu is not None and cpu_before is not None:
                seen.worker_cpu = worker_cpu - cpu_before
            for tid, seconds in (observe.thread_cpu_seconds(pid) or {}).items():
                if tid not in (threads_before or {}):
                    seen.threads[tid] = max(seconds, seen.threads.get(tid, 0.0))
            for child, seconds in observe.tree_cpu_seconds(pid).items():
                seen.children[child] = max(seconds, seen.children.get(child, 0.0))
            if seen.peak < 2:
                return seen  # one at a time: judged at once, the rest is let go when the board closes
            for name in sorted(board.waiting, key=lambda name: -_item_index(seen.items, name)):
                board.answer(name)
                if processes and name.split()[-1].isdigit():
                    observe.still_running(observe.as_seen_here(pid, [int(name.split()[-1])]), grace=2)
                else:
                    time.sleep(0.01)
            board.gather(1, patience=2, quiet=2, done=call.done)  # a pool's next calls
        call.join(20)
        seen.results = call.result()
    finally:
        board.close()
        call.join(10)
    return seen


def _item_index(items: list[int], name: str) -> int:
    """Where the item of a call named `fib <n> <pid>` stands in `items` (-1 if it is not one of them)."""
    parts = name.split()
    return items.index(int(parts[1])) if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in items else -1


def _worker_pid(student) -> int | None:
    student.run(probes.ready)
    return student.pid


def _explain_start_method(error: StudentError, method: str) -> StudentError:
    """A failure to start a child under spawn or forkserver, with what these start methods need."""
    if "pickl" not in error.message.lower():
        return error
    return StudentError(
        say(
            f"under the start method {method!r} (the default on macOS and Windows, and forkserver on Linux from Python "
            "3.14), the target of a Process and its arguments are pickled and sent to the child, and yours cannot be "
            "pickled: give Process(target=...) a function defined at the top level of your module, not a lambda or "
            "a function nested in run_in_processes, and pass fn and the item as its args. ",
            f"在启动方式 {method!r} 下（macOS 和 Windows 上默认是 spawn，从 Python 3.14 起 Linux 上默认是 "
            "forkserver），Process 的 target 和它的参数会被 pickle 后发送给子进程，而你的不能被 pickle："
            "传给 Process(target=...) 的应当是模块顶层定义的函数，不能是 lambda，也不能是嵌套在 run_in_processes "
            "里的函数，并把 fn 和 item 作为它的 args 传入。",
        ) + error.message,
        error.file,
        error.line,
    )


def _check_results(seen: _CpuRun, function: str) -> None:
    results, expected = seen.results, seen.expected
    if function == "run_in_processes" and isinstance(results, list) and None in results and expected:
        pytest.fail(
            say(
                f"run_in_processes returned {results}; fn returned {expected} in the child processes. A child has "
                "memory of its own: a result it stores in your list changes its own copy, which your process never "
                "sees (the outline's a = 2 demo: after a thread the main thread prints 2, after a process it prints "
                "1). Send each result back through a multiprocessing.Queue (or a Manager().list())",
                f"run_in_processes 返回了 {results}；而 fn 在子进程里返回的是 {expected}。子进程有自己的内存："
                "它存进你的列表的结果只改了它自己的那份拷贝，你的进程永远看不到（大纲里 a = 2 的例子：换成线程，"
                "主线程打印出 2；换成进程，打印出的是 1）。请通过 multiprocessing.Queue（或 Manager().list()）"
                "把每个结果发回来",
            ),
            pytrace=False,
        )
    if isinstance(results, list) and sorted(map(repr, results)) == sorted(map(repr, expected)) and results != expected:
        pytest.fail(
            say(
                f"{function}(fn, {seen.items}) should return [fn(items[0]), fn(items[1]), ...] in the order of items, "
                f"{expected}; it returned {results}, in the order the calls finished. Keep each result with its "
                "item's index (a child can send (index, value) through the queue)",
                f"{function}(fn, {seen.items}) 应当按 items 的顺序返回 [fn(items[0]), fn(items[1]), ...]，"
                f"即 {expected}；它返回的是 {results}，这是调用结束的先后顺序。让每个结果带上它的 item 的下标"
                "（子进程可以通过队列发送 (index, value)）",
            ),
            pytrace=False,
        )
    assert results == expected, say(
        f"{function}(fn, {seen.items}) should return [fn(item) for item in items], {expected}; it returned {results}",
        f"{function}(fn, {seen.items}) 应当返回 [fn(item) for item in items]，即 {expected}；它返回的是 {results}",
    )


@pytest.mark.task(5)
def test_run_in_threads_computes_in_several_threads_of_your_own_process(student):
    seen = _drive_cpu_work(student, probes.cpu_in_threads, processes=False)
    in_children = sum(seen.children.values())
    assert in_children < CALLS * WORK / 2, say(
        f"the processes below yours used {in_children:.2f} s of CPU while run_in_threads ran fn: it started child "
        "processes. run_in_threads should run fn in threads (threading.Thread) of your own process",
        f"run_in_threads 运行 fn 时，你的进程下面的进程用了 {in_children:.2f} 秒 CPU：它启动了子进程。"
        "run_in_threads 应当在你自己进程的线程（threading.Thread）里运行 fn",
    )
    if seen.peak < 2:
        where, where_zh = (
            ("in the thread that called run_in_threads (no thread started during the call did any of the work)",
             "都在调用 run_in_threads 的线程里（调用期间启动的线程都没有做任何计算）")
            if not seen.busy(seen.threads) else ("in one thread at a time", "每次只在一个线程里")
        )
        pytest.fail(
            say(
                f"only one of the {CALLS} calls of fn was running at a time: they ran one after another, {where}. "
                "Start a threading.Thread for every item, all of them before joining any",
                f"{CALLS} 次 fn 调用同一时刻只有一次在运行：它们是一个接一个地运行的，{where_zh}。"
                "为每个 item 启动一个 threading.Thread，全部启动之后再 join",
            ),
            pytrace=False,
        )
    busy = seen.busy(seen.threads)
    if seen.measured_threads:
        assert len(busy) >= 2, say(
            f"each call of fn computes for {WORK:g} s of CPU; the kernel saw that work in {len(busy)} of the "
            f"threads started during the call: run each call of fn in a thread of its own",
            f"每次 fn 调用要计算 {WORK:g} 秒 CPU 时间；在调用期间启动的线程中，内核只在 {len(busy)} 个里"
            "看到了这些计算：要让每次 fn 调用在自己的线程里运行",
        )
    _check_results(seen, "run_in_threads")


@pytest.mark.task(5)
def test_run_in_processes_computes_in_child_processes_under_every_start_method(student):
    method = student.run(probes.start_method)
    try:
        seen = _drive_cpu_work(student, probes.cpu_in_processes, processes=True)
    except StudentError as error:
        raise _explain_start_method(error, method) from None
    total = CALLS * WORK
    if seen.worker_cpu is not None and seen.worker_cpu >= total / 2:
        pytest.fail(
            say(
                f"your own process used {seen.worker_cpu:.2f} s of CPU while run_in_processes ran fn {CALLS} times "
                f"({total:.2f} s of computing in all): fn ran in your process, not in child processes. In threads of "
                "one process, CPU-bound work cannot run in parallel: the GIL lets one thread at a time run Python "
                "code, so only processes use several cores. Start a multiprocessing.Process for every item",
                f"run_in_processes 运行 {CALLS} 次 fn（一共 {total:.2f} 秒的计算）时，你自己的进程用了 "
                f"{seen.worker_cpu:.2f} 秒 CPU：fn 是在你的进程里运行的，而不是在子进程里。在同一个进程的多个线程里，"
                "CPU 密集的任务不能并行：GIL 让同一时刻只有一个线程执行 Python 代码，所以只有多进程才能用上多个核心。"
                "为每个 item 启动一个 multiprocessing.Process",
            ),
            pytrace=False,
        )
    if seen.peak < 2:
        pytest.fail(
            say(
                f"only one of the {CALLS} calls of fn was running at a time: each child process ran after the "
                "previous had finished, one after another, with no parallelism. Start every process before joining "
                "any",
                f"{CALLS} 次 fn 调用同一时刻只有一次在运行：每个子进程都等上一个结束后才运行，一个接一个，没有并行。"
                "先启动所有进程，再开始 join",
            ),
            pytrace=False,
        )
    busy = seen.busy(seen.children)
    if seen.measured:
        assert len(busy) >= 2, say(
            f"each call of fn computes for {WORK:g} s of CPU; the kernel saw that work in {len(busy)} processes "
            "below yours: run each call of fn in a child process of its own",
            f"每次 fn 调用要计算 {WORK:g} 秒 CPU 时间；内核只在你的进程下面的 {len(busy)} 个进程里看到了这些计算："
            "要让每次 fn 调用在自己的子进程里运行",
        )
    _check_results(seen, "run_in_processes")
    if method == "fork":  # spawn and forkserver pickle what a child runs: try spawn too, as on macOS and Windows
        items = random.sample(range(10, 20), 1)  # one child shows what pickles; the run above checked the rest
        try:
            results = student.run(probes.cpu_in_processes, None, 0.0, items, "spawn", timeout=30)
        except StudentError as error:
            raise _explain_start_method(error, "spawn") from None
        again = _CpuRun(items, results=results)
        _check_results(again, "run_in_processes")


# -- task 6 ----------------------------------------------------------------------------------------------------

# Seconds each job of choose() computes (CPU-bound) or waits (I/O-bound). Not shorter: with both cores busy a
# waiting job costs its thread some CPU too, and at 0.05 s the solution (CPU above a twentieth of the elapsed
# time: 2.5 ms) once took one for CPU-bound.
JOB = 0.1
NEEDS = {"cpu": "processes", "io": "threads"}


@pytest.mark.task(6)
def test_choose_picks_processes_for_cpu_bound_jobs_and_threads_for_io_bound_ones(student):
    kinds = ["cpu", "io", "io"]  # both kinds, in an order a fixed answer cannot know; one computes, as CPU is scarce
    random.shuffle(kinds)
    pid = _worker_pid(student)
    answers = []
    for kind in kinds:
        cpu_before, started = observe.cpu_seconds(pid), time.monotonic()
        answer = student.run(probes.choose_for, kind, JOB, random.randint(15, 20))
        elapsed = time.monotonic() - started
        cpu_after = observe.cpu_seconds(pid)
        used, used_zh = (
            (f"{cpu_after - cpu_before:.2f} s of CPU in {elapsed:.2f} s, as the kernel counted your process",
             f"按内核对你的进程的统计，{elapsed:.2f} 秒内用了 {cpu_after - cpu_before:.2f} 秒 CPU")
            if cpu_before is not None and cpu_after is not None else (f"{elapsed:.2f} s", f"{elapsed:.2f} 秒")
        )
        assert answer in ("threads", "processes"), say(
            f'choose() should return "threads" or "processes"; it returned {answer!r}',
            f'choose() 应当返回 "threads" 或 "processes"；它返回的是 {answer!r}',
        )
        answers.append((kind, answer, used, used_zh))
    for kind, answer, used, used_zh in sorted(answers, key=lambda seen: seen[0]):  # the CPU-bound jobs first
        if kind == "cpu":
            assert answer == NEEDS[kind], say(
                f"choose() said {answer!r} for a job that computed all the time ({used}). A CPU-bound job needs "
                "parallelism (并行: several jobs computing at the same instant, on several cores), and the GIL lets "
                'only one thread of a process run Python code at a time: answer "processes". Tell the two kinds '
                "apart by the CPU time the job used (time.thread_time()) compared with its elapsed time",
                f"对一个一直在计算的任务（{used_zh}），choose() 回答了 {answer!r}。CPU 密集的任务需要并行"
                "（同一时刻多个任务在多个核心上同时计算），而 GIL 让一个进程里同一时刻只有一个线程执行 Python 代码："
                '应当回答 "processes"。比较任务用掉的 CPU 时间（time.thread_time()）和它经过的时间，就能区分这两种任务',
            )
        else:
            assert answer == NEEDS[kind], say(
                f"choose() said {answer!r} for a job that waited all the time and computed almost nothing ({used}). "
                "An I/O-bound job needs only concurrency (并发: several jobs in progress during the same period, "
                'taking turns), and a thread that waits releases the GIL: answer "threads". A slow job is not a '
                "CPU-bound one: compare the CPU time the job used (time.thread_time()) with its elapsed time",
                f"对一个一直在等待、几乎没有计算的任务（{used_zh}），choose() 回答了 {answer!r}。"
                "IO 密集的任务只需要并发（同一段时间内多个任务都在进行，轮流执行），而正在等待的线程会释放 GIL："
                '应当回答 "threads"。耗时长不代表就是 CPU 密集的：'
                "要比较任务用掉的 CPU 时间（time.thread_time()）和它经过的时间",
            )
