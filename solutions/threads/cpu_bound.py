"""CPU-bound work: threads against processes (the GIL), and choosing between them."""

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any


def run_in_threads(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fn(item) for item in items], each call in a thread of its own, all started before any is joined."""
    results: list[Any] = [None] * len(items)

    def call(index: int) -> None:
        results[index] = fn(items[index])  # threads share memory: the main thread sees this (the outline's a = 2)

    threads = [threading.Thread(target=call, args=(index,)) for index in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _call_in_child(fn: Callable[[Any], Any], index: int, item: Any, results: Any) -> None:
    """What each child process runs. At the top level of the module, so that spawn and forkserver can pickle it
    (by its name); a lambda or a function nested in run_in_processes cannot be pickled."""
    results.put((index, fn(item)))


def run_in_processes(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fn(item) for item in items], each call in a child process of its own, all started before any
    is joined. Works under every start method: fork, forkserver and spawn."""
    # A child has memory of its own: a value it stores in a list of ours changes its copy only (the outline's
    # a = 2 demo prints 1 after a process). The results come back through a queue, with their index.
    queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_call_in_child, args=(fn, index, item, queue))
        for index, item in enumerate(items)
    ]
    for process in processes:
        process.start()
    results: list[Any] = [None] * len(items)
    for _ in processes:  # read before joining: a child ends only once its result has gone into the queue
        index, value = queue.get()
        results[index] = value  # the children finish in any order
    for process in processes:
        process.join()
    return results


def choose(job: Callable[[Any], Any], sample: Any) -> str:
    """Run job(sample) once and say what would run many such jobs at the same time: "processes" for a
    CPU-bound job (it needs parallelism, 并行), "threads" for an I/O-bound one (concurrency is enough, 并发)."""
    cpu, elapsed = time.thread_time(), time.perf_counter()
    job(sample)
    cpu, elapsed = time.thread_time() - cpu, time.perf_counter() - elapsed
    # A job that waits uses almost no CPU, well under a hundredth of its time; one that computes uses all the CPU
    # it gets: all of its time on an idle machine, and even on a very busy one more than a twentieth.
    return "processes" if cpu > elapsed / 20 else "threads"
