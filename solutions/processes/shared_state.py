"""The outline's global that child processes cannot share, and the Manager list and dict that they can."""

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
        for process in processes:
            process.join()
        return list(results)


def _produce_under(produce: Callable[[str], Any], key: str, results: Any) -> None:
    results[key] = produce(key)


def gather_by_key(produce: Callable[[str], Any], keys: list[str]) -> dict[str, Any]:
    """Call produce(key) for every key, each in a child process of its own, at the same time, and return a
    plain dict that maps each key to the value produced for it."""
    with multiprocessing.Manager() as manager:
        # The manager's dict lives in the manager's process; each child gets a proxy to it as an argument.
        results = manager.dict()
        processes = [
            multiprocessing.Process(target=_produce_under, args=(produce, key, results)) for key in keys
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        # A copy in this process: the proxy stops working when the manager ends, at the end of this block.
        return dict(results)
