"""Grades exercises/gevent: spawn and joinall, a Queue(5) producer and consumer, the patched echo server.

Tasks 1 to 3 run in a worker that gevent monkey-patched before it imported anything (`@pytest.mark.gevent`);
the grading process itself never imports gevent. Task 4 starts echo_server.py as a program in a fresh
interpreter, where the student's own code has to patch. Greenlets switch only where they wait, so traces
are compared event by event.
"""

from __future__ import annotations

import random
import re
import secrets
import selectors
import socket
import time
from pathlib import Path

import pytest

from graders.gevent import probes
from graders.harness.core.curriculum import ROOT, say
from graders.harness.core.network import free_port
from graders.harness.core.student import TimedOut

ECHO_SECONDS = 2.0


def _show(events: list, limit: int = 14, nothing: str = "nothing") -> str:
    """`put 1, put 2, got 1` ... for a message, shortened in the middle when long; `nothing` when empty (the
    Chinese message passes its own word)."""
    words = [f"{event[0]} {event[1]!r}" for event in events]
    if len(words) > limit:
        words = [*words[: limit - 4], "...", *words[-3:]]
    return ", ".join(words) or nothing


def _first_difference(expected: list, got: list) -> int:
    pairs = enumerate(zip(expected, got, strict=False))
    return next((i for i, (e, g) in pairs if e != g), min(len(expected), len(got)))


@pytest.mark.gevent
@pytest.mark.task(1)
def test_run_all_spawns_every_job_at_once_and_joins_them_all(student):
    count = random.randint(5, 7)
    # Job 0 waits most, so it ends last: the results in the order the jobs end are not those in the order of i.
    waits = [count, *random.sample(range(1, count), count - 1)]
    token = secrets.token_hex(3)
    student.run(probes.responsive)  # the worker starts now, not in the runs timed below
    for linger in LINGERS:
        started = time.monotonic()
        seen = student.run(probes.run_all_trace, waits, token, linger)
        _check_run_all(seen, waits, token)
        _check_returned_when_done("run_all", ("job 0", "job 0 "), time.monotonic() - started, linger)


