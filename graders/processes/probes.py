"""Probes for the processes topic: they run in the worker, and the children the student's code starts report
what they did in files (`observe.Reports`) that the grader reads itself.

Everything a child runs is an instance of a class defined at module top level here, carrying the report
folder and its timings as attributes: it pickles, so the children report alike under fork, forkserver and
spawn, where a child inherits none of the worker's globals. Children that must not end before the grader
says so wait for a `release` file in their report folder.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.process
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.observe import Reports
from graders.harness.core.probing import Call, StudentMistake, in_background, student_module

RELEASE = "release"


def _plain(value: Any) -> Any:
    """`value` if it is small plain data that can travel back to the grader, else its repr."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    return repr(value)[:200]


def _released(reports: Reports, patience: float = 10.0) -> None:
    """Wait until the probe creates the release file (at most `patience` seconds)."""
    release = Path(reports.folder, RELEASE)
    deadline = time.monotonic() + patience
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.005)


def _release(reports: Reports) -> None:
    Path(reports.folder, RELEASE).touch()


def _unjoined(pids: list[int]) -> list[int]:
    """Which of these children of the worker were never joined.

    Measured inside the worker because only the parent knows whether it waited for a child: join() (or an
    is_alive() that sees the child has ended) drops the process from multiprocessing's set of children, a
    sleep does not. (From outside, an unjoined child is a zombie under fork and spawn, but not under
    forkserver, whose server process reaps every child itself.)"""
    return sorted(process.pid for process in list(multiprocessing.process._children) if process.pid in pids)


# -- what children run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldChild:
    """target(index) for start_and_join: says it started, waits for the release, naps its own time, ends."""

    reports: Reports
    naps: tuple[float, ...]

    def __call__(self, index: int) -> None:
        self.reports.add("started", index, os.getpid())
        _released(self.reports)
        time.sleep(self.naps[index % len(self.naps)])
        self.reports.add("ended", index, os.getpid())


@dataclass(frozen=True)
class Linger:
    """Says which pid it runs in, then stays alive far longer than any check waits."""

    reports: Reports

    def __call__(self, *_args: Any) -> None:
        self.reports.add("lingering", os.getpid())
        time.sleep(60)


@dataclass(frozen=True)
class Nap:
    reports: Reports
    nap: float

    def __call__(self) -> None:
        self.reports.add("napping", os.getpid())
        time.sleep(self.nap)


@dataclass(frozen=True)
class Identity:
    """target() for start_named: what the student's whoami() says in the child, next to the real facts."""

    reports: Reports

    def __call__(self) -> None:
        try:
            said = _plain(importlib.import_module("workers").whoami())
        except Exception as error:
            said = f"{type(error).__name__}: {error}"[:200]
        self.reports.add("identity", said, multiprocessing.current_process().name, os.getpid())


@dataclass(frozen=True)
class Action:
    reports: Reports
    nap: float

    def __call__(self, index: int) -> None:
        self.reports.add("action", index, os.getpid())
        time.sleep(self.nap)


@dataclass(frozen=True)
class Produce:
    """produce(index) for gather: waits for the release, then returns a value no one could guess, and says so."""

    reports: Reports

    def __call__(self, index: int) -> list:
        self.reports.add("waiting", index, os.getpid())
        _released(self.reports)
        value = [index, os.getpid(), uuid.uuid4().hex[:12]]
        self.reports.add("produced", *value)
        return value


@dataclass(frozen=True)
class ProduceForKey:
    """produce(key) for gather_by_key: waits until the probe lets this key (or every key) go, then returns a
    value no one could guess, and says so."""

    reports: Reports

    def __call__(self, key: str) -> list:
        self.reports.add("waiting", _plain(key), os.getpid())
        release = Path(self.reports.folder, f"{RELEASE}-{key}") if _is_key(key) else None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (release and release.exists()):
            if Path(self.reports.folder, RELEASE).exists():
                break
            time.sleep(0.005)
        value = [key, os.getpid(), uuid.uuid4().hex[:12]]
        self.reports.add("produced", *value)
        return value


def _is_key(key: Any) -> bool:
    return isinstance(key, str) and key.isalnum()


def _parent_of_a_daemon(reports: Reports) -> None:
    """Runs in a child of the worker: start the student's daemon, then end, as a parent process does."""
    started = time.monotonic()
    try:
        child = importlib.import_module("lifecycle").start_daemon(Linger(reports))
    except BaseException as error:
        reports.add("raised", f"{type(error).__name__}: {error}"[:300])
        return
    took = time.monotonic() - started
    if not isinstance(child, multiprocessing.process.BaseProcess):  # a Process of any context
        reports.add("returned", repr(child)[:200], None, None, took)
        return
    reports.wait_for("lingering", 1, timeout=15)  # do not end before the daemon could say who it is
    reports.add("returned", "Process", child.daemon, child.is_alive(), took)
    # Returning now runs multiprocessing's exit handler: it terminates daemon children and joins the others.


