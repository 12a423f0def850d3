"""Probes for the threads topic: they run in the worker, next to the student's modules."""

from __future__ import annotations

import dis
import functools
import socket
import sys
import threading
import time
import types

from graders.harness.core.probing import in_background, is_student_file, student_module, thread_count


def start_and_join_trace(count: int, nap: float) -> dict:
    """Call start_and_join with a target that naps; report what each call saw."""
    calls: list[tuple[int, int]] = []
    finished: list[int] = []
    lock = threading.Lock()
    caller = threading.get_ident()

    def target(index: int) -> None:
        with lock:
            calls.append((index, threading.get_ident()))
        time.sleep(nap)
        with lock:
            finished.append(index)

    started = time.monotonic()
    student_module("basics").start_and_join(target, count)
    elapsed = time.monotonic() - started
    with lock:
        done_at_return = len(finished)
    return {
        "indexes": sorted(index for index, _ in calls),
        "threads": len({ident for _, ident in calls}),
        "in_caller": any(ident == caller for _, ident in calls),
        "done_at_return": done_at_return,
        "elapsed": elapsed,
    }


SHARED_STORES = {"STORE_ATTR", "STORE_GLOBAL", "STORE_NAME", "STORE_SUBSCR", "STORE_DEREF"}


@functools.cache
def _store_offsets(code: types.CodeType) -> frozenset[int]:
    return frozenset(i.offset for i in dis.get_instructions(code) if i.opname in SHARED_STORES)


def _switch_before_writes(frame, event, arg):
    """A trace function that lets another thread run just before the student's code writes shared state.

    CPython 3.11 switches threads only every few milliseconds, so `self.value += 1` (read, add, write)
    almost never interleaves and an unlocked counter would pass by luck. Yielding between the read and the
    write makes the other threads read the same old value, every time; a lock held around both makes them
    wait instead.
    """
    if not is_student_file(frame.f_code.co_filename):
        return None
    frame.f_trace_opcodes = True
    frame.f_trace_lines = False
    stores = _store_offsets(frame.f_code)

    def local(frame, event, arg):
        if event == "opcode" and frame.f_lasti in stores:
            time.sleep(0)
        return local

    return local


def hammer_counter(threads: int, increments: int) -> int:
    """Call Counter().increment() `increments` times from each of `threads` threads, forcing switches."""
    counter = student_module("counter").Counter()
    gate = threading.Barrier(threads)

    def work() -> None:
        sys.settrace(_switch_before_writes)
        gate.wait()
        for _ in range(increments):
            counter.increment()
        sys.settrace(None)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value


def start_echo_server(port: int) -> int:
    """Start the student's serve() on a listening socket on `port`; return the thread count before it."""
    before = thread_count()
    server = socket.create_server(("127.0.0.1", port), backlog=50)
    in_background(student_module("echo_server").serve, server)
    return before


def fetch_all_trace(delays: list[float]) -> dict:
    """Call fetch_all with a fetch that sleeps delays[i] and returns ("done", item)."""
    active = 0
    peak = 0
    lock = threading.Lock()

    def fetch(item: int):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(delays[item])
        with lock:
            active -= 1
        return ("done", item)

    started = time.monotonic()
    results = student_module("basics").fetch_all(fetch, list(range(len(delays))))
    return {"results": results, "elapsed": time.monotonic() - started, "peak": peak}