def _check_run_all(seen: dict, waits: list[int], token: str) -> None:
    count = len(waits)
    trace = [tuple(event) for event in seen["trace"]]
    every = [tuple(event) for event in seen["all"]]

    starts = [event for event in every if event[0] == "start"]
    assert sorted(index for _, index, _ in starts) == list(range(count)), say(
        f"run_all(job, {count}) should call job(0) ... job({count - 1}) once each; it called job with "
        f"{[index for _, index, _ in starts]}",
        f"run_all(job, {count}) 应当对 job(0) ... job({count - 1}) 各调用一次；它调用 job 时传入的参数是 "
        f"{[index for _, index, _ in starts]}",
    )
    assert not any(where == 0 for _, _, where in starts), say(
        "the jobs ran in the greenlet that called run_all, one after another: gevent.spawn(job, i) makes a new "
        "greenlet for each",
        "这些任务在调用 run_all 的那个 greenlet 里一个接一个地运行了：gevent.spawn(job, i) 会为每个任务创建一个"
        "新的 greenlet",
    )
    assert len({where for _, _, where in starts}) == count, say(
        f"{count} jobs ran in {len({where for _, _, where in starts})} greenlets: spawn one greenlet per job",
        f"{count} 个任务在 {len({where for _, _, where in starts})} 个 greenlet 里运行：每个任务 spawn 一个 greenlet",
    )
    expected = [("start", index) for index in range(count)]
    expected += [("end", index) for index in sorted(range(count), key=lambda index: waits[index])]
    got = [event[:2] for event in trace]
    if got != expected:
        at = _first_difference(expected, got)
        ended = [index for kind, index in got if kind == "end"]
        if not got:
            reason = (
                f"run_all returned before any of the {count} jobs had even started: gevent.spawn only schedules a "
                "greenlet, which runs once the caller waits, and gevent.joinall(greenlets) is that wait"
            )
            reason_zh = (
                f"{count} 个任务一个都还没开始，run_all 就返回了：gevent.spawn 只是安排一个 greenlet，它要等调用者"
                "开始等待时才运行，而 gevent.joinall(greenlets) 就是这个等待"
            )
        elif len(ended) < count and all(kind == "start" for kind, _ in got[at:]):
            reason = (
                f"run_all returned while {count - len(ended)} of {count} jobs were still running: "
                "gevent.joinall(greenlets) waits for all of them"
            )
            reason_zh = (
                f"{count} 个任务中还有 {count - len(ended)} 个在运行，run_all 就返回了："
                "gevent.joinall(greenlets) 会等待所有任务"
            )
        elif at < len(got) and got[at][0] == "end":
            reason = (
                f"job({got[at][1]}) finished before job({expected[at][1]}) had even started: the jobs ran one after "
                "another. Spawn every greenlet first and join them all afterwards (g.join() right after each "
                "spawn waits for that one job)"
            )
            reason_zh = (
                f"job({expected[at][1]}) 还没开始，job({got[at][1]}) 就已经结束了：这些任务是一个接一个运行的。"
                "先 spawn 所有 greenlet，之后再把它们全部 join（每次 spawn 之后立刻 g.join()，等的只是那一个任务）"
            )
        else:
            reason = "the jobs did not run as spawned greenlets that all wait at the same time"
            reason_zh = "这些任务没有作为 spawn 出来、同时等待的 greenlet 运行"
        pytest.fail(
            say(
                f"{reason}.\n  expected: {_show(expected)}\n  yours:    {_show(got)}"
                f"\n  (job i calls gevent.sleep(0) {', '.join(map(str, waits))} times: each call lets every other "
                "ready greenlet run once, so while all run at once the job that waits least ends first; job 0 then "
                "sleeps a little longer)",
                f"{reason_zh}。\n  应当是：{_show(expected)}\n  你的：  {_show(got, nothing='无')}"
                f"\n  （job i 分别调用 gevent.sleep(0) {', '.join(map(str, waits))} 次：每次调用都让其他每个就绪的 "
                "greenlet 运行一次，所以当所有任务同时运行时，等待最少的那个最先结束；job 0 之后还会多睡一会儿）",
            ),
            pytrace=False,
        )
    expected_result = [f"{token}-{index}" for index in range(count)]
    in_finish_order = [f"{token}-{index}" for _, index in got if _ == "end"]
    finish_order = seen["result"] == in_finish_order
    assert seen["result"] == expected_result, say(
        f"run_all should return [job(0)'s result, job(1)'s result, ...], each greenlet's .value in the order of "
        f"i: {expected_result}; yours returned {seen['result']}"
        + (": that is the order in which the jobs finished. Keep the greenlets in a list and return "
           "[g.value for g in greenlets]" if finish_order else ""),
        f"run_all 应当返回 [job(0) 的结果, job(1) 的结果, ...]，也就是按 i 的顺序排列的每个 greenlet 的 .value："
        f"{expected_result}；你的返回了 {seen['result']}"
        + ("：这是任务结束的先后顺序。把 greenlet 保存在一个列表里，返回 [g.value for g in greenlets]"
           if finish_order else ""),
    )


# How long the last job (task 1) or the logging of the last item (task 2) takes, in two runs: a fixed sleep in
# place of joining returns before the end of the short one or well after the end of the long one. Whatever it
# is, it falls in one of those: shorter than LINGERS[0], longer than LINGERS[0] + SLACK, or shorter than
# LINGERS[1] = LINGERS[0] + SLACK.
LINGERS = (0.05, 0.2)
SLACK = 0.15  # what a correct run_all may take beyond its work: 0.01 s at most, measured with both cores busy


