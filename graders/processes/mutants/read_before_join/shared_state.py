"""The outline's global that child processes cannot share, and the Manager list that they can."""

import multiprocessing
from collections.abc import Callable
from typing import Any


def _produce_into(produce: Callable[[int], Any], index: int, results: Any) -> None:
    results.append(produce(index))


def gather(produce: Callable[[int], Any], count: int) -> list[Any]:
    """Call produce(i) for i in range(count), each in a child process of its own, at the same time, and
    return every value they produced (in any order)."""
    with multiprocessing.Manager() as manager:
        # A proxy: every append travels to the manager's process, where the one real list lives.
        results = manager.list()
        processes = [
            multiprocessing.Process(target=_produce_into, args=(produce, i, results)) for i in range(count)
        ]
        for process in processes:
            process.start()
        return list(results)
