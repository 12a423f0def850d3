"""CPU-bound work: threads against processes (the GIL), and choosing between them."""

import multiprocessing  # noqa: F401  (you will need it)
import threading  # noqa: F401  (you will need it)
import time  # noqa: F401  (you will need it)
from collections.abc import Callable
from typing import Any


def run_in_threads(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fn(item) for item in items], each call in a thread of its own, all started before any is joined."""
    # TODO(task 5): one threading.Thread per item; results[i] must be fn(items[i]).
    raise NotImplementedError("task 5")


def run_in_processes(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fn(item) for item in items], each call in a child process of its own, all started before any
    is joined. Works under every start method: fork, forkserver and spawn."""
    # TODO(task 5): one multiprocessing.Process per item; send each result back to this process, in order.
    raise NotImplementedError("task 5")


def choose(job: Callable[[Any], Any], sample: Any) -> str:
    """Run job(sample) once and say what would run many such jobs at the same time: "processes" for a
    CPU-bound job (it needs parallelism, 并行), "threads" for an I/O-bound one (concurrency is enough, 并发)."""
    # TODO(task 6): measure the CPU time and the elapsed time of job(sample), and decide from the two.
    raise NotImplementedError("task 6")