# -- probes --------------------------------------------------------------------------------------------------


def _until_all_started(call: Call, reports: Reports, kind: str, count: int) -> None:
    """Wait until `count` children have reported `kind`, or no new child has reported for a while: 30 s for the
    first (a spawned child imports Python afresh, slowly on a busy machine), 10 s for each next one (children
    started one after another wait for each other: only wrong code waits this long). A call that has returned
    is waited for too: the children it left running report what they did."""
    seen, last_change = 0, time.monotonic()
    while seen < count and time.monotonic() - last_change < (10.0 if seen else 30.0):
        call.wait(0.01)  # raises the student's error, if the call ended with one
        now = len(reports.of(kind))
        if now != seen:
            seen, last_change = now, time.monotonic()


def start_and_join_trace(count: int, naps: list[float]) -> dict:
    """start_and_join with children held until all of them have started (or no new one starts for a while),
    then released to nap for different times: what had happened when it returned."""
    reports = Reports.fresh()
    call = Call(student_module("workers").start_and_join, HeldChild(reports, tuple(naps)), count)
    _until_all_started(call, reports, "started", count)
    returned_early = call.wait(0.1)  # a start_and_join that joins is now waiting for the held children
    held = len(reports.of("started"))
    _release(reports)
    returned = returned_early or call.wait(max(naps) + 15)
    ended_at_return = len(reports.of("ended")) if returned else None
    pids = [pid for _, pid in reports.of("started")]
    return {
        "folder": reports.folder,
        "me": os.getpid(),
        "returned_early": returned_early,
        "held": held,
        "returned": returned,
        "ended_at_return": ended_at_return,
        "unjoined": _unjoined(pids) if returned else [],
    }


def abandoned_children(count: int) -> str:
    """Start start_and_join with children that never end, in a thread; the grader reads their pids."""
    reports = Reports.fresh()
    call = Call(student_module("workers").start_and_join, Linger(reports), count)
    reports.wait_for("lingering", count, timeout=30)
    call.wait(0)  # a NotImplementedError (or any error) of the student's is raised here
    return reports.folder


def identity_trace(names: list[str]) -> dict:
    """whoami() in the worker, then start_named() with children that report what whoami() said there."""
    workers = student_module("workers")
    reports = Reports.fresh()
    mine = _plain(workers.whoami())
    processes = workers.start_named(Identity(reports), list(names))
    if not isinstance(processes, (list, tuple)) or not all(
        isinstance(process, multiprocessing.process.BaseProcess) for process in processes
    ):
        raise StudentMistake(
            say(
                f"start_named() should return the list of Process objects it started; it returned "
                f"{_plain(processes)!r}",
                f"start_named() 应当返回它启动的 Process 对象的列表；它返回了 {_plain(processes)!r}",
            )
        )
    reports.wait_for("identity", len(names), timeout=30)
    for process in processes:
        if process.pid is not None:
            process.join(5)
    return {
        "folder": reports.folder,
        "me": [multiprocessing.current_process().name, os.getpid()],
        "mine": mine,
        "returned": [[_plain(process.name), process.pid] for process in processes],
    }


def deadline_trace(quick_nap: float, quick_deadline: float, slow_deadline: float) -> dict:
    """run_with_deadline on a child that ends quickly, then on one that never ends."""
    lifecycle = student_module("lifecycle")
    reports = Reports.fresh()
    started = time.monotonic()
    call = Call(lifecycle.run_with_deadline, Nap(reports, quick_nap), quick_deadline)
    if not call.wait(quick_deadline + 2):
        return {"stuck": "quick"}
    quick = {"value": _plain(call.value), "elapsed": time.monotonic() - started}

    started = time.monotonic()
    call = Call(lifecycle.run_with_deadline, Linger(reports), slow_deadline)
    if not call.wait(slow_deadline + 2):
        return {"stuck": "slow", "quick": quick}
    slow = {"value": _plain(call.value), "elapsed": time.monotonic() - started}
    return {"folder": reports.folder, "me": os.getpid(), "quick": quick, "slow": slow}


def daemon_trace(patience: float, exit_patience: float) -> dict:
    """A parent process calls start_daemon() and then ends: the daemon must end with it, not hold it up.
    `patience`: for the parent to start and report what start_daemon returned; `exit_patience`: for it to end."""
    student_module("lifecycle")  # here, where an import that never ends is stopped within seconds, not at `patience`
    reports = Reports.fresh()
    parent = multiprocessing.Process(target=_parent_of_a_daemon, args=(reports,), name="grader-parent")
    parent.start()
    deadline = time.monotonic() + patience
    while not (reports.of("returned") or reports.of("raised")) and time.monotonic() < deadline:
        time.sleep(0.01)
    parent.join(exit_patience)
    parent_ended = not parent.is_alive()
    if not parent_ended:
        parent.kill()
        parent.join(1)
    return {"folder": reports.folder, "parent_ended": parent_ended}


