"""The outline's process pool: multiprocessing.Pool with one process per CPU (cpu_count)."""

import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any


def pool_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """Run fn(item) for every item on a multiprocessing.Pool of multiprocessing.cpu_count() processes and return
    the results in the order of items; no process of the pool is left running when it returns."""
    pool = multiprocessing.Pool(multiprocessing.cpu_count())  # one process per CPU, as the outline's Pool(n)
    try:
        # map sends the items to the pool's processes and gives back their results in the order of the items.
        return pool.map(fn, items)
    finally:
        pool.close()  # no more tasks: each process ends once the queue is empty
        pool.join()  # wait until every process of the pool has ended
