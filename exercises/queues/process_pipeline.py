"""The same producer and consumers, but the consumers are processes sharing a Manager queue."""

import multiprocessing  # noqa: F401  (you will need it)
from collections.abc import Callable, Iterable
from typing import Any

from pipeline import consumer, producer  # noqa: F401  (your task 1 functions work on a Manager queue too)


def run_process_pipeline(
    items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int
) -> None:
    """Run `consumers` child processes of consumer(q, handle) on one Manager queue of size maxsize, produce
    every item into it from this process, and return when every consumer process has ended."""
    # TODO(task 4): make q = multiprocessing.Manager().Queue(maxsize), start the consumer processes,
    # call producer(q, items, consumers), then join every process.
    raise NotImplementedError("task 4")
