"""The outline's process pool: multiprocessing.Pool with one process per CPU (cpu_count)."""

import multiprocessing  # noqa: F401  (you will need it)
from collections.abc import Callable, Iterable
from typing import Any


def pool_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """Run fn(item) for every item on a multiprocessing.Pool of multiprocessing.cpu_count() processes and return
    the results in the order of items; no process of the pool is left running when it returns."""
    # TODO(task 5): make multiprocessing.Pool(multiprocessing.cpu_count()), return pool.map(fn, items), and close()
    # and join() the pool before returning (try/finally, or a with-block).
    raise NotImplementedError("task 5")
