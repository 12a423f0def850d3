"""The callables that threads' probes hand to the student's code, and the call that reaches the grader.

A module of their own, with nothing but the standard library: spawn and forkserver pickle a Process's target,
and each child imports the module it comes from. From probes.py, that was the harness too, and dataclasses (0.05 s
of CPU for every child of run_in_processes).
"""

from __future__ import annotations

import contextlib
import os
import socket
from time import sleep as _sleep  # bound before the student's code runs: a patched time.sleep cannot stop the race
from time import thread_time as _thread_time

CALL_LIMIT = 5.0  # a call the grader never answers gives up after this long, so that a test always ends


def call_grader(port: int, name: str, limit: float = CALL_LIMIT) -> bytes:
    """Say `name` to the grader's switchboard and wait for its answer (everything it sends until it hangs up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as line:
        line.sendall(f"{name}\n".encode())
        answer = bytearray()
        with contextlib.suppress(TimeoutError):
            while chunk := line.recv(4096):
                answer += chunk
    return bytes(answer)


def _fib(n: int) -> int:
    """The outline's test(n): Fibonacci the slow, recursive way, all computing and no waiting."""
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


class Fib:
    """The fn of task 5 and the CPU-bound job of task 6: fib(n), computed again and again until the thread running
    it has used `seconds` of CPU time (the same work on a fast machine and a slow one).

    With a `port`, it then says `fib <n> <pid>` to the grader's switchboard and waits for the answer: the grader
    reads the CPU time of every thread and process from /proc while those that did the work still exist, and
    decides the order in which the calls finish. A plain class at module level, so it pickles: spawn and
    forkserver send it to the child processes of run_in_processes.
    """

    def __init__(self, seconds: float, port: int | None = None) -> None:
        self.seconds, self.port = seconds, port

    def __call__(self, n: int) -> int:
        deadline = _thread_time() + self.seconds
        value = _fib(n)
        while _thread_time() < deadline:
            value = _fib(n)
        if self.port is not None:
            with contextlib.suppress(OSError):  # the grader has already judged and stopped listening
                call_grader(self.port, f"fib {n} {os.getpid()}", limit=30)
        return value


class Wait:
    """The I/O-bound job of task 6: blocks for `seconds` without computing (the outline's time.sleep), returns n."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, n: int) -> int:
        _sleep(self.seconds)
        return n
