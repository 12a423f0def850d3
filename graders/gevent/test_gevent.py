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
from graders.harness.core.curriculum import ROOT
from graders.harness.core.network import free_port
from graders.harness.core.student import TimedOut

ECHO_SECONDS = 2.0


def _show(events: list, limit: int = 14) -> str:
    """`put 1, put 2, got 1` ... for a message, shortened in the middle when long."""
    words = [f"{event[0]} {event[1]!r}" for event in events]
    if len(words) > limit:
        words = [*words[: limit - 4], "...", *words[-3:]]
    return ", ".join(words) or "nothing"


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
        _check_returned_when_done("run_all", "job 0", time.monotonic() - started, linger)


def _check_run_all(seen: dict, waits: list[int], token: str) -> None:
    count = len(waits)
    trace = [tuple(event) for event in seen["trace"]]
    every = [tuple(event) for event in seen["all"]]

    starts = [event for event in every if event[0] == "start"]
    assert sorted(index for _, index, _ in starts) == list(range(count)), (
        f"run_all(job, {count}) should call job(0) ... job({count - 1}) once each; it called job with "
        f"{[index for _, index, _ in starts]}"
    )
    assert not any(where == 0 for _, _, where in starts), (
        "the jobs ran in the greenlet that called run_all, one after another: gevent.spawn(job, i) makes a new "
        "greenlet for each"
    )
    assert len({where for _, _, where in starts}) == count, (
        f"{count} jobs ran in {len({where for _, _, where in starts})} greenlets: spawn one greenlet per job"
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
        elif len(ended) < count and all(kind == "start" for kind, _ in got[at:]):
            reason = (
                f"run_all returned while {count - len(ended)} of {count} jobs were still running: "
                "gevent.joinall(greenlets) waits for all of them"
            )
        elif at < len(got) and got[at][0] == "end":
            reason = (
                f"job({got[at][1]}) finished before job({expected[at][1]}) had even started: the jobs ran one after "
                "another. Spawn every greenlet first and join them all afterwards (g.join() right after each "
                "spawn waits for that one job)"
            )
        else:
            reason = "the jobs did not run as spawned greenlets that all wait at the same time"
        pytest.fail(
            f"{reason}.\n  expected: {_show(expected)}\n  yours:    {_show(got)}"
            f"\n  (job i calls gevent.sleep(0) {', '.join(map(str, waits))} times: each call lets every other "
            "ready greenlet run once, so while all run at once the job that waits least ends first; job 0 then "
            "sleeps a little longer)",
            pytrace=False,
        )
    expected_result = [f"{token}-{index}" for index in range(count)]
    in_finish_order = [f"{token}-{index}" for _, index in got if _ == "end"]
    assert seen["result"] == expected_result, (
        f"run_all should return [job(0)'s result, job(1)'s result, ...], each greenlet's .value in the order of "
        f"i: {expected_result}; yours returned {seen['result']}"
        + (": that is the order in which the jobs finished. Keep the greenlets in a list and return "
           "[g.value for g in greenlets]" if seen["result"] == in_finish_order else "")
    )


# How long the last job (task 1) or the logging of the last item (task 2) takes, in two runs: a fixed sleep in
# place of joining returns before the end of the short one or well after the end of the long one. Whatever it
# is, it falls in one of those: shorter than LINGERS[0], longer than LINGERS[0] + SLACK, or shorter than
# LINGERS[1] = LINGERS[0] + SLACK.
LINGERS = (0.15, 0.6)
SLACK = 0.45


def _check_returned_when_done(call: str, last: str, elapsed: float, linger: float) -> None:
    """`call` took `elapsed` seconds (measured here) where the work took `linger`: it returned long after."""
    assert elapsed < linger + SLACK, (
        f"{call}() returned {elapsed:.2f} s after it was called, while all the work was done after {linger:g} s "
        f"({last} took longest): it waited a fixed time (a sleep?) instead of waiting for the greenlets. "
        "gevent.joinall(greenlets) returns as soon as the last one has finished, however long that takes"
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
        _check_returned_when_done("run", "logging the last item", time.monotonic() - started, linger)


def _check_pipeline(seen: dict, items: list[int]) -> None:
    trace, every = [tuple(event) for event in seen["trace"]], [tuple(event) for event in seen["all"]]
    expected = _batches(items, 5)
    got = [event[:2] for event in trace]
    if seen["outcome"] == "blocked forever":
        pytest.fail(
            "run() could never return: every greenlet was waiting for something no one would ever do "
            f"(gevent raised LoopExit). What happened: {_show(got)}. The consumer must keep calling q.get() "
            "until it gets None (not stop when the queue is empty for a moment), and the producer must put None "
            "after the last item",
            pytrace=False,
        )
    puts = [where for kind, _, where in every if kind == "put"]
    gots = [where for kind, _, where in every if kind == "got"]
    assert 0 not in puts + gots, (
        "put or got was logged by the greenlet that called run(): produce and consumer must each run in a "
        "greenlet of their own, gevent.spawn(produce, q, items, log) and gevent.spawn(consumer, q, log)"
    )
    assert not set(puts) & set(gots), "put and got were logged in the same greenlet: spawn produce and consumer"
    if got == expected:
        assert not seen["running"], (
            f"run() returned while the {'consumer' if set(seen['running']) & set(gots) else 'producer'} greenlet "
            "was still running: gevent.joinall([p, c]) waits for both"
        )
        return
    waiting = peak = 0
    for kind, _ in [event[:2] for event in every]:
        waiting += 1 if kind == "put" else -1
        peak = max(peak, waiting)
    full = [event[:2] for event in every]
    if full == expected and len(got) < len(expected):
        pytest.fail(
            f"run() returned after {_show(got[-1:])} while the consumer still had "
            f"{len(expected) - len(got)} events to go: joinall both greenlets, the producer and the consumer",
            pytrace=False,
        )
    at = _first_difference(expected, got)
    why = ""
    if peak > 5:
        why = (
            f"\nat one moment {peak} items were waiting in your queue: a Queue(5) holds at most 5, so the "
            "sixth put() makes the producer wait and gevent switches to the consumer"
        )
    elif peak < 5 and len(items) >= 5:
        why = (
            f"\nno more than {peak} item(s) ever waited in your queue: with Queue(5) the producer goes on until "
            "the queue is full, and only a full queue makes it wait (no sleeps needed)"
        )
    pytest.fail(
        f"with q = Queue(5), event {at + 1} should be {_show(expected[at : at + 1])}, yours was "
        f"{_show(got[at : at + 1])}.\n  expected: {_show(expected)}\n  yours:    {_show(got)}{why}",
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
        assert first == hello, (
            f"the first client sent {hello!r} and got back {first!r} within {ECHO_SECONDS:g} s: worker() should "
            "send back what recv() returned, sock.sendall(recvData)"
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
                    f"{missing} of {TALKERS} clients got no echo within {ECHO_SECONDS:g} s and the whole server "
                    f"froze: one greenlet never let the others run ({where}). gevent switches greenlets only "
                    "where one waits in a patched call (recv, accept, sleep); a loop that retries a "
                    "non-blocking recv never waits, so nothing else runs. Let recv() block: gevent makes it wait",
                    pytrace=False,
                )
            pytest.fail(
                f"{missing} of {TALKERS} clients got no echo within {ECHO_SECONDS:g} s while the first client stayed "
                f"connected without a word: the server is busy with one client at a time ({where}). "
                "gevent.spawn(worker, sock) for each client, and go straight back to accept()",
                pytrace=False,
            )
        for number, (echo, message) in enumerate(zip(echoes, messages, strict=True), 2):
            assert echo == message, f"client {number} sent {message!r} and got back {echo!r}"
        now = student.run(probes.counts)
        # One extra thread may be gevent's own: its hub starts a threadpool the first time a host name is
        # resolved (getaddrinfo). Serving clients needs none, and a thread per client shows as dozens.
        assert now["threads"] <= before["threads"] + 1, (
            f"with {len(clients)} clients connected, the server process had {now['threads'] - before['threads']} "
            "more OS threads than before serve() started: gevent serves every client in greenlets of one thread"
        )
    finally:
        for client in clients:
            client.close()
    fds = student.run(probes.settled_fds, before["fds"], 1.5)
    assert fds <= before["fds"], (
        f"all {len(clients)} clients closed their connections, yet 1.5 s later the server still had "
        f"{fds - before['fds']} of their sockets open: when recv returns b'' the client has gone; close the "
        "socket and leave the loop"
    )


def _shown(path: str) -> str:
    """A path from the program's output as the student knows it: relative to the repository."""
    return str(Path(path).relative_to(ROOT)) if Path(path).is_relative_to(ROOT) else path


def _where(stuck: dict) -> str:
    """Where the program was, from probes.program_stuck_at, as a clause: "it is stuck at ..."."""
    if stuck["ended"] is not None:
        return f"the program had ended (exit code {stuck['ended']})"
    if stuck["places"]:
        return "it is stuck at " + "; ".join(stuck["places"])
    return "none of its threads was running a line of your file at that moment"


def _fail_if_ended(student, program: str) -> None:
    facts = student.run(probes.program_facts)
    if not facts["alive"]:
        pytest.fail(
            f"{program} ended (exit code {facts['exit']}) while clients were talking to it. It printed:\n"
            f"{facts['output'] or '(nothing)'}",
            pytrace=False,
        )


@pytest.mark.task(4)
def test_the_program_patches_before_it_imports_socket_and_serves_clients_at_once(student):
    """Runs `python echo_server.py PORT` in a fresh interpreter: here only the student's own patching helps."""
    port = free_port()
    started = student.run(probes.start_program, port, 6.0, timeout=10)
    unwritten = re.search(
        r'File "(.+?)", line (\d+), in \w+\n.*\nNotImplementedError: (.*)$', started.get("output", "")
    )
    if not started["listening"] and started["exit"] is not None and unwritten:
        pytest.fail(
            f"not done yet: `python echo_server.py` stopped where {_shown(unwritten[1])}:{unwritten[2]} raises "
            f"NotImplementedError ({unwritten[3]}): the program serves its clients with serve() and worker() "
            "of task 3",
            pytrace=False,
        )
    if not started["listening"]:
        ended = (
            f"ended with exit code {started['exit']}"
            if started["exit"] is not None
            else "kept running for 6 s (does main() listen on the port given as sys.argv[1]?)"
        )
        pytest.fail(
            f"`python echo_server.py {port}` {ended} without ever accepting a connection on 127.0.0.1:{port}. "
            f"It printed:\n{started['output'] or '(nothing)'}",
            pytrace=False,
        )
    program = f"`python {started['file']} {port}`"
    try:
        first = _connect(port, 1)[0]
    except OSError as error:
        _fail_if_ended(student, program)
        raise AssertionError(f"could not connect to {program}: {error}") from None
    with first:
        hello = f"hello {secrets.token_hex(4)}".encode()
        first.sendall(hello)
        echo = _echoes([first], [hello], ECHO_SECONDS)[0]
        if echo != hello:
            _fail_if_ended(student, program)
            stuck = student.run(probes.program_stuck_at)
            if not echo and stuck["in_gevent"]:
                pytest.fail(
                    f"{program} took a client but never echoed its {hello!r} within {ECHO_SECONDS:g} s; "
                    f"{_where(stuck)}. The program did patch (it waits inside gevent), so look at what serves "
                    "the client: serve() should gevent.spawn(worker, sock) for each accepted socket, and worker() "
                    "should sendall() what recv() returned",
                    pytrace=False,
                )
            assert echo, (
                f"{program} took a client but never echoed its {hello!r} within {ECHO_SECONDS:g} s; "
                f"{_where(stuck)}. Without patching, accept() and recv() of the plain socket module block the "
                "program's only thread, so the greenlets gevent.spawn() made never get to run. Call "
                "`from gevent import monkey; monkey.patch_all()` at the very top of echo_server.py, before "
                "anything imports socket (`from socket import socket` before it keeps the unpatched class)"
            )
            assert echo == hello, f"a client of {program} sent {hello!r} and got back {echo!r}"
        clients = _connect(port, 11)
        try:
            messages = _messages(10)
            clients[0].sendall(b"silent from now on")
            for client, message in zip(clients[1:], messages, strict=True):
                client.sendall(message)
            echoes = _echoes(clients[1:], messages, ECHO_SECONDS)
            missing = sum(len(echo) < len(message) for echo, message in zip(echoes, messages, strict=True))
            if missing:
                stuck = student.run(probes.program_stuck_at)
                pytest.fail(
                    f"{missing} of 10 clients of {program} got no echo within {ECHO_SECONDS:g} s while two other "
                    f"clients stayed connected: the program is busy with one client at a time; {_where(stuck)}",
                    pytrace=False,
                )
            threads = student.run(probes.program_facts)["threads"]
            assert threads <= 2, (  # the main thread, and maybe the threadpool gevent resolves host names in
                f"with 12 clients connected, {program} ran {threads} OS threads: that is a thread per client. "
                "gevent serves them all in one thread: patch with monkey.patch_all() first (then even "
                "threading.Thread makes greenlets), or gevent.spawn(worker, sock)"
            )
        finally:
            for client in clients:
                client.close()
