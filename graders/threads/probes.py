"""Probes for the threads topic: they run in the worker, next to the student's modules.

They hold no expected value. The targets and fetches they hand to the student's code call the grader's
switchboard (graders/threads/switchboard.py) and wait for its answer, so that the grader sees from outside
which calls run at once, decides how long each one lasts and what it returns, and times the student's
function with its own clock.
"""

from __future__ import annotations

import dis
import functools
import multiprocessing
import socket
import sys
import threading
import types
from time import sleep as _sleep  # bound before the student's code runs: a patched time.sleep cannot stop the race

from graders.harness.core.curriculum import say
from graders.harness.core.probing import Gate, StudentMistake, in_background, is_student_file, student_module
from graders.threads.jobs import CALL_LIMIT, Fib, Wait, call_grader


def ready() -> bool:
    """A no-op call: starts the worker (so the grader can read its /proc) and reports a crashed thread."""
    return True


# -- task 1 ----------------------------------------------------------------------------------------------------


def start_and_join_calls(port: int, count: int) -> None:
    """start_and_join(target, count) with a target that calls the grader as `target <index>`."""

    def target(index: int) -> None:
        call_grader(port, f"target {index}")

    student_module("basics").start_and_join(target, count)


# -- task 2 ----------------------------------------------------------------------------------------------------

SHARED_STORES = {"STORE_ATTR", "STORE_GLOBAL", "STORE_NAME", "STORE_SUBSCR", "STORE_DEREF"}


@functools.cache
def _store_offsets(code: types.CodeType) -> frozenset[int]:
    return frozenset(i.offset for i in dis.get_instructions(code) if i.opname in SHARED_STORES)


def _switching_tracer(first_store: Gate) -> object:
    """A trace function that lets the other threads run just before the student's code writes shared state.

    CPython switches threads only every few milliseconds, so `self.value += 1` (read, add, write) almost never
    interleaves and an unlocked counter would pass by luck. Yielding between the read and the write makes the
    other threads read the same old value, every time; a lock held around both makes them wait instead.
    The first write of each thread also waits at `first_store` until every thread stands before a write of
    its own: a lock created lazily in increment() (`if self._lock is None: self._lock = Lock()`) is then
    created by all of them at once, as it can be in a real program, instead of by whichever thread came first.
    A correct counter holds its lock there and the others cannot come: once they have stopped running, blocked on
    that lock, the gate lets it go on.
    """
    seen_first = threading.local()

    def tracer(frame, event, arg):
        if not is_student_file(frame.f_code.co_filename):
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        stores = _store_offsets(frame.f_code)

        def local(frame, event, arg):
            first_store.progress()
            if event == "opcode" and frame.f_lasti in stores:
                if not getattr(seen_first, "done", False):
                    seen_first.done = True
                    with first_store:
                        pass
                _sleep(0)
            return local

        return local

    return tracer


def hammer_counter(port: int, threads: int) -> int:
    """Increment one Counter from `threads` threads, each once for every byte the grader sends it.

    Only the grader knows how many bytes each thread gets (their counts differ), so the total the counter
    should reach is nowhere in this process. The counter's value itself can only be read here: it is an
    object in the student's memory.
    """
    counter = student_module("counter").Counter()
    if not callable(getattr(counter, "increment", None)):
        raise StudentMistake(say("Counter() has no increment() method: the stub has it; was it renamed?",
                                 "Counter() 没有 increment() 方法：初始代码里是有的，是不是被改名了？"))
    start = threading.Barrier(threads)
    tracer = _switching_tracer(Gate(threads, patience=0.2, quiet=0.08))
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=CALL_LIMIT) as line:
                line.sendall(f"thread {number}\n".encode())
                chunk = line.recv(4096)
                start.wait(CALL_LIMIT)  # every thread has its first bytes: they all start incrementing together
                sys.settrace(tracer)
                try:
                    while chunk:
                        for _ in chunk:
                            counter.increment()
                        chunk = line.recv(4096)
                finally:
                    sys.settrace(None)
        except BaseException as error:  # the student's error, raised below with its line
            failures.append(error)

    workers = [threading.Thread(target=work, args=(n,), name=f"grader-hammer-{n}") for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    value = counter.value
    if not isinstance(value, int):
        raise StudentMistake(say(
            f"Counter().value should be an int; after the increments it is {type(value).__name__}",
            f"Counter().value 应当是 int；调用过 increment() 之后，它是 {type(value).__name__}",
        ))
    return value


# -- task 3 ----------------------------------------------------------------------------------------------------


def start_echo_server(port: int) -> None:
    """Start the student's serve() on a listening socket on `port`, in a thread of its own."""
    serve = student_module("echo_server").serve
    server = socket.create_server(("127.0.0.1", port), backlog=50)
    in_background(serve, server)


# -- task 4 ----------------------------------------------------------------------------------------------------


def fetch_all_calls(port: int, count: int) -> list:
    """fetch_all(fetch, [0, 1, ..., count - 1]) with a fetch that returns what the grader answers `item <i>`."""

    def fetch(item: int) -> bytes:
        return call_grader(port, f"item {item}")

    results = student_module("basics").fetch_all(fetch, list(range(count)))
    if not isinstance(results, (list, tuple)):
        raise StudentMistake(say(f"fetch_all() should return a list; it returned {type(results).__name__}",
                                 f"fetch_all() 应当返回一个 list；它返回的是 {type(results).__name__}"))
    return [result if isinstance(result, bytes) else repr(result) for result in results]


# -- tasks 5 and 6 ---------------------------------------------------------------------------------------------


def _results(function: str, results: object) -> list:
    if not isinstance(results, (list, tuple)):
        raise StudentMistake(say(f"{function}() should return a list; it returned {type(results).__name__}",
                                 f"{function}() 应当返回一个 list；它返回的是 {type(results).__name__}"))
    return [result if isinstance(result, int) or result is None else repr(result) for result in results]


def start_method() -> str:
    """How multiprocessing starts a child in the worker (fork, forkserver or spawn)."""
    return multiprocessing.get_start_method()


def cpu_in_threads(port: int, seconds: float, items: list[int]) -> list:
    """run_in_threads(Fib(seconds, port), items)."""
    fn = Fib(seconds, port)
    return _results("run_in_threads", student_module("cpu_bound").run_in_threads(fn, list(items)))


def cpu_in_processes(port: int | None, seconds: float, items: list[int], method: str | None = None) -> list:
    """run_in_processes(Fib(seconds, port), items), under start method `method` if one is given (then restored)."""
    run_in_processes = student_module("cpu_bound").run_in_processes
    previous = multiprocessing.get_start_method()
    if method:
        multiprocessing.set_start_method(method, force=True)
    try:
        return _results("run_in_processes", run_in_processes(Fib(seconds, port), list(items)))
    finally:
        multiprocessing.set_start_method(previous, force=True)


def choose_for(kind: str, seconds: float, sample: int) -> object:
    """choose(job, sample) for a CPU-bound job ("cpu": Fib) or an I/O-bound one ("io": Wait), both `seconds` long."""
    job = Fib(seconds) if kind == "cpu" else Wait(seconds)
    answer = student_module("cpu_bound").choose(job, sample)
    return answer if isinstance(answer, str) else repr(answer)
