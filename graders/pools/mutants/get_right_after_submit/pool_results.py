"""Results from multiprocessing.pool.ThreadPool: apply_async(...).get()."""

from collections.abc import Callable, Iterable
from multiprocessing.pool import ThreadPool
from typing import Any


def run_all(func: Callable[..., Any], args_list: Iterable[tuple], size: int) -> list[Any]:
    """Run func(*args) for every args in args_list on a ThreadPool(size) and return the results in the order
    of args_list; the pool is closed and joined before returning."""
    pool = ThreadPool(size)
    try:
        # Submit everything before asking for any result: get() blocks until that one result is ready.
        return [pool.apply_async(func, args).get() for args in args_list]
    finally:
        pool.close()
        pool.join()
