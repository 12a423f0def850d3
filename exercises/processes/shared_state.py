"""The outline's global that child processes cannot share, and the Manager list and dict that they can."""

import multiprocessing
from collections.abc import Callable
from typing import Any

results = []  # the outline's `a = 1`: every child process gets a copy of its own


def _produce_into(produce: Callable[[int], Any], index: int) -> None:
    results.append(produce(index))


def gather(produce: Callable[[int], Any], count: int) -> list[Any]:
    """Call produce(i) for i in range(count), each in a child process of its own, at the same time, and
    return every value they produced (in any order)."""
    # TODO(task 6): this returns [] because each child appends to its own copy; share a Manager().list() instead,
    # passed to each child as an argument (a global holding it reaches the children under fork only).
    processes = [multiprocessing.Process(target=_produce_into, args=(produce, i)) for i in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return list(results)


def gather_by_key(produce: Callable[[str], Any], keys: list[str]) -> dict[str, Any]:
    """Call produce(key) for every key, each in a child process of its own, at the same time, and return a
    plain dict that maps each key to the value produced for it."""
    # TODO(task 7): make a multiprocessing.Manager().dict(), pass it to every child as an argument, let each child
    # store results[key] = produce(key), join them all, and return a plain copy: dict(results).
    raise NotImplementedError("task 7")