def _check_returned_when_done(call: str, last: tuple[str, str], elapsed: float, linger: float) -> None:
    """`call` took `elapsed` seconds (measured here) where the work took `linger`: it returned long after.
    `last` is what took longest, in English and in Chinese."""
    assert elapsed < linger + SLACK, say(
        f"{call}() returned {elapsed:.2f} s after it was called, while all the work was done after {linger:g} s "
        f"({last[0]} took longest): it waited a fixed time (a sleep?) instead of waiting for the greenlets. "
        "gevent.joinall(greenlets) returns as soon as the last one has finished, however long that takes",
        f"{call}() 在调用后 {elapsed:.2f} 秒才返回，而所有工作在 {linger:g} 秒后就已完成（{last[1]}耗时最久）："
        "它等了一段固定的时间（用了 sleep？），而不是等待这些 greenlet。gevent.joinall(greenlets) 会在最后一个 "
        "greenlet 结束时立即返回，不管那需要多久",
    )


def _batches(items: list[int], size: int) -> list[tuple]:
    """The exact trace of the outline's pipeline: the producer fills the queue, then the consumer empties it."""
    expected: list[tuple] = []
    for start in range(0, len(items), size):
        batch = items[start : start + size]
        expected += [("put", item) for item in batch] + [("got", item) for item in batch]
    return expected


@pytest.mark.gevent
@pytest.mark.task(2)
def test_queue_of_five_makes_producer_and_consumer_take_turns_five_items_at_a_time(student):
    items = random.sample(range(100), random.randint(12, 14))
    student.run(probes.responsive)  # the worker starts now, not in the runs timed below
    for linger in LINGERS:
        started = time.monotonic()
        seen = student.run(probes.pipeline_trace, items, linger)
        _check_pipeline(seen, items)
        _check_returned_when_done(
            "run", ("logging the last item", "记录最后一个数据的日志"), time.monotonic() - started, linger
        )


def _check_pipeline(seen: dict, items: list[int]) -> None:
    trace, every = [tuple(event) for event in seen["trace"]], [tuple(event) for event in seen["all"]]
    expected = _batches(items, 5)
    got = [event[:2] for event in trace]
    if seen["outcome"] == "blocked forever":
        pytest.fail(
            say(
                "run() could never return: every greenlet was waiting for something no one would ever do "
                f"(gevent raised LoopExit). What happened: {_show(got)}. The consumer must keep calling q.get() "
                "until it gets None (not stop when the queue is empty for a moment), and the producer must put None "
                "after the last item",
                "run() 永远无法返回：每个 greenlet 都在等一件永远不会有人去做的事（gevent 抛出了 LoopExit）。"
                f"发生过的事件：{_show(got, nothing='无')}。消费者必须一直调用 q.get()，直到拿到 None 为止"
                "（不能在队列暂时为空时就停下），生产者必须在最后一个数据之后 put 一个 None",
            ),
            pytrace=False,
        )
    puts = [where for kind, _, where in every if kind == "put"]
    gots = [where for kind, _, where in every if kind == "got"]
    assert 0 not in puts + gots, say(
        "put or got was logged by the greenlet that called run(): produce and consumer must each run in a "
        "greenlet of their own, gevent.spawn(produce, q, items, log) and gevent.spawn(consumer, q, log)",
        "put 或 got 是由调用 run() 的那个 greenlet 记录的：produce 和 consumer 必须各自在自己的 greenlet 里运行，"
        "gevent.spawn(produce, q, items, log) 和 gevent.spawn(consumer, q, log)",
    )
    assert not set(puts) & set(gots), say(
        "put and got were logged in the same greenlet: spawn produce and consumer",
        "put 和 got 是在同一个 greenlet 里记录的：分别 spawn produce 和 consumer",
    )
    if got == expected:
        consumer = bool(set(seen["running"]) & set(gots))
        assert not seen["running"], say(
            f"run() returned while the {'consumer' if consumer else 'producer'} greenlet "
            "was still running: gevent.joinall([p, c]) waits for both",
            f"{'消费者' if consumer else '生产者'} greenlet 还在运行，run() 就返回了："
            "gevent.joinall([p, c]) 会等待两者",
        )
        return
    waiting = peak = 0
    for kind, _ in [event[:2] for event in every]:
        waiting += 1 if kind == "put" else -1
        peak = max(peak, waiting)
    full = [event[:2] for event in every]
    if full == expected and len(got) < len(expected):
        pytest.fail(
            say(
                f"run() returned after {_show(got[-1:])} while the consumer still had "
                f"{len(expected) - len(got)} events to go: joinall both greenlets, the producer and the consumer",
                f"run() 在 {_show(got[-1:], nothing='无')} 之后就返回了，而消费者还有 {len(expected) - len(got)} "
                "个事件没有完成：对生产者和消费者两个 greenlet 都要 joinall",
            ),
            pytrace=False,
        )
    at = _first_difference(expected, got)
    why = why_zh = ""
    if peak > 5:
        why = (
            f"\nat one moment {peak} items were waiting in your queue: a Queue(5) holds at most 5, so the "
            "sixth put() makes the producer wait and gevent switches to the consumer"
        )
        why_zh = (
            f"\n某一时刻你的队列里有 {peak} 个数据在等待：Queue(5) 最多只能容纳 5 个，所以第六次 put() 会让生产者"
            "等待，gevent 随即切换到消费者"
        )
    elif peak < 5 and len(items) >= 5:
        why = (
            f"\nno more than {peak} item(s) ever waited in your queue: with Queue(5) the producer goes on until "
            "the queue is full, and only a full queue makes it wait (no sleeps needed)"
        )
        why_zh = (
            f"\n你的队列里同时等待的数据从未超过 {peak} 个：使用 Queue(5) 时，生产者会一直 put 到队列满为止，"
            "只有队列满了才会让它等待（不需要 sleep）"
        )
    pytest.fail(
        say(
            f"with q = Queue(5), event {at + 1} should be {_show(expected[at : at + 1])}, yours was "
            f"{_show(got[at : at + 1])}.\n  expected: {_show(expected)}\n  yours:    {_show(got)}{why}",
            f"使用 q = Queue(5) 时，第 {at + 1} 个事件应当是 {_show(expected[at : at + 1])}，你的是 "
            f"{_show(got[at : at + 1], nothing='无')}。\n  应当是：{_show(expected)}\n  你的：  "
            f"{_show(got, nothing='无')}{why_zh}",
        ),
        pytrace=False,
    )


