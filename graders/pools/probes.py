"""Probes for the pools topic: they run in the worker, next to the student's modules.

They count the threads a pool starts and which of them run the tasks (a pool reuses a fixed set), force the
pool's threads to show how many tasks they run at once (a gate holds the first tasks until they are all
running), and see what had finished when join() or run_all() returned.

For the process pools, the tasks run in other processes: each item reports what it did in a file
(`observe.Reports`) and waits for a release file, so the grader sees from outside which processes hold the
items while they are held. The student's call runs in the background between probes (`_running`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.harness.core.observe import Reports
from graders.harness.core.probing import Call, Gate, in_background, student_module, thread_count

RELEASE = "release"
_running: dict[str, Any] = {}  # the student's call that outlives the probe that started it


class _Tasks:
    """Tasks for a pool: each records its arguments, its thread, and whether it has finished."""

    def __init__(self, width: int, nap: float) -> None:
        self.gate = Gate(width, patience=0.5)
        self.nap = nap
        self.calls: list[list] = []
        self.threads: dict[int, bool] = {}  # ident -> daemon
        self._lock = threading.Lock()

    def task(self, number: int, *, tag: str, nap: float | None = None) -> None:
        with self.gate:
            time.sleep(self.nap if nap is None else nap)
        with self._lock:
            self.calls.append([number, tag])
            self.threads[threading.get_ident()] = threading.current_thread().daemon

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.calls)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count and time.monotonic() < deadline:
            time.sleep(0.005)


def _threads() -> dict[int, bool]:
    return {thread.ident: thread.daemon for thread in threading.enumerate()}


def pool_threads_trace(n: int, count: int, tag: str) -> dict:
    """Thread_pool(n), then `count` tasks through apply_async: which threads were made, and which ran them."""
    module = student_module("thread_pool")
    before, kernel_before = _threads(), thread_count()
    pool = module.Thread_pool(n)
    made = {ident: daemon for ident, daemon in _threads().items() if ident not in before}
    kernel_made = thread_count() - kernel_before
    tasks = _Tasks(width=n, nap=0.01)
    for number in range(count):
        pool.apply_async(tasks.task, number, tag=tag)
    tasks.wait_for(count, timeout=2.0)
    return {
        "made": len(made),
        "kernel_made": kernel_made,
        "made_daemon": all(made.values()),
        "kernel_grew": thread_count() - kernel_before,
        "calls": sorted(tasks.calls),
        "used": len(tasks.threads),
        "used_outside_made": len(set(tasks.threads) - set(made)),
        "in_caller": threading.get_ident() in tasks.threads,
        "peak": tasks.gate.peak,
    }


def pool_join_trace(n: int, naps: list[float], tag: str) -> dict:
    """Two batches of tasks, each followed by join(): what had finished when join() returned."""
    pool = student_module("thread_pool").Thread_pool(n)
    tasks = _Tasks(width=n, nap=0.0)
    batches = []
    total = 0
    for batch in (naps, naps[: n + 1]):
        for number, nap in enumerate(batch, start=total):
            pool.apply_async(tasks.task, number, tag=tag, nap=nap)
        total += len(batch)
        started = time.monotonic()
        call = Call(pool.join)
        returned = call.wait(2.0)
        batches.append({"returned": returned, "done": tasks.done, "total": total,
                        "elapsed": time.monotonic() - started})
        if not returned or tasks.done < total:
            break
    return {"batches": batches, "calls": sorted(tasks.calls)}


def run_all_trace(size: int, pairs: list[list[int]]) -> dict:
    """run_all(multiply, pairs, size): the results, how many ran at once, in how many threads, and the
    threads left running afterwards."""
    tasks = _Tasks(width=size, nap=0.01)

    def multiply(x: int, y: int) -> int:
        tasks.task(x, tag="")
        return x * y

    before = thread_count()
    call = Call(student_module("pool_results").run_all, multiply, [tuple(pair) for pair in pairs], size)
    returned = call.wait(3.0)
    left = thread_count() - before
    deadline = time.monotonic() + 0.5
    while returned and left > 0 and time.monotonic() < deadline:  # an ended thread takes a moment to go
        time.sleep(0.01)
        left = thread_count() - before
    value = call.value
    return {
        "returned": returned,
        "results": list(value) if isinstance(value, (list, tuple)) else repr(value)[:200],
        "threads": len(tasks.threads),
        "peak": tasks.gate.peak,
        "left_running": left,
    }


def start_pool_server(port: int, size: int) -> int:
    """Start the student's serve(server, size) on a listening socket on `port`; return the thread count."""
    before = thread_count()
    server = socket.create_server(("127.0.0.1", port), backlog=50)
    in_background(student_module("pool_server").serve, server, size)
    return before


