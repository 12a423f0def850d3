"""Probes for the processes topic: they run in the worker, and the children the student's code starts report
back to them through a pipe.

The worker forks (Linux's default start method), so a child inherits this module's globals: the pipe end
`_writer`, the nap length, the secret of the run. The functions children run are defined at module top level
here, so they would work with any start method.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from graders.harness.core.probing import Call, StudentMistake, student_module

_reader: Connection | None = None
_writer: Connection | None = None
_nap = 0.0
_secret = 0
_lingering: Any = None  # a multiprocessing.Event: a lingering child has sent its report


def _open_reports() -> None:
    """A fresh one-way pipe for this probe's children; writes of a few hundred bytes are atomic on a pipe."""
    global _reader, _writer
    _reader, _writer = multiprocessing.Pipe(duplex=False)


def _report(*fact: Any) -> None:
    _writer.send(fact)


def _collect(count: int, timeout: float) -> list[tuple]:
    """Up to `count` reports, waiting at most `timeout` seconds in all."""
    found: list[tuple] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and _reader.poll(max(0.0, deadline - time.monotonic())):
        found.append(_reader.recv())
    return found


def running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie has ended: it only waits for its parent to read its status)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def still_running(pids: list[int], grace: float) -> list[int]:
    """The pids still running after waiting up to `grace` seconds for them to end (a signal takes a moment)."""
    deadline = time.monotonic() + grace
    alive = [pid for pid in pids if running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [pid for pid in alive if running(pid)]
    return alive


def _plain(value: Any) -> Any:
    """`value` if it is small plain data that can travel back to the grader, else its repr."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    return repr(value)[:200]


# -- what children run ---------------------------------------------------------------------------------------


def nap_and_report(index: int) -> None:
    started = time.monotonic()
    time.sleep(_nap)
    _report("ran", index, os.getpid(), started, time.monotonic())


def report_then_linger(*_args: Any) -> None:
    """Report this child's pid, then stay alive far longer than any check waits."""
    _report("lingering", os.getpid())
    if _lingering is not None:
        _lingering.set()
    time.sleep(60)


def report_then_nap() -> None:
    _report("napping", os.getpid())
    time.sleep(_nap)


def report_identity() -> None:
    try:
        said = _plain(student_module("workers").whoami())
    except Exception as error:
        said = f"{type(error).__name__}: {error}"[:200]
    _report(said, multiprocessing.current_process().name, os.getpid())


def report_action(index: int) -> None:
    _report("action", index, os.getpid())
    time.sleep(_nap)


def produce_value(index: int) -> list:
    time.sleep(_nap)
    _report("produced", index, os.getpid(), time.monotonic())
    return [index, os.getpid(), _secret]


def _parent_of_a_daemon() -> None:
    """Runs in a child of the worker: start the student's daemon, then end, as a parent process does."""
    started = time.monotonic()
    try:
        child = student_module("lifecycle").start_daemon(report_then_linger)
    except BaseException as error:
        _report("raised", f"{type(error).__name__}: {error}"[:300])
        return
    took = time.monotonic() - started
    if not isinstance(child, multiprocessing.Process):
        _report("returned", repr(child)[:200], None, None, took)
        return
    _lingering.wait(1.0)  # do not end before the daemon could say who it is
    _report("returned", "Process", child.daemon, child.is_alive(), took)
    # Returning now runs multiprocessing's exit handler: it terminates daemon children and joins the others.


# -- probes --------------------------------------------------------------------------------------------------


def _peak_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    active = peak = 0
    for _, step in events:
        active += step
        peak = max(peak, active)
    return peak


def start_and_join_trace(count: int, nap: float) -> dict:
    """Call start_and_join with a target that naps in each child and reports its pid and its times."""
    global _nap
    _nap = nap
    _open_reports()
    started = time.monotonic()
    student_module("workers").start_and_join(nap_and_report, count)
    returned = time.monotonic()
    runs = _collect(count, timeout=nap + 2)
    return {
        "me": os.getpid(),
        "elapsed": returned - started,
        "indexes": sorted(index for _, index, _, _, _ in runs),
        "pids": [pid for _, _, pid, _, _ in runs],
        "done_at_return": sum(1 for *_, end in runs if end <= returned),
        "peak": _peak_overlap([(start, end) for *_, start, end in runs]),
    }


def abandoned_children(count: int) -> list[int]:
    """Start start_and_join with children that never end, in a thread, and return the children's pids."""
    global _lingering
    _open_reports()
    _lingering = None
    call = Call(student_module("workers").start_and_join, report_then_linger, count)
    pids = [pid for _, pid in _collect(count, timeout=2)]
    call.wait(0)  # a NotImplementedError (or any error) of the student's is raised here
    return pids


def identity_trace(names: list[str]) -> dict:
    """whoami() in the worker, then start_named() with children that report what whoami() said there."""
    workers = student_module("workers")
    _open_reports()
    mine = _plain(workers.whoami())
    processes = workers.start_named(report_identity, list(names))
    if not isinstance(processes, (list, tuple)) or not all(
        isinstance(process, multiprocessing.Process) for process in processes
    ):
        raise StudentMistake(
            f"start_named() should return the list of Process objects it started; it returned {_plain(processes)!r}"
        )
    seen = _collect(len(names), timeout=3)
    for process in processes:
        if process.pid is not None:
            process.join(1)
    return {
        "me": [multiprocessing.current_process().name, os.getpid()],
        "mine": mine,
        "children": [[said, name, pid] for said, name, pid in seen],
        "returned": [[process.name, process.pid] for process in processes],
    }


def deadline_trace(quick_nap: float, quick_deadline: float, slow_deadline: float) -> dict:
    """run_with_deadline on a child that ends quickly, then on one that never ends."""
    global _nap
    lifecycle = student_module("lifecycle")
    _open_reports()
    _nap = quick_nap
    started = time.monotonic()
    call = Call(lifecycle.run_with_deadline, report_then_nap, quick_deadline)
    if not call.wait(quick_deadline + 2):
        return {"stuck": "quick"}
    quick = {"value": _plain(call.value), "elapsed": time.monotonic() - started}
    quick["pids"] = [pid for _, pid in _collect(1, timeout=0.5)]

    started = time.monotonic()
    call = Call(lifecycle.run_with_deadline, report_then_linger, slow_deadline)
    if not call.wait(slow_deadline + 2):
        return {"stuck": "slow", "quick": quick}
    slow = {"value": _plain(call.value), "elapsed": time.monotonic() - started}
    slow["pids"] = [pid for _, pid in _collect(1, timeout=0.5)]
    slow["running_after"] = still_running(slow["pids"], grace=0.5)
    return {"me": os.getpid(), "quick": quick, "slow": slow}


def daemon_trace(patience: float) -> dict:
    """A parent process calls start_daemon() and then ends: the daemon must end with it, not hold it up."""
    global _lingering
    _open_reports()
    _lingering = multiprocessing.Event()
    parent = multiprocessing.Process(target=_parent_of_a_daemon, name="grader-parent")
    parent.start()
    facts = _collect(2, timeout=patience + 1)
    parent.join(patience)
    parent_ended = not parent.is_alive()
    if not parent_ended:
        parent.kill()
        parent.join(1)
    child_pids = [fact[1] for fact in facts if fact[0] == "lingering"]
    returned = next((list(fact) for fact in facts if fact[0] in ("returned", "raised")), None)
    return {
        "returned": returned,
        "child_pids": child_pids,
        "parent_ended": parent_ended,
        "running_after": still_running(child_pids, grace=1.0) if parent_ended else child_pids,
    }


def my_process_trace(times: int, nap: float) -> dict:
    """Create MyProcess(report_action, times), start it, join it, and collect the actions it ran."""
    global _nap
    _nap = nap
    _open_reports()
    process = student_module("workers").MyProcess(report_action, times)
    if not isinstance(process, multiprocessing.Process):
        raise StudentMistake(f"MyProcess(...) should be a multiprocessing.Process; it is a {type(process).__name__}")
    try:
        process.start()
    except AttributeError as error:
        raise StudentMistake(
            f"MyProcess(...).start() failed with AttributeError: {error}. The Process part of your object was "
            "never set up: call super().__init__() first thing in your __init__"
        ) from None
    if process.pid is not None:
        process.join(times * nap + 2)
    actions = _collect(times, timeout=0.5)
    return {
        "me": os.getpid(),
        "pid": process.pid,
        "exitcode": process.exitcode if process.pid is not None else None,
        "actions": [[index, pid] for _, index, pid in actions],
    }


def gather_trace(count: int, nap: float, secret: int) -> dict:
    """Call gather(produce_value, count); each value names its index, the pid that produced it and a secret."""
    global _nap, _secret
    _nap, _secret = nap, secret
    _open_reports()
    values = student_module("shared_state").gather(produce_value, count)
    returned = time.monotonic()
    produced = _collect(count, timeout=nap + 2)
    return {
        "me": os.getpid(),
        "values": _plain(values),
        "is_list": isinstance(values, list),
        "produced": sorted([index, pid, secret] for _, index, pid, _ in produced),
        "done_at_return": sum(1 for *_, at in produced if at <= returned),
    }
