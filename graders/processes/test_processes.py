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
from graders.harness.core.curriculum import say
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
    naps = [0.02, 0.05, 0.1, 0.15]
    random.shuffle(naps)
    seen = student.run(probes.start_and_join_trace, count, naps, timeout=90)
    reports = _reports(student, seen["folder"])
    started = reports.of("started")
    indexes = sorted(index for index, _ in started)
    pids = [pid for _, pid in started]
    assert indexes == list(range(count)), say(
        f"target should run once with each of 0..{count - 1} in a child process; the children reported "
        f"{indexes}",
        f"target 应当在子进程中用 0..{count - 1} 各运行一次；子进程报告的是 {indexes}",
    )
    assert seen["me"] not in pids, say(
        "target ran in the calling process: create a multiprocessing.Process for each call and start() it",
        "target 在调用者的进程里运行了：每次调用都要创建一个 multiprocessing.Process 并 start() 它",
    )
    assert len(set(pids)) == count, say(
        f"{count} calls should run in {count} processes; they ran in {len(set(pids))}",
        f"{count} 次调用应当在 {count} 个进程中运行；实际只在 {len(set(pids))} 个进程中运行",
    )
    assert not seen["returned_early"], say(
        f"start_and_join returned while its {count} children were still running (the grader was holding them): "
        "join() every process before returning; join() waits until that child has ended",
        f"start_and_join 在它的 {count} 个子进程还在运行时就返回了（评分程序扣住了它们）："
        "返回之前要 join() 每个进程；join() 会等到那个子进程结束",
    )
    assert seen["held"] == count, say(
        f"only {seen['held']} of {count} children had started while the first one was kept running: your code "
        "waited for each child before starting the next, so they ran one after another. Start them all before "
        "joining any",
        f"第一个子进程被扣住运行期间，{count} 个子进程中只有 {seen['held']} 个启动了：你的代码等每个子进程结束后"
        "才启动下一个，所以它们是一个接一个运行的。要先把它们全部启动，再 join 其中任何一个",
    )
    assert seen["returned"], student.where_in(lambda where: say(
        f"start_and_join did not return within 15 s after its children ended ({where})",
        f"子进程结束后 15 秒内 start_and_join 没有返回（{where}）",
    ))
    assert seen["ended_at_return"] == count, say(
        f"start_and_join returned while {count - seen['ended_at_return']} of {count} children were still "
        "running: join() every process before returning, rather than sleeping a guessed time",
        f"start_and_join 返回时，{count} 个子进程中还有 {count - seen['ended_at_return']} 个在运行："
        "返回之前要 join() 每个进程，而不是 sleep 一段猜出来的时间",
    )
    assert not seen["unjoined"], say(
        f"start_and_join returned without waiting for {len(seen['unjoined'])} of its {count} children: they had "
        "ended by then, but your code never called join() on them (a sleep only guesses how long they take). "
        "join() every process before returning",
        f"start_and_join 没有等待它的 {count} 个子进程中的 {len(seen['unjoined'])} 个就返回了：那时它们已经结束，"
        "但你的代码从没对它们调用 join()（sleep 只是猜它们要运行多久）。返回之前要 join() 每个进程",
    )

    # Children that never end, left behind by start_and_join (blocked in join), must die with the worker.
    folder = student.run(probes.abandoned_children, 3, timeout=40)
    pids = [pid for (pid,) in _reports(student, folder).of("lingering")]
    assert len(pids) == 3, say(
        f"start_and_join(target, 3) should start 3 children; {len(pids)} of them ran target",
        f"start_and_join(target, 3) 应当启动 3 个子进程；运行了 target 的只有 {len(pids)} 个",
    )
    here = observe.as_seen_here(student.pid, pids)  # while the worker runs: in a pid namespace they differ
    student.close()
    survivors = still_running(here, grace=2)
    assert not survivors, say(
        f"child processes {survivors} were still running after the check ended; the grader must end every "
        "process your code starts (a problem of the grader, please report it)",
        f"检查结束后子进程 {survivors} 还在运行；评分程序本应结束你的代码启动的每个进程"
        "（这是评分程序的问题，请报告它）",
    )