# -- process pools -------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return repr(value)[:200]


@dataclass(frozen=True)
class HeldItem:
    """fn(item) for pool_map: says which process took the item, waits until the probe lets this item (or every
    item) go, then returns a value the grader can compute and the worker cannot guess. Picklable, so it reaches
    the pool's processes under any start method."""

    reports: Reports
    salt: str

    def __call__(self, item: Any) -> Any:
        self.reports.add("started", _plain(item), os.getpid())
        mine = Path(self.reports.folder, f"{RELEASE}-{item}") if isinstance(item, int) else None
        every = Path(self.reports.folder, RELEASE)
        deadline = time.monotonic() + 120
        while not (mine and mine.exists()) and not every.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        self.reports.add("ended", _plain(item), os.getpid())
        return f"{self.salt}:{item * item}" if isinstance(item, int) else None


def tell_cpu_count(count: int) -> None:
    """From now on, this worker's os.cpu_count() (and so multiprocessing.cpu_count() and Pool()'s default size)
    says `count`, as on a machine with that many CPUs; forked processes inherit it."""
    os.cpu_count = lambda: count
    if hasattr(os, "process_cpu_count"):  # Python 3.13+: Pool() sizes itself with it
        os.process_cpu_count = lambda: count


def start_pool_map(items: list[int], salt: str, cpus: int) -> dict:
    """Start pool_map(fn, items) in the background, its items held, on a machine of `cpus` CPUs as far as the
    student's code can tell; the grader watches, then finish_pool_map."""
    tell_cpu_count(cpus)
    reports = Reports.fresh()
    call = Call(student_module("process_pool").pool_map, HeldItem(reports, salt), list(items))
    _running["pool_map"] = (call, reports)
    return {"folder": reports.folder, "me": os.getpid()}


def call_status(name: str) -> bool:
    """Whether the background call has ended; the student's error, if it ended with one, is raised here."""
    call, _reports = _running[name]
    return call.wait(0)


def finish_pool_map(patience: float) -> dict:
    """Let the held items go, highest running item first, one at a time, each ending before the next goes: the
    items finish in an order unlike theirs. Then wait for pool_map to return."""
    call, reports = _running["pool_map"]
    released: set[int] = set()
    deadline = time.monotonic() + patience
    quiet_since = time.monotonic()
    while not call.wait(0.01) and time.monotonic() < deadline:
        started = {item for item, _pid in reports.of("started") if isinstance(item, int)}
        waiting = started - released
        if not waiting:
            if time.monotonic() - quiet_since > 5:  # nothing new is held: let every item go
                break
            continue
        item = max(waiting)
        Path(reports.folder, f"{RELEASE}-{item}").touch()
        released.add(item)
        ends = time.monotonic() + 10
        while item not in {done for done, _pid in reports.of("ended")} and time.monotonic() < ends:
            time.sleep(0.005)
        quiet_since = time.monotonic()
    Path(reports.folder, RELEASE).touch()
    returned = call.wait(max(1.0, deadline - time.monotonic()))
    value = call.value if returned else None
    return {
        "returned": returned,
        "results": _plain(value) if isinstance(value, (list, tuple)) else repr(value)[:200],
        "is_list": isinstance(value, list),
    }


def start_process_pool_server(port: int, cpus: int) -> None:
    """Start the student's serve(port) in the background, on a machine of `cpus` CPUs as far as its code can
    tell: it serves forever."""
    tell_cpu_count(cpus)
    call = Call(student_module("process_pool_server").serve, port)
    _running["server"] = (call, None)
