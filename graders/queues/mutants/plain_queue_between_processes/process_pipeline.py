"""The same producer and consumers, but the consumers are processes sharing a Manager queue."""

import multiprocessing
import queue
from collections.abc import Callable, Iterable
from typing import Any

from pipeline import consumer, producer


def run_process_pipeline(
    items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int
) -> None:
    """Run `consumers` child processes of consumer(q, handle) on one Manager queue of size maxsize, produce
    every item into it from this process, and return when every consumer process has ended."""
    q = queue.Queue(maxsize)
    processes = [multiprocessing.Process(target=consumer, args=(q, handle)) for _ in range(consumers)]
    for process in processes:
        process.start()
    producer(q, items, consumers)
    for process in processes:
        process.join()
