"""Grades exercises/processes: start and join, who a process is, deadlines and terminate, daemons, a Process
subclass, and a list that child processes really share."""

import random
import uuid

import pytest

from graders.harness.core.observe import Reports, still_running
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
