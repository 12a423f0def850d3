"""Grades exercises/processes: start and join, who a process is, deadlines and terminate, daemons, a Process
subclass, and a list that child processes really share."""

import contextlib
import multiprocessing
import os
import random
import secrets
import socket
import time
import uuid
from pathlib import Path

import pytest

from graders.harness.core import observe, platform
from graders.harness.core.network import exchange, free_port
from graders.harness.core.observe import Reports, still_running
from graders.harness.core.student import StudentError
from graders.processes import probes


def _reports(student, folder: str) -> Reports:
    """The children's reports, read here in the grader from the worker's folder."""
    return Reports(folder).within(student.workdir)


@pytest.mark.task(1)
def test_start_and_join_runs_the_children_at_once_and_waits_for_every_one(student):
    count = 4
    naps = [0.05, 0.1, 0.15, 0.3]
    random.shuffle(naps)
    seen = student.run(probes.start_and_join_trace, count, naps, timeout=90)
    reports = _reports(student, seen["folder"])
    started = reports.of("started")
    indexes = sorted(index for index, _ in started)
    pids = [pid for _, pid in started]
    assert indexes == list(range(count)), (
        f"target should run once with each of 0..{count - 1} in a child process; the children reported "
        f"{indexes}"
    )
    assert seen["me"] not in pids, (
        "target ran in the calling process: create a multiprocessing.Process for each call and start() it"
    )
    assert len(set(pids)) == count, f"{count} calls should run in {count} processes; they ran in {len(set(pids))}"
    assert not seen["returned_early"], (
        f"start_and_join returned while its {count} children were still running (the grader was holding them): "
        "join() every process before returning; join() waits until that child has ended"
    )
    assert seen["held"] == count, (
        f"only {seen['held']} of {count} children had started while the first one was kept running: your code "
        "waited for each child before starting the next, so they ran one after another. Start them all before "
        "joining any"
    )
    assert seen["returned"], f"start_and_join did not return within 15 s after its children ended ({student.where()})"
    assert seen["ended_at_return"] == count, (
        f"start_and_join returned while {count - seen['ended_at_return']} of {count} children were still "
        "running: join() every process before returning, rather than sleeping a guessed time"
    )
    assert not seen["unjoined"], (
        f"start_and_join returned without waiting for {len(seen['unjoined'])} of its {count} children: they had "
        "ended by then, but your code never called join() on them (a sleep only guesses how long they take). "
        "join() every process before returning"
    )

    # Children that never end, left behind by start_and_join (blocked in join), must die with the worker.
    folder = student.run(probes.abandoned_children, 3, timeout=40)
    pids = [pid for (pid,) in _reports(student, folder).of("lingering")]
    assert len(pids) == 3, f"start_and_join(target, 3) should start 3 children; {len(pids)} of them ran target"
    student.close()
    survivors = still_running(pids, grace=2, root=student.pid)
    assert not survivors, (
        f"child processes {survivors} were still running after the check ended; the grader must end every "
        "process your code starts (a problem of the grader, please report it)"
    )