@pytest.mark.task(2)
def test_whoami_and_start_named_report_the_name_and_pid_of_each_process(student):
    names = [f"worker-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    seen = student.run(probes.identity_trace, names, timeout=60)
    children = _reports(student, seen["folder"]).of("identity")
    me = tuple(seen["me"])
    mine = tuple(seen["mine"]) if isinstance(seen["mine"], (list, tuple)) else seen["mine"]
    assert mine == me, say(
        f"whoami() in the main process returned {mine!r}; expected (name, pid) = {me!r}: "
        "use multiprocessing.current_process().name and .pid",
        f"主进程里的 whoami() 返回了 {mine!r}；应当是 (name, pid) = {me!r}："
        "用 multiprocessing.current_process().name 和 .pid",
    )
    assert len(children) == len(names), say(
        f"start_named(target, {names}) should start {len(names)} processes that run target(); {len(children)} did",
        f"start_named(target, {names}) 应当启动 {len(names)} 个运行 target() 的进程；实际是 {len(children)} 个",
    )
    called = sorted(name for _, name, _ in children)
    assert called == sorted(names), say(
        f"the children were called {called}; expected {sorted(names)}. Pass name=... to Process() before "
        "start(): a name set after start() never reaches the child, which is made at start()",
        f"子进程的名字是 {called}；应当是 {sorted(names)}。要在 start() 之前把 name=... 传给 Process()："
        "子进程是在 start() 时创建的，start() 之后才设的名字永远到不了子进程",
    )
    for said, name, pid in children:
        said = tuple(said) if isinstance(said, (list, tuple)) else said
        assert said == (name, pid), say(
            f"in the child called {name!r} (pid {pid}), whoami() returned {said!r}; expected {(name, pid)!r}",
            f"在名为 {name!r} 的子进程（pid {pid}）里，whoami() 返回了 {said!r}；应当是 {(name, pid)!r}",
        )
    returned = [tuple(item) for item in seen["returned"]]
    reported = {name: pid for _, name, pid in children}
    assert returned == [(name, reported.get(name)) for name in names], say(
        f"start_named should return the started processes in the order of the names; it returned processes "
        f"(name, pid) = {returned}",
        f"start_named 应当按名字的顺序返回启动的进程；它返回的进程 (name, pid) = {returned}",
    )


@pytest.mark.task(3)
def test_run_with_deadline_waits_no_longer_than_needed_and_terminates_a_late_child(student):
    # The quick child's deadline leaves room for a spawned child to start on a busy machine (it imports Python
    # afresh). The slow one's may end before its child has started: the wait below leaves it 1.5 s in all.
    quick_nap, quick_deadline, slow_deadline = 0.05, 10.0, 0.25
    seen = student.run(probes.deadline_trace, quick_nap, quick_deadline, slow_deadline, timeout=30)
    if "stuck" in seen:
        which, which_zh = (
            (f"a child that ends after {quick_nap} s", f"一个 {quick_nap} 秒后结束的子进程")
            if seen["stuck"] == "quick"
            else ("a child that never ends", "一个永远不结束的子进程")
        )
        deadline = quick_deadline if seen["stuck"] == "quick" else slow_deadline
        pytest.fail(
            student.where_in(lambda where: say(
                f"run_with_deadline(target, {deadline}) did not return within {deadline + 2:g} s for {which}: "
                f"use join({deadline}), which gives up after that long ({where})",
                f"对{which_zh}，run_with_deadline(target, {deadline}) 在 {deadline + 2:g} 秒内没有返回："
                f"用 join({deadline})，它等这么久就不再等了（{where}）",
            )),
            pytrace=False,
        )
    quick, slow = seen["quick"], seen["slow"]
    reports = _reports(student, seen["folder"])
    quick_pids = [pid for (pid,) in reports.of("napping")]
    # A child terminated at the deadline may not have started target yet (no report): that is right too. One that
    # was not terminated reports within this wait, even spawned on a busy machine (deadline and wait: 1.5 s).
    slow_pids = [pid for (pid,) in reports.wait_for("lingering", 1, timeout=1.5 - slow_deadline)]
    running_after = still_running(slow_pids, grace=0.5, root=student.pid)  # read from /proc here, in the grader
    assert quick_pids and seen["me"] not in quick_pids + slow_pids, say(
        "target should run in a child process; it ran in the calling process (or not at all)",
        "target 应当在子进程中运行；它却在调用者的进程里运行了（或者根本没有运行）",
    )
    assert quick["value"] is True, say(
        f"a child that ends after {quick_nap} s has ended in time with a {quick_deadline} s deadline: "
        f"run_with_deadline should return True; it returned {quick['value']!r}",
        f"期限是 {quick_deadline} 秒，一个 {quick_nap} 秒后结束的子进程按时结束了："
        f"run_with_deadline 应当返回 True；它返回了 {quick['value']!r}",
    )
    assert quick["elapsed"] < quick_deadline * 0.9, say(
        f"a child that ends after {quick_nap} s kept run_with_deadline(target, {quick_deadline}) waiting "
        f"{quick['elapsed']:.2f} s: it waited the full deadline. join(timeout) returns as soon as the child ends",
        f"一个 {quick_nap} 秒后结束的子进程让 run_with_deadline(target, {quick_deadline}) 等了 "
        f"{quick['elapsed']:.2f} 秒：它把整个期限都等完了。join(timeout) 在子进程结束时就会立刻返回",
    )
    assert slow["value"] is False, say(
        f"a child that never ends should make run_with_deadline(target, {slow_deadline}) return False; "
        f"it returned {slow['value']!r}",
        f"对一个永远不结束的子进程，run_with_deadline(target, {slow_deadline}) 应当返回 False；"
        f"它返回了 {slow['value']!r}",
    )
    assert not running_after, say(
        f"the child that never ends (pid {running_after[0]}) was still running after run_with_deadline "
        "returned: terminate() a child that is_alive() after the deadline",
        f"run_with_deadline 返回后，那个永远不结束的子进程（pid {running_after[0]}）还在运行："
        "期限到了之后，对仍然 is_alive() 的子进程调用 terminate()",
    )
    assert slow_deadline * 0.8 <= slow["elapsed"], say(
        f"run_with_deadline(target, {slow_deadline}) gave up after {slow['elapsed']:.2f} s: wait the whole deadline",
        f"run_with_deadline(target, {slow_deadline}) 在 {slow['elapsed']:.2f} 秒后就不等了：要等满整个期限",
    )


@pytest.mark.task(4)
def test_a_daemon_child_ends_when_its_parent_ends(student):
    patience = 30.0  # for a spawned parent to start and report, on a busy machine; an ended parent is quick
    seen = student.run(probes.daemon_trace, patience, 10.0, timeout=60)
    reports = _reports(student, seen["folder"])
    returned = (reports.of("returned") or reports.of("raised") or [None])[0]
    assert returned is not None, say(
        f"start_daemon(target) did not return within {patience:g} s: start the process and return it at once, "
        "without joining it",
        f"start_daemon(target) 在 {patience:g} 秒内没有返回：启动进程后立刻返回它，不要 join 它",
    )
    if len(returned) == 1:
        unfinished = returned[0].startswith("NotImplementedError")
        pytest.fail(
            say(
                f"{'not done yet: ' if unfinished else ''}start_daemon(target) raised {returned[0]}",
                f"{'还没有完成：' if unfinished else ''}start_daemon(target) 抛出了 {returned[0]}",
            ),
            pytrace=False,
        )
    kind, daemon, alive, took = returned
    child_pids = [pid for (pid,) in reports.of("lingering")]
    assert kind == "Process", say(
        f"start_daemon should return the Process it started; it returned {kind}",
        f"start_daemon 应当返回它启动的 Process；它返回了 {kind}",
    )
    assert alive and child_pids, say(
        "the process start_daemon returned was not running target(): start() it before returning",
        "start_daemon 返回的进程没有在运行 target()：返回之前要 start() 它",
    )
    assert seen["parent_ended"] and daemon, say(
        "your process is not a daemon: when its parent finished, the parent had to wait for the child to end. "
        "Create it with Process(..., daemon=True) (or set .daemon = True before start())",
        "你的进程不是守护进程：父进程做完之后，还得等这个子进程结束才能结束。"
        "用 Process(..., daemon=True) 创建它（或者在 start() 之前设置 .daemon = True）",
    )
    running_after = still_running(child_pids, grace=1.0, root=student.pid)  # read from /proc here, in the grader
    assert not running_after, say(
        f"the daemon child (pid {running_after[0]}) was still running after its parent ended",
        f"父进程结束后，守护子进程（pid {running_after[0]}）还在运行",
    )
    assert took < 5.0, say(
        f"start_daemon took {took:.2f} s: return right after start(), do not wait for the child",
        f"start_daemon 用了 {took:.2f} 秒：start() 之后立刻返回，不要等子进程",
    )


@pytest.mark.task(5)
def test_my_process_runs_its_actions_in_the_child_when_started(student):
    times = random.randint(3, 5)
    seen = student.run(probes.my_process_trace, times, 0.02, timeout=45)
    actions = _reports(student, seen["folder"]).of("action")
    pids = {pid for _, pid in actions}
    assert actions, say(
        f"MyProcess(action, {times}).start() never called action: override run() to call action(0) ... "
        f"action({times - 1})",
        f"MyProcess(action, {times}).start() 从没调用过 action：重写 run()，让它调用 action(0) ... "
        f"action({times - 1})",
    )
    assert seen["me"] not in pids and seen["pid"] is not None, say(
        f"the actions ran in the parent process (pid {seen['me']}), not in a child: override run(), not start(); "
        "start() creates the child process and calls run() there",
        f"这些 action 是在父进程（pid {seen['me']}）里运行的，不是在子进程里：要重写 run()，不要重写 start()；"
        "start() 会创建子进程并在子进程里调用 run()",
    )
    indexes = [index for index, _ in actions]
    assert indexes == list(range(times)), say(
        f"MyProcess(action, {times}) should call action(0) ... action({times - 1}) in order; it called action "
        f"with {indexes}",
        f"MyProcess(action, {times}) 应当按顺序调用 action(0) ... action({times - 1})；它调用 action 时用的参数是 "
        f"{indexes}",
    )
    assert pids == {seen["pid"]}, say(
        f"the actions ran in processes {sorted(pids)}, not in the started one ({seen['pid']})",
        f"这些 action 运行在进程 {sorted(pids)} 里，而不是在启动的那个进程（{seen['pid']}）里",
    )
    assert seen["exitcode"] == 0, say(
        f"the child ended with exit code {seen['exitcode']}; expected 0",
        f"子进程结束时的退出码是 {seen['exitcode']}；应当是 0",
    )


@pytest.mark.task(6)
def test_gather_returns_the_value_of_every_child(student):
    count = 4
    seen = student.run(probes.gather_trace, count, timeout=90)
    produced = sorted(_reports(student, seen["folder"]).of("produced"))
    assert not seen["returned_early"] and not seen["unjoined"], say(
        f"gather returned before its children finished (the grader was holding all {count} of them), without "
        "joining them: join() them all before reading the shared list",
        f"gather 没有 join 子进程，在它们结束之前就返回了（评分程序扣住了全部 {count} 个子进程）："
        "读取共享列表之前要把它们全部 join()",
    )
    assert seen["returned"], student.where_in(lambda where: say(
        f"gather did not return within 15 s after its children were let go ({where})",
        f"评分程序放开子进程后 15 秒内 gather 没有返回（{where}）",
    ))
    assert seen["is_list"], say(
        f"gather should return a list; it returned {seen['values']!r}. A Manager's list is a proxy that stops "
        "working when the manager ends: return list(shared)",
        f"gather 应当返回一个 list；它返回了 {seen['values']!r}。Manager 的列表是一个代理，管理器结束后就不能用了："
        "返回 list(shared)",
    )
    assert seen["produced_at_return"] == count, say(
        f"gather returned before its children finished ({seen['produced_at_return']} of {count} had produced "
        "their value): join() them all before reading the shared list",
        f"gather 在子进程结束之前就返回了（{count} 个子进程中只有 {seen['produced_at_return']} 个产生了值）："
        "读取共享列表之前要把它们全部 join()",
    )
    got = sorted((list(value) if isinstance(value, (list, tuple)) else value for value in seen["values"]), key=repr)
    if not got and produced:
        pytest.fail(
            say(
                f"gather returned [] although all {count} children produced a value: each child appended to its own "
                "copy of the global list, which the parent never sees. Create the list with "
                "multiprocessing.Manager().list() and pass it to the children as an argument",
                f"全部 {count} 个子进程都产生了值，gather 却返回了 []：每个子进程都 append 到了"
                "它自己那份全局列表的拷贝里，父进程永远看不到。用 multiprocessing.Manager().list() 创建列表，"
                "并把它作为参数传给子进程",
            ),
            pytrace=False,
        )
    if any(isinstance(value, list) and len(value) == 3 and value[1] == seen["me"] for value in got):
        pytest.fail(
            say(
                "produce ran in the calling process: run each produce(i) in a child process",
                "produce 在调用者的进程里运行了：每个 produce(i) 都要在子进程里运行",
            ),
            pytrace=False,
        )
    assert got == sorted(produced, key=repr), say(
        f"gather should return the {count} values the children produced, {produced}; it returned {got}",
        f"gather 应当返回子进程产生的 {count} 个值 {produced}；它返回了 {got}",
    )


@pytest.mark.task(7)
def test_gather_by_key_returns_a_plain_dict_of_what_each_child_stored_under_its_key(student):
    keys = [f"k{uuid.uuid4().hex[:6]}" for _ in range(4)]
    order = list(reversed(keys))  # the children finish last key first
    seen = student.run(probes.gather_by_key_trace, keys, order, timeout=150)
    produced = {key: value for key, *value in _reports(student, seen["folder"]).of("produced")}
    assert seen["returned"], student.where_in(lambda where: say(
        f"gather_by_key did not return within 15 s after its children were let go ({where})",
        f"评分程序放开子进程后 15 秒内 gather_by_key 没有返回（{where}）",
    ))
    assert not seen["returned_early"] and not seen["unjoined"], say(
        "gather_by_key returned without waiting for its children (the grader was holding them): join() every "
        "child before reading the dict",
        "gather_by_key 没有等它的子进程就返回了（评分程序扣住了它们）：读取字典之前要 join() 每个子进程",
    )
    assert seen["produced_at_return"] == len(keys), say(
        f"gather_by_key returned before its children finished ({seen['produced_at_return']} of {len(keys)} had "
        "produced their value): join() every child before reading the dict",
        f"gather_by_key 在子进程结束之前就返回了（{len(keys)} 个子进程中只有 {seen['produced_at_return']} 个"
        "产生了值）：读取字典之前要 join() 每个子进程",
    )
    if not seen["is_dict"]:
        kind = seen["type"]
        proxy = "Proxy" in kind
        why = say(
            f"A {kind} is a proxy: it only forwards every access to the manager's process, which ends with the "
            "Manager (at the end of its with-block), so the grader could not read it back. ",
            f"{kind} 是一个代理：它只是把每次访问转发给管理器进程，而管理器进程随 Manager 一起结束"
            "（在它的 with 块结束时），所以评分程序读不回它。",
        ) if proxy else ""
        pytest.fail(
            say(
                f"gather_by_key should return a plain dict; it returned a {kind}: {seen['values']!r}. ",
                f"gather_by_key 应当返回一个普通字典；它返回了一个 {kind}：{seen['values']!r}。",
            )
            + why
            + say("Return a copy made in your process: dict(results)", "返回在你的进程里做的拷贝：dict(results)"),
            pytrace=False,
        )
    got = {key: list(value) if isinstance(value, (list, tuple)) else value for key, value in seen["values"]}
    expected = {key: [key, *value] for key, value in produced.items()}
    if not got and produced:
        pytest.fail(
            say(
                f"gather_by_key returned {{}} although all {len(keys)} children produced a value: each child stored "
                "it in its own copy of a plain dict, which the parent never sees. Create the dict with "
                "multiprocessing.Manager().dict() and pass it to the children as an argument",
                f"全部 {len(keys)} 个子进程都产生了值，gather_by_key 却返回了 {{}}：每个子进程都把值存进了"
                "它自己那份普通字典的拷贝里，父进程永远看不到。用 multiprocessing.Manager().dict() 创建字典，"
                "并把它作为参数传给子进程",
            ),
            pytrace=False,
        )
    if any(isinstance(value, list) and len(value) == 3 and value[1] == seen["me"] for value in got.values()):
        pytest.fail(
            say(
                "produce ran in the calling process: run each produce(key) in a child process",
                "produce 在调用者的进程里运行了：每个 produce(key) 都要在子进程里运行",
            ),
            pytrace=False,
        )
    assert sorted(got) == sorted(keys), say(
        f"gather_by_key(produce, {keys}) should return a dict with exactly those keys; its keys were {sorted(got)}",
        f"gather_by_key(produce, {keys}) 返回的字典应当恰好有这些键；它的键是 {sorted(got)}",
    )
    wrong = {key: value[0] for key, value in got.items() if isinstance(value, list) and value and value[0] != key}
    assert not wrong, (
        say("some values are stored under another key: ", "有些值存在了别的键下：")
        + ", ".join(
            say(f"{key!r} holds the value produced for {other!r}", f"{key!r} 存的是为 {other!r} 产生的值")
            for key, other in wrong.items()
        )
        + say(
            ". The children finish in any order (here the grader let them go last key first), so a value must be "
            "stored under its own key, in the child: results[key] = produce(key)",
            "。子进程结束的顺序是不确定的（这里评分程序从最后一个键开始放开它们），所以值必须在子进程里存到它自己的键下："
            "results[key] = produce(key)",
        )
    )
    assert got == expected, say(
        f"gather_by_key should map every key to the value its child produced, {expected}; it returned {got}",
        f"gather_by_key 应当把每个键映射到它的子进程产生的值 {expected}；它返回了 {got}",
    )


# -- task 8: a process per client ----------------------------------------------------------------------------

ECHO_WAIT = 10.0  # a client with no echo for this long is ignored (a spawned child may take seconds to start)
QUIET_AFTER = 3.0  # from then on, a server whose processes are all blocked is taken to be ignoring the client


def _all_blocked(student):
    """Whether the worker and every process below it are blocked (read from /proc), after QUIET_AFTER seconds
    while the worker has children (one may still be starting: a spawned child takes seconds to import), at
    once while it has none (the untouched stub serving one client at a time): a server plainly not answering
    costs half a second, or a few, while a child still starting is waited for."""
    started = time.monotonic()

    def check() -> bool:
        below = platform.descendants(student.pid)
        if below and time.monotonic() - started < QUIET_AFTER:
            return False
        return all(observe.idle(pid) for pid in [student.pid, *below])

    return check


def _crash_note(student) -> str:
    """What crashed in the worker since the last call, explained; "" if nothing did."""
    try:
        student.run(probes.ready)
    except StudentError as error:
        if "pickl" in error.message.lower():
            return say(
                " (under spawn and forkserver, the start methods of macOS, Windows and Linux from Python 3.14, the "
                "target of a Process and its arguments are pickled and sent to the child, and yours could not be "
                "pickled: give Process(target=handle, args=(conn,)) the function handle defined at the top level "
                f"of per_client_server.py, not a lambda or a function nested in serve. {error.message})",
                "（spawn 和 forkserver 是 macOS、Windows 以及 Python 3.14 起 Linux 的启动方式，在它们下面，Process 的 "
                "target 和参数要被 pickle 后发给子进程，而你的无法被 pickle：给 Process(target=handle, args=(conn,)) "
                "传 per_client_server.py 顶层定义的函数 handle，不要传 lambda 或嵌套在 serve 里的函数。"
                f"{error.message}）",
            )
        return say(f" ({error.message})", f"（{error.message}）")
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


WHAT_ZH = {  # what a client sent, as _fail_client's callers say it
    "its first message": "它的第一条消息",
    "its message": "它的消息",
    "a message and then shut down its sending side": "一条消息，然后关闭了它的发送方向",
    "its message to the server started under spawn": "它给在 spawn 下启动的服务器的消息",
}


def _connect_clients(student, port: int, count: int) -> list[socket.socket]:
    """`count` clients connected to the student's server; a server that stopped listening meanwhile (its accept
    loop crashed on the first client) fails the task with what crashed, not with the grader's own error."""
    clients: list[socket.socket] = []
    for number in range(1, count + 1):
        try:
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=ECHO_WAIT))
        except OSError as error:
            for client in clients:
                client.close()
            crash = _crash_note(student)
            pytest.fail(
                say(f"client {number} could not connect ({error.strerror or error}): the server stopped listening"
                    f"{crash}",
                    f"客户端 {number} 连接不上（{error.strerror or error}）：服务器已经不再监听{crash}"),
                pytrace=False,
            )
    return clients