def my_process_trace(times: int, nap: float) -> dict:
    """Create MyProcess(action, times), start it, join it; the grader reads the actions it ran."""
    reports = Reports.fresh()
    process = student_module("workers").MyProcess(Action(reports, nap), times)
    if not isinstance(process, multiprocessing.process.BaseProcess):
        raise StudentMistake(
            say(
                f"MyProcess(...) should be a multiprocessing.Process; it is a {type(process).__name__}",
                f"MyProcess(...) 应当是一个 multiprocessing.Process；它却是一个 {type(process).__name__}",
            )
        )
    try:
        process.start()
    except AttributeError as error:
        raise StudentMistake(
            say(
                f"MyProcess(...).start() failed with AttributeError: {error}. The Process part of your object was "
                "never set up: call super().__init__() first thing in your __init__",
                f"MyProcess(...).start() 因 AttributeError 失败了：{error}。"
                "你的对象里属于 Process 的那部分从没被初始化：在 __init__ 的第一行调用 super().__init__()",
            )
        ) from None
    if process.pid is not None:
        process.join(times * nap + 30)
    return {
        "folder": reports.folder,
        "me": os.getpid(),
        "pid": process.pid,
        "exitcode": process.exitcode if process.pid is not None else None,
    }


def gather_trace(count: int) -> dict:
    """gather(produce, count), with every produce held until all of them run (or no new one starts for a while)."""
    reports = Reports.fresh()
    call = Call(student_module("shared_state").gather, Produce(reports), count)
    _until_all_started(call, reports, "waiting", count)
    returned_early = call.wait(0.1)
    facts, values = _after_release(call, reports, returned_early)
    return {**facts, "values": _plain(values), "is_list": isinstance(values, list)}


def _after_release(call: Call, reports: Reports, returned_early: bool) -> tuple[dict, Any]:
    """Let every held child go, wait for the student's call, and say what the grader needs to judge how it
    waited for its children: (facts, the value it returned or None)."""
    _release(reports)
    returned = returned_early or call.wait(15)
    pids = [pid for _, pid in reports.of("waiting")]
    facts = {
        "folder": reports.folder,
        "me": os.getpid(),
        "returned": returned,
        "returned_early": returned_early,
        "produced_at_return": len(reports.of("produced")) if returned else None,
        "unjoined": _unjoined(pids) if returned else [],
    }
    return facts, call.value if returned else None


def _ended(pid: int) -> bool:
    """Whether this child has exited (gone, or a zombie): everything it did before exiting is done."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    except IndexError:
        return False
    return state in ("Z", "X")


def _wait_until_ended(pid: int, patience: float) -> None:
    if not Path("/proc/self/stat").exists():  # no /proc (macOS, Windows): a moment for the child to store it
        time.sleep(0.2)
        return
    deadline = time.monotonic() + patience
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.005)


def gather_by_key_trace(keys: list[str], order: list[str]) -> dict:
    """gather_by_key(produce, keys) with every produce held until all of them run (or no new one starts for a
    while), then let go one at a time in `order`, each child ending before the next key is let go: children
    finish in an order unlike `keys`, so a value stored by position lands under the wrong key."""
    reports = Reports.fresh()
    call = Call(student_module("shared_state").gather_by_key, ProduceForKey(reports), list(keys))
    _until_all_started(call, reports, "waiting", len(keys))
    returned_early = call.wait(0.1)
    for key in order:
        pids = [pid for said, pid in reports.of("waiting") if said == key]
        if not pids:
            continue  # this key's child never started while the others were held
        Path(reports.folder, f"{RELEASE}-{key}").touch()
        deadline = time.monotonic() + 10
        while not any(fact[0] == key for fact in reports.of("produced")) and time.monotonic() < deadline:
            time.sleep(0.005)
        _wait_until_ended(pids[0], patience=10)  # it stores the value before it exits
    facts, values = _after_release(call, reports, returned_early)
    is_dict = isinstance(values, dict)
    return {
        **facts,
        "is_dict": is_dict,
        "type": type(values).__name__,
        "values": [[_plain(key), _plain(value)] for key, value in values.items()] if is_dict else _plain(values),
    }


# -- task 8 --------------------------------------------------------------------------------------------------


def ready() -> bool:
    """A no-op call: starts the worker (so the grader can read its /proc) and reports a crashed thread."""
    return True


def start_per_client_server(port: int, method: str | None = None) -> None:
    """Start the student's serve() on a listening socket on `port`, in a thread of its own; under start method
    `method` if one is given (it stays set: the server keeps starting children with it)."""
    if method:
        multiprocessing.set_start_method(method, force=True)
    serve = student_module("per_client_server").serve
    server = socket.create_server(("127.0.0.1", port), backlog=50)
    in_background(serve, server)
