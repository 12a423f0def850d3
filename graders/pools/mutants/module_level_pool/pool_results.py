"""Results from multiprocessing.pool.ThreadPool: apply_async(...).get()."""

from collections.abc import Callable, Iterable
from multiprocessing.pool import ThreadPool
from typing import Any

_pools: dict[int, ThreadPool] = {}


def run_all(func: Callable[..., Any], args_list: Iterable[tuple], size: int) -> list[Any]:
    pool = _pools.setdefault(size, ThreadPool(size))
    pending = [pool.apply_async(func, args) for args in args_list]
    return [result.get() for result in pending]