def _fail_client(student, number: int, got: bytes | str, message: bytes, what: str) -> None:
    what_zh = WHAT_ZH.get(what, what)
    if got == "silent":
        crash = _crash_note(student)
        pytest.fail(
            student.where_in(lambda where: say(
                f"client {number} sent {what} and got no echo within {ECHO_WAIT:g} s{crash} ({where})",
                f"客户端 {number} 发送了{what_zh}，{ECHO_WAIT:g} 秒内没有收到回显{crash}（{where}）",
            )),
            pytrace=False,
        )
    if got in ("closed", "reset"):
        crash = _crash_note(student)
        how = {"closed": "被关闭了", "reset": "被重置了（reset）"}[got]
        pytest.fail(
            say(
                f"client {number} sent {what} and its connection was {got} instead of echoed{crash}",
                f"客户端 {number} 发送了{what_zh}，没有收到回显，连接却{how}{crash}",
            ),
            pytrace=False,
        )
    pytest.fail(
        say(
            f"client {number} sent {what}, {message!r}, and got back {got!r}",
            f"客户端 {number} 发送了{what_zh} {message!r}，收到的却是 {got!r}",
        ),
        pytrace=False,
    )


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
    clients = _connect_clients(student, port, 3)
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
                where = student.where()
                pytest.fail(
                    say(
                        f"client {number} got no echo while client 1 stayed connected and silent, and the server "
                        f"waited instead: it serves one client at a time ({where}). Start a "
                        "multiprocessing.Process(target=handle, args=(conn,)) for each connection and go straight "
                        "back to accept()",
                        f"客户端 1 保持连接但不说话时，客户端 {number} 没有收到回显，服务器一直在等："
                        f"它一次只服务一个客户端（{where}）。每个连接都启动一个 "
                        "multiprocessing.Process(target=handle, args=(conn,))，然后立刻回到 accept()",
                    ),
                    pytrace=False,
                )
            if got != message:
                _fail_client(student, number, got, message, "its message")

        for number, client in enumerate(clients, 1):
            inode = _server_inode(port, client.getsockname()[1])
            holders = _holders(student, inode)
            if holders is None:
                continue  # no /proc (or not ours to read): the echoes and the EOF below still grade the server
            assert holders != [student.pid], say(
                f"client {number}'s connection was held by the server process itself (pid {student.pid}) and by no "
                "child process: each client should be served in a child process of its own (threads run inside "
                "the server's process). Start a multiprocessing.Process(target=handle, args=(conn,)) per client",
                f"客户端 {number} 的连接由服务器进程自己（pid {student.pid}）持有，没有任何子进程持有它："
                "每个客户端都应当由它自己的子进程服务（线程是在服务器进程里面运行的）。"
                "每个客户端启动一个 multiprocessing.Process(target=handle, args=(conn,))",
            )
            holders = [pid for pid in holders if pid != student.pid]  # the parent's copy is judged by the EOF below
            assert holders, say(
                f"no process of the server held client {number}'s connection any more, yet it was echoed",
                f"客户端 {number} 收到了回显，但服务器已经没有任何进程持有它的连接了",
            )
            assert not set(holders) & set(children), say(
                f"client {number} was served by process {holders}, which also serves an earlier client: each client "
                "needs a child process of its own",
                f"客户端 {number} 由进程 {holders} 服务，而这个进程也在服务前面的客户端："
                "每个客户端都需要它自己的子进程",
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
        why, why_zh = (
            (
                "the child had ended, and only the server process itself still held the connection",
                "子进程已经结束，只剩服务器进程自己还持有这个连接",
            )
            if parent_only
            else (f"the connection stayed open for {ECHO_WAIT:g} s", f"连接保持打开了 {ECHO_WAIT:g} 秒")
        )
        assert ended, say(
            "client 4 sent a message and shut down its sending side; it got the echo, but the client never sees "
            f"the end of the connection (EOF): {why}. "
            "The child closes its copy when handle() returns, but the client sees the end of the connection only "
            "when every copy is closed: close conn in the parent right after start()",
            f"客户端 4 发送了一条消息，然后关闭了它的发送方向；它收到了回显，但永远看不到连接结束（EOF）：{why_zh}。"
            "handle() 返回时子进程会关闭它那一份，但只有所有拷贝都关闭了，客户端才会看到连接结束："
            "在父进程里 start() 之后立刻关闭 conn",
        )
    finally:
        _leave(clients)

    left = still_running(children, grace=5.0)
    assert not left, say(
        f"the child processes {left} were still running 5 s after their clients left: handle(conn) should return "
        "when recv() returns b'' (the client has gone), which ends its process",
        f"客户端离开 5 秒后，子进程 {left} 还在运行：recv() 返回 b''（客户端已经走了）时 handle(conn) 应当返回，"
        "它的进程也就随之结束",
    )
    crash = _crash_note(student)
    assert not crash, say(
        f"the server crashed while its clients came and went{crash}",
        f"客户端来来去去的过程中，服务器崩溃了{crash}",
    )

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
