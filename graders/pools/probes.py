"""Probes for the pools topic: they run in the worker, next to the student's modules.

They count the threads a pool starts and which of them run the tasks (a pool reuses a fixed set), force the
pool's threads to show how many tasks they run at once (a gate holds the first tasks until they are all
running), and see what had finished when join() or run_all() returned.
"""

from __future__ import annotations

import socket
import threading
import time

from graders.harness.core.probing import Call, Gate, in_background, student_module, thread_count


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