@pytest.mark.task(2)
def test_whoami_and_start_named_report_the_name_and_pid_of_each_process(student):
    names = [f"worker-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    seen = student.run(probes.identity_trace, names, timeout=60)
    children = _reports(student, seen["folder"]).of("identity")
    me = tuple(seen["me"])
    mine = tuple(seen["mine"]) if isinstance(seen["mine"], (list, tuple)) else seen["mine"]
    assert mine == me, (
        f"whoami() in the main process returned {mine!r}; expected (name, pid) = {me!r}: "
        "use multiprocessing.current_process().name and .pid"
    )
    assert len(children) == len(names), (
        f"start_named(target, {names}) should start {len(names)} processes that run target(); {len(children)} did"
    )
    called = sorted(name for _, name, _ in children)
    assert called == sorted(names), (
        f"the children were called {called}; expected {sorted(names)}. Pass name=... to Process() before "
        "start(): a name set after start() never reaches the child, which is made at start()"
    )
    for said, name, pid in children:
        said = tuple(said) if isinstance(said, (list, tuple)) else said
        assert said == (name, pid), (
            f"in the child called {name!r} (pid {pid}), whoami() returned {said!r}; expected {(name, pid)!r}"
        )
    returned = [tuple(item) for item in seen["returned"]]
    reported = {name: pid for _, name, pid in children}
    assert returned == [(name, reported.get(name)) for name in names], (
        f"start_named should return the started processes in the order of the names; it returned processes "
        f"(name, pid) = {returned}"
    )


@pytest.mark.task(3)
def test_run_with_deadline_waits_no_longer_than_needed_and_terminates_a_late_child(student):
    # Deadlines that leave room for a spawned child to start on a busy machine (it imports Python afresh).
    quick_nap, quick_deadline, slow_deadline = 0.05, 10.0, 1.0
    seen = student.run(probes.deadline_trace, quick_nap, quick_deadline, slow_deadline, timeout=30)
    if "stuck" in seen:
        which = (
            f"a child that ends after {quick_nap} s" if seen["stuck"] == "quick" else "a child that never ends"
        )
        deadline = quick_deadline if seen["stuck"] == "quick" else slow_deadline
        pytest.fail(
            f"run_with_deadline(target, {deadline}) did not return within {deadline + 2:g} s for {which}: "
            f"use join({deadline}), which gives up after that long ({student.where()})",
            pytrace=False,
        )
    quick, slow = seen["quick"], seen["slow"]
    reports = _reports(student, seen["folder"])
    quick_pids = [pid for (pid,) in reports.of("napping")]
    # A child terminated at the deadline may not have started target yet (no report): that is right too.
    slow_pids = [pid for (pid,) in reports.wait_for("lingering", 1, timeout=0.3)]
    running_after = still_running(slow_pids, grace=0.5, root=student.pid)  # read from /proc here, in the grader
    assert quick_pids and seen["me"] not in quick_pids + slow_pids, (
        "target should run in a child process; it ran in the calling process (or not at all)"
    )
    assert quick["value"] is True, (
        f"a child that ends after {quick_nap} s has ended in time with a {quick_deadline} s deadline: "
        f"run_with_deadline should return True; it returned {quick['value']!r}"
    )
    assert quick["elapsed"] < quick_deadline * 0.9, (
        f"a child that ends after {quick_nap} s kept run_with_deadline(target, {quick_deadline}) waiting "
        f"{quick['elapsed']:.2f} s: it waited the full deadline. join(timeout) returns as soon as the child ends"
    )
    assert slow["value"] is False, (
        f"a child that never ends should make run_with_deadline(target, {slow_deadline}) return False; "
        f"it returned {slow['value']!r}"
    )
    assert not running_after, (
        f"the child that never ends (pid {running_after[0]}) was still running after run_with_deadline "
        "returned: terminate() a child that is_alive() after the deadline"
    )
    assert slow_deadline * 0.8 <= slow["elapsed"], (
        f"run_with_deadline(target, {slow_deadline}) gave up after {slow['elapsed']:.2f} s: wait the whole deadline"
    )


@pytest.mark.task(4)
def test_a_daemon_child_ends_when_its_parent_ends(student):
    patience = 30.0  # for a spawned parent to start and report, on a busy machine; an ended parent is quick
    seen = student.run(probes.daemon_trace, patience, 10.0, timeout=60)
    reports = _reports(student, seen["folder"])
    returned = (reports.of("returned") or reports.of("raised") or [None])[0]
    assert returned is not None, (
        f"start_daemon(target) did not return within {patience:g} s: start the process and return it at once, "
        "without joining it"
    )
    if len(returned) == 1:
        done = "not done yet: " if returned[0].startswith("NotImplementedError") else ""
        pytest.fail(f"{done}start_daemon(target) raised {returned[0]}", pytrace=False)
    kind, daemon, alive, took = returned
    child_pids = [pid for (pid,) in reports.of("lingering")]
    assert kind == "Process", f"start_daemon should return the Process it started; it returned {kind}"
    assert alive and child_pids, (
        "the process start_daemon returned was not running target(): start() it before returning"
    )
    assert seen["parent_ended"] and daemon, (
        "your process is not a daemon: when its parent finished, the parent had to wait for the child to end. "
        "Create it with Process(..., daemon=True) (or set .daemon = True before start())"
    )
    running_after = still_running(child_pids, grace=1.0, root=student.pid)  # read from /proc here, in the grader
    assert not running_after, f"the daemon child (pid {running_after[0]}) was still running after its parent ended"
    assert took < 5.0, f"start_daemon took {took:.2f} s: return right after start(), do not wait for the child"


@pytest.mark.task(5)
def test_my_process_runs_its_actions_in_the_child_when_started(student):
    times = random.randint(3, 5)
    seen = student.run(probes.my_process_trace, times, 0.02, timeout=45)
    actions = _reports(student, seen["folder"]).of("action")
    pids = {pid for _, pid in actions}
    assert actions, (
        f"MyProcess(action, {times}).start() never called action: override run() to call action(0) ... "
        f"action({times - 1})"
    )
    assert seen["me"] not in pids and seen["pid"] is not None, (
        f"the actions ran in the parent process (pid {seen['me']}), not in a child: override run(), not start(); "
        "start() creates the child process and calls run() there"
    )
    indexes = [index for index, _ in actions]
    assert indexes == list(range(times)), (
        f"MyProcess(action, {times}) should call action(0) ... action({times - 1}) in order; it called action "
        f"with {indexes}"
    )
    assert pids == {seen["pid"]}, f"the actions ran in processes {sorted(pids)}, not in the started one ({seen['pid']})"
    assert seen["exitcode"] == 0, f"the child ended with exit code {seen['exitcode']}; expected 0"


@pytest.mark.task(6)
def test_gather_returns_the_value_of_every_child(student):
    count = 4
    seen = student.run(probes.gather_trace, count, timeout=90)
    produced = sorted(_reports(student, seen["folder"]).of("produced"))
    assert not seen["returned_early"] and not seen["unjoined"], (
        f"gather returned before its children finished (the grader was holding all {count} of them), without "
        "joining them: join() them all before reading the shared list"
    )
    assert seen["returned"], f"gather did not return within 15 s after its children were let go ({student.where()})"
    assert seen["is_list"], (
        f"gather should return a list; it returned {seen['values']!r}. A Manager's list is a proxy that stops "
        "working when the manager ends: return list(shared)"
    )
    assert seen["produced_at_return"] == count, (
        f"gather returned before its children finished ({seen['produced_at_return']} of {count} had produced "
        "their value): join() them all before reading the shared list"
    )
    got = sorted((list(value) if isinstance(value, (list, tuple)) else value for value in seen["values"]), key=repr)
    if not got and produced:
        pytest.fail(
            f"gather returned [] although all {count} children produced a value: each child appended to its own "
            "copy of the global list, which the parent never sees. Create the list with "
            "multiprocessing.Manager().list() and pass it to the children as an argument",
            pytrace=False,
        )
    if any(isinstance(value, list) and len(value) == 3 and value[1] == seen["me"] for value in got):
        pytest.fail("produce ran in the calling process: run each produce(i) in a child process", pytrace=False)
    assert got == sorted(produced, key=repr), (
        f"gather should return the {count} values the children produced, {produced}; it returned {got}"
    )


@pytest.mark.task(7)
def test_gather_by_key_returns_a_plain_dict_of_what_each_child_stored_under_its_key(student):
    keys = [f"k{uuid.uuid4().hex[:6]}" for _ in range(4)]
    order = list(reversed(keys))  # the children finish last key first
    seen = student.run(probes.gather_by_key_trace, keys, order, timeout=150)
    produced = {key: value for key, *value in _reports(student, seen["folder"]).of("produced")}
    assert seen["returned"], (
        f"gather_by_key did not return within 15 s after its children were let go ({student.where()})"
    )
    assert not seen["returned_early"] and not seen["unjoined"], (
        "gather_by_key returned without waiting for its children (the grader was holding them): join() every "
        "child before reading the dict"
    )
    assert seen["produced_at_return"] == len(keys), (
        f"gather_by_key returned before its children finished ({seen['produced_at_return']} of {len(keys)} had "
        "produced their value): join() every child before reading the dict"
    )
    if not seen["is_dict"]:
        kind = seen["type"]
        why = (
            f"A {kind} is a proxy: it only forwards every access to the manager's process, which ends with the "
            "Manager (at the end of its with-block), so the grader could not read it back. "
            if "Proxy" in kind else ""
        )
        pytest.fail(
            f"gather_by_key should return a plain dict; it returned a {kind}: {seen['values']!r}. {why}Return a copy "
            "made in your process: dict(results)",
            pytrace=False,
        )
    got = {key: list(value) if isinstance(value, (list, tuple)) else value for key, value in seen["values"]}
    expected = {key: [key, *value] for key, value in produced.items()}
    if not got and produced:
        pytest.fail(
            f"gather_by_key returned {{}} although all {len(keys)} children produced a value: each child stored it "
            "in its own copy of a plain dict, which the parent never sees. Create the dict with "
            "multiprocessing.Manager().dict() and pass it to the children as an argument",
            pytrace=False,
        )
    if any(isinstance(value, list) and len(value) == 3 and value[1] == seen["me"] for value in got.values()):
        pytest.fail("produce ran in the calling process: run each produce(key) in a child process", pytrace=False)
    assert sorted(got) == sorted(keys), (
        f"gather_by_key(produce, {keys}) should return a dict with exactly those keys; its keys were {sorted(got)}"
    )
    wrong = {key: value[0] for key, value in got.items() if isinstance(value, list) and value and value[0] != key}
    assert not wrong, (
        "some values are stored under another key: "
        + ", ".join(f"{key!r} holds the value produced for {other!r}" for key, other in wrong.items())
        + ". The children finish in any order (here the grader let them go last key first), so a value must be "
        "stored under its own key, in the child: results[key] = produce(key)"
    )
    assert got == expected, (
        f"gather_by_key should map every key to the value its child produced, {expected}; it returned {got}"
    )


# -- task 8: a process per client ----------------------------------------------------------------------------

ECHO_WAIT = 10.0  # a client with no echo for this long is ignored (a spawned child may take seconds to start)
QUIET_AFTER = 3.0  # from then on, a server whose processes are all blocked is taken to be ignoring the client


def _all_blocked(student):
    """After QUIET_AFTER seconds: whether the worker and every process below it are blocked (read from /proc),
    so that a server plainly not answering costs a few seconds, while a child still starting is waited for."""
    started = time.monotonic()

    def check() -> bool:
        if time.monotonic() - started < QUIET_AFTER:
            return False
        return all(observe.idle(pid) for pid in [student.pid, *platform.descendants(student.pid)])

    return check


def _crash_note(student) -> str:
    """What crashed in the worker since the last call, explained; "" if nothing did."""
    try:
        student.run(probes.ready)
    except StudentError as error:
        if "pickl" in error.message.lower():
            return (
                " (under spawn and forkserver, the start methods of macOS, Windows and Linux from Python 3.14, the "
                "target of a Process and its arguments are pickled and sent to the child, and yours could not be "
                "pickled: give Process(target=handle, args=(conn,)) the function handle defined at the top level "
                f"of per_client_server.py, not a lambda or a function nested in serve. {error.message})"
            )
        return f" ({error.message})"
    return ""


def _server_inode(port: int, client_port: int) -> int | None:
    """The inode of the server's end of the loopback connection to `client_port`, from /proc/net/tcp."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[2].endswith(f":{client_port:04X}"):
            return int(fields[9]) or None
    return None


def _holders(student, inode: int | None) -> list[int] | None:
    """The worker's processes (itself first) that hold the socket `inode` open; None where /proc says nothing."""
    if inode is None:
        return None
    found = []
    for pid in [student.pid, *platform.descendants(student.pid)]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue  # a process that ended meanwhile
        except OSError:
            return None
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    found.append(pid)
                    break
    return found


def _leave(clients: list[socket.socket], limit: float = 2.0) -> None:
    """Leave as a polite client does: no more data (SHUT_WR), then read what is left until the server closes."""
    for client in clients:
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + limit
    for client in clients:
        with contextlib.suppress(OSError):
            while (left := deadline - time.monotonic()) > 0:
                client.settimeout(left)
                if not client.recv(4096):
                    break
        client.close()


def _fail_client(student, number: int, got: bytes | str, message: bytes, what: str) -> None:
    if got == "silent":
        pytest.fail(f"client {number} sent {what} and got no echo within {ECHO_WAIT:g} s{_crash_note(student)} "
                    f"({student.where()})", pytrace=False)
    if got in ("closed", "reset"):
        pytest.fail(f"client {number} sent {what} and its connection was {got} instead of echoed"
                    f"{_crash_note(student)}", pytrace=False)
    pytest.fail(f"client {number} sent {what}, {message!r}, and got back {got!r}", pytrace=False)


def _await_eof(student, client: socket.socket, inode: int | None, message: bytes) -> tuple[bytes, bool, bool]:
    """Read the echo and then the end of the connection: (what came, whether EOF came, whether only the server
    process itself held the connection for a whole second while the client waited for EOF)."""
    received, deadline, parent_only_since = bytearray(), time.monotonic() + ECHO_WAIT, None
    client.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            chunk = client.recv(4096)
        except TimeoutError:
            chunk = None
        except OSError:
            return bytes(received), False, False
        if chunk == b"":
            return bytes(received), True, False
        if chunk:
            received += chunk
            continue
        if len(received) >= len(message):
            holders = _holders(student, inode)
            if holders == [student.pid]:
                parent_only_since = parent_only_since or time.monotonic()
                if time.monotonic() - parent_only_since >= 1.0:
                    return bytes(received), False, True
            else:
                parent_only_since = None
    return bytes(received), False, False


@pytest.mark.task(8)
def test_each_client_is_served_by_a_child_process_of_its_own(student):
    port = free_port()
    student.run(probes.start_per_client_server, port)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=ECHO_WAIT) for _ in range(3)]
    children: list[int] = []
    try:
        hello = f"client 1 says hello {secrets.token_hex(4)}".encode()
        got = exchange(clients[0], hello, patience=ECHO_WAIT, waiting=_all_blocked(student))
        if got != hello:
            _fail_client(student, 1, got, hello, "its first message")
        for number, client in enumerate(clients[1:], 2):
            message = f"client {number} says {secrets.token_hex(6)}".encode()
            got = exchange(client, message, patience=ECHO_WAIT, waiting=_all_blocked(student))
            if got == "silent" and not _crash_note(student):
                pytest.fail(
                    f"client {number} got no echo while client 1 stayed connected and silent, and the server waited "
                    f"instead: it serves one client at a time ({student.where()}). Start a "
                    "multiprocessing.Process(target=handle, args=(conn,)) for each connection and go straight back "
                    "to accept()",
                    pytrace=False,
                )
            if got != message:
                _fail_client(student, number, got, message, "its message")

        for number, client in enumerate(clients, 1):
            inode = _server_inode(port, client.getsockname()[1])
            holders = _holders(student, inode)
            if holders is None:
                continue  # no /proc (or not ours to read): the echoes and the EOF below still grade the server
            assert holders != [student.pid], (
                f"client {number}'s connection was held by the server process itself (pid {student.pid}) and by no "
                "child process: each client should be served in a child process of its own (threads run inside "
                "the server's process). Start a multiprocessing.Process(target=handle, args=(conn,)) per client"
            )
            holders = [pid for pid in holders if pid != student.pid]  # the parent's copy is judged by the EOF below
            assert holders, f"no process of the server held client {number}'s connection any more, yet it was echoed"
            assert not set(holders) & set(children), (
                f"client {number} was served by process {holders}, which also serves an earlier client: each client "
                "needs a child process of its own"
            )
            children += holders

        late = socket.create_connection(("127.0.0.1", port), timeout=ECHO_WAIT)
        clients.append(late)
        message = f"client 4 says goodbye {secrets.token_hex(6)}".encode()
        inode = _server_inode(port, late.getsockname()[1])  # the server's end, even before accept()
        late.sendall(message)
        late.shutdown(socket.SHUT_WR)
        got, ended, parent_only = _await_eof(student, late, inode, message)
        if got != message:
            _fail_client(student, 4, got or "silent", message, "a message and then shut down its sending side")
        why = (
            "the child had ended, and only the server process itself still held the connection"
            if parent_only
            else f"the connection stayed open for {ECHO_WAIT:g} s"
        )
        assert ended, (
            "client 4 sent a message and shut down its sending side; it got the echo, but the client never sees "
            f"the end of the connection (EOF): {why}. "
            "The child closes its copy when handle() returns, but the client sees the end of the connection only "
            "when every copy is closed: close conn in the parent right after start()"
        )
    finally:
        _leave(clients)

    left = still_running(children, grace=5.0)
    assert not left, (
        f"the child processes {left} were still running 5 s after their clients left: handle(conn) should return "
        "when recv() returns b'' (the client has gone), which ends its process"
    )
    crash = _crash_note(student)
    assert not crash, f"the server crashed while its clients came and went{crash}"

    if _worker_method() == "fork":
        _check_under_spawn(student)


def _worker_method() -> str:
    """The worker's start method: the one the harness sets, else the platform's default, as here."""
    return os.environ.get("GRADE_START_METHOD") or multiprocessing.get_start_method()


def _check_under_spawn(student) -> None:
    """Under fork, a lambda or nested target works: try the server once under spawn too, as on macOS and Windows."""
    port = free_port()
    student.run(probes.start_per_client_server, port, "spawn")
    with socket.create_connection(("127.0.0.1", port), timeout=ECHO_WAIT) as client:
        message = f"a client of the server under spawn {secrets.token_hex(6)}".encode()
        got = exchange(client, message, patience=ECHO_WAIT, waiting=_all_blocked(student))
        _leave([client])
    if got != message:
        _fail_client(student, 1, got, message, "its message to the server started under spawn")