# -- the echo server -------------------------------------------------------------------------------------------


def _echoes(clients: list[socket.socket], messages: list[bytes], seconds: float) -> list[bytes]:
    """What each client got back within `seconds`, reading them all at once."""
    received = [b""] * len(clients)
    with selectors.DefaultSelector() as selector:
        for index, client in enumerate(clients):
            selector.register(client, selectors.EVENT_READ, index)
        waiting = len(clients)
        deadline = time.monotonic() + seconds
        while waiting and (left := deadline - time.monotonic()) > 0:
            for key, _mask in selector.select(left):
                try:
                    chunk = key.fileobj.recv(4096)
                except OSError:
                    chunk = b""
                received[key.data] += chunk
                if not chunk or len(received[key.data]) >= len(messages[key.data]):
                    selector.unregister(key.fileobj)
                    waiting -= 1
    return received


def _connect(port: int, count: int) -> list[socket.socket]:
    clients = []
    try:
        for _ in range(count):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except BaseException:
        for client in clients:
            client.close()
        raise
    return clients


def _messages(count: int) -> list[bytes]:
    token = secrets.token_hex(3)
    return [f"client {number} says {token}-{secrets.token_hex(4)}\n".encode() for number in range(1, count + 1)]


TALKERS = 60


@pytest.mark.gevent
@pytest.mark.task(3)
def test_one_thread_serves_a_silent_client_and_many_talkers_each_in_its_own_greenlet(student):
    port = free_port()
    before = student.run(probes.start_echo_server, port)
    clients = _connect(port, 1 + TALKERS)
    try:
        silent, talkers = clients[0], clients[1:]
        hello = f"I connect first, then say nothing {secrets.token_hex(3)}".encode()
        silent.sendall(hello)
        first = _echoes([silent], [hello], ECHO_SECONDS)[0]
        assert first == hello, say(
            f"the first client sent {hello!r} and got back {first!r} within {ECHO_SECONDS:g} s: worker() should "
            "send back what recv() returned, sock.sendall(recvData)",
            f"第一个客户端发送了 {hello!r}，{ECHO_SECONDS:g} 秒内收回的是 {first!r}：worker() 应当把 recv() 返回的"
            "数据发回去，sock.sendall(recvData)",
        )
        messages = _messages(TALKERS)
        for client, message in zip(talkers, messages, strict=True):
            client.sendall(message)
        echoes = _echoes(talkers, messages, ECHO_SECONDS)
        missing = sum(len(echo) < len(message) for echo, message in zip(echoes, messages, strict=True))
        if missing:
            where = student.where()
            try:
                student.run(probes.responsive, timeout=2)
            except TimedOut:
                pytest.fail(
                    say(
                        f"{missing} of {TALKERS} clients got no echo within {ECHO_SECONDS:g} s and the whole server "
                        f"froze: one greenlet never let the others run ({where}). gevent switches greenlets only "
                        "where one waits in a patched call (recv, accept, sleep); a loop that retries a "
                        "non-blocking recv never waits, so nothing else runs. Let recv() block: gevent makes it wait",
                        f"{TALKERS} 个客户端中有 {missing} 个在 {ECHO_SECONDS:g} 秒内没有收到回显，整个服务器都卡住了："
                        f"有一个 greenlet 从不让其他 greenlet 运行（{where}）。只有当某个 greenlet 在打过补丁的调用"
                        "（recv、accept、sleep）里等待时，gevent 才会切换 greenlet；反复重试非阻塞 recv 的循环从不"
                        "等待，其他代码就都没法运行。让 recv() 正常阻塞：gevent 会让它去等待",
                    ),
                    pytrace=False,
                )
            pytest.fail(
                say(
                    f"{missing} of {TALKERS} clients got no echo within {ECHO_SECONDS:g} s while the first client "
                    f"stayed connected without a word: the server is busy with one client at a time ({where}). "
                    "gevent.spawn(worker, sock) for each client, and go straight back to accept()",
                    f"第一个客户端连着却一言不发时，{TALKERS} 个客户端中有 {missing} 个在 {ECHO_SECONDS:g} 秒内没有"
                    f"收到回显：服务器一次只忙着服务一个客户端（{where}）。对每个客户端调用 "
                    "gevent.spawn(worker, sock)，然后立刻回到 accept()",
                ),
                pytrace=False,
            )
        for number, (echo, message) in enumerate(zip(echoes, messages, strict=True), 2):
            assert echo == message, say(
                f"client {number} sent {message!r} and got back {echo!r}",
                f"客户端 {number} 发送了 {message!r}，收回的是 {echo!r}",
            )
        now = student.run(probes.counts)
        # One extra thread may be gevent's own: its hub starts a threadpool the first time a host name is
        # resolved (getaddrinfo). Serving clients needs none, and a thread per client shows as dozens.
        assert now["threads"] <= before["threads"] + 1, say(
            f"with {len(clients)} clients connected, the server process had {now['threads'] - before['threads']} "
            "more OS threads than before serve() started: gevent serves every client in greenlets of one thread",
            f"连着 {len(clients)} 个客户端时，服务器进程比 serve() 启动之前多了 {now['threads'] - before['threads']} "
            "个操作系统线程：gevent 在一个线程的多个 greenlet 里服务所有客户端",
        )
    finally:
        for client in clients:
            client.close()
    fds = student.run(probes.settled_fds, before["fds"], 1.5)
    assert fds <= before["fds"], say(
        f"all {len(clients)} clients closed their connections, yet 1.5 s later the server still had "
        f"{fds - before['fds']} of their sockets open: when recv returns b'' the client has gone; close the "
        "socket and leave the loop",
        f"全部 {len(clients)} 个客户端都关闭了连接，1.5 秒后服务器仍有 {fds - before['fds']} 个它们的套接字开着："
        "recv 返回 b'' 表示客户端已经离开；关闭套接字并退出循环",
    )


def _shown(path: str) -> str:
    """A path from the program's output as the student knows it: relative to the repository."""
    return str(Path(path).relative_to(ROOT)) if Path(path).is_relative_to(ROOT) else path


def _where(stuck: dict) -> tuple[str, str]:
    """Where the program was, from probes.program_stuck_at, as a clause: "it is stuck at ...", in English and in
    Chinese."""
    if stuck["ended"] is not None:
        return f"the program had ended (exit code {stuck['ended']})", f"程序已经结束了（退出码 {stuck['ended']}）"
    if stuck["places"]:
        return "it is stuck at " + "; ".join(stuck["places"]), "它卡在 " + "；".join(stuck["places"])
    return (
        "none of its threads was running a line of your file at that moment",
        "那一刻它没有一个线程在运行你文件里的代码",
    )


def _fail_if_unwritten(output: str) -> None:
    """The program stopped in a stub's NotImplementedError: say so, as the other tasks do."""
    unwritten = re.search(r'File "(.+?)", line (\d+), in \w+\n.*\nNotImplementedError: (.*)$', output)
    if unwritten:
        pytest.fail(
            say(
                f"not done yet: `python echo_server.py` stopped where {_shown(unwritten[1])}:{unwritten[2]} raises "
                f"NotImplementedError ({unwritten[3]}): the program serves its clients with serve() and worker() "
                "of task 3",
                f"还没完成：`python echo_server.py` 停在了 {_shown(unwritten[1])}:{unwritten[2]}，那里抛出了 "
                f"NotImplementedError（{unwritten[3]}）：这个程序要用任务 3 的 serve() 和 worker() 服务它的客户端",
            ),
            pytrace=False,
        )


def _fail_if_ended(student, program: str, patience: float = 0.0) -> None:
    """Fail with what the program printed if it has ended, or ends within `patience` seconds: a program whose
    connection broke is often on its way out (a stub's serve() raises right after listen())."""
    facts = student.run(probes.program_facts, patience)
    if not facts["alive"]:
        _fail_if_unwritten(facts["output"])
        pytest.fail(
            say(
                f"{program} ended (exit code {facts['exit']}) while clients were talking to it. It printed:\n"
                f"{facts['output'] or '(nothing)'}",
                f"{program} 在客户端与它通信时结束了（退出码 {facts['exit']}）。它输出了：\n"
                f"{facts['output'] or '（无）'}",
            ),
            pytrace=False,
        )


@pytest.mark.task(4)
def test_the_program_patches_before_it_imports_socket_and_serves_clients_at_once(student):
    """Runs `python echo_server.py PORT` in a fresh interpreter: here only the student's own patching helps."""
    port = free_port()
    started = student.run(probes.start_program, port, 6.0, timeout=10)
    if not started["listening"] and started["exit"] is not None:
        _fail_if_unwritten(started.get("output", ""))
    if not started["listening"]:
        exited = started["exit"] is not None
        ended = (
            f"ended with exit code {started['exit']}"
            if exited
            else "kept running for 6 s (does main() listen on the port given as sys.argv[1]?)"
        )
        ended_zh = (
            f"以退出码 {started['exit']} 结束了"
            if exited
            else "运行了 6 秒（main() 是否在 sys.argv[1] 给出的端口上监听？）"
        )
        pytest.fail(
            say(
                f"`python echo_server.py {port}` {ended} without ever accepting a connection on 127.0.0.1:{port}. "
                f"It printed:\n{started['output'] or '(nothing)'}",
                f"`python echo_server.py {port}` {ended_zh}，始终没有在 127.0.0.1:{port} 上接受过连接。"
                f"它输出了：\n{started['output'] or '（无）'}",
            ),
            pytrace=False,
        )
    program = f"`python {started['file']} {port}`"
    try:
        first = _connect(port, 1)[0]
    except OSError as error:
        _fail_if_ended(student, program, patience=1.0)
        raise AssertionError(
            say(f"could not connect to {program}: {error}", f"无法连接到 {program}：{error}")
        ) from None
    with first:
        hello = f"hello {secrets.token_hex(4)}".encode()
        first.sendall(hello)
        echo = _echoes([first], [hello], ECHO_SECONDS)[0]
        if echo != hello:
            _fail_if_ended(student, program, patience=1.0)
            stuck = student.run(probes.program_stuck_at)
            where, where_zh = _where(stuck)
            if not echo and stuck["in_gevent"]:
                pytest.fail(
                    say(
                        f"{program} took a client but never echoed its {hello!r} within {ECHO_SECONDS:g} s; "
                        f"{where}. The program did patch (it waits inside gevent), so look at what serves "
                        "the client: serve() should gevent.spawn(worker, sock) for each accepted socket, and worker() "
                        "should sendall() what recv() returned",
                        f"{program} 接受了一个客户端，但在 {ECHO_SECONDS:g} 秒内始终没有回显它发来的 {hello!r}；"
                        f"{where_zh}。程序确实打了补丁（它在 gevent 内部等待），所以要看看是什么在服务这个客户端："
                        "serve() 应当对每个接受的套接字调用 gevent.spawn(worker, sock)，worker() 应当把 recv() "
                        "返回的数据 sendall() 回去",
                    ),
                    pytrace=False,
                )
            assert echo, say(
                f"{program} took a client but never echoed its {hello!r} within {ECHO_SECONDS:g} s; "
                f"{where}. Without patching, accept() and recv() of the plain socket module block the "
                "program's only thread, so the greenlets gevent.spawn() made never get to run. Call "
                "`from gevent import monkey; monkey.patch_all()` at the very top of echo_server.py, before "
                "anything imports socket (`from socket import socket` before it keeps the unpatched class)",
                f"{program} 接受了一个客户端，但在 {ECHO_SECONDS:g} 秒内始终没有回显它发来的 {hello!r}；"
                f"{where_zh}。没有打补丁时，普通 socket 模块的 accept() 和 recv() 会阻塞程序唯一的线程，"
                "gevent.spawn() 创建的 greenlet 永远没有机会运行。在 echo_server.py 的最上面、任何代码导入 socket "
                "之前，调用 `from gevent import monkey; monkey.patch_all()`（在它之前写的 "
                "`from socket import socket` 拿到的还是没打补丁的类）",
            )
            assert echo == hello, say(
                f"a client of {program} sent {hello!r} and got back {echo!r}",
                f"{program} 的一个客户端发送了 {hello!r}，收回的是 {echo!r}",
            )
        clients = _connect(port, 11)
        try:
            messages = _messages(10)
            clients[0].sendall(b"silent from now on")
            for client, message in zip(clients[1:], messages, strict=True):
                client.sendall(message)
            echoes = _echoes(clients[1:], messages, ECHO_SECONDS)
            missing = sum(len(echo) < len(message) for echo, message in zip(echoes, messages, strict=True))
            if missing:
                where, where_zh = _where(student.run(probes.program_stuck_at))
                pytest.fail(
                    say(
                        f"{missing} of 10 clients of {program} got no echo within {ECHO_SECONDS:g} s while two other "
                        f"clients stayed connected: the program is busy with one client at a time; {where}",
                        f"另外两个客户端保持连接时，{program} 的 10 个客户端中有 {missing} 个在 {ECHO_SECONDS:g} 秒内"
                        f"没有收到回显：程序一次只忙着服务一个客户端；{where_zh}",
                    ),
                    pytrace=False,
                )
            threads = student.run(probes.program_facts)["threads"]
            assert threads <= 2, say(  # the main thread, and maybe the threadpool gevent resolves host names in
                f"with 12 clients connected, {program} ran {threads} OS threads: that is a thread per client. "
                "gevent serves them all in one thread: patch with monkey.patch_all() first (then even "
                "threading.Thread makes greenlets), or gevent.spawn(worker, sock)",
                f"连着 12 个客户端时，{program} 运行了 {threads} 个操作系统线程：这是每个客户端一个线程。gevent 在一个"
                "线程里服务所有客户端：先用 monkey.patch_all() 打补丁（之后连 threading.Thread 创建的也是 "
                "greenlet），或者用 gevent.spawn(worker, sock)",
            )
        finally:
            for client in clients:
                client.close()
