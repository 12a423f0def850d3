"""Producers and consumers joined by a queue.Queue (the outline's 生产者与消费者模式)."""

import queue
import threading  # noqa: F401  (you will need it)
from collections.abc import Callable, Iterable
from typing import Any

STOP = None  # the sentinel: an item that tells one consumer that nothing more will come


def producer(q: Any, items: Iterable[Any], consumers: int = 1) -> None:
    """Put every item into q, in order, then one STOP for each consumer."""
    # TODO(task 1): q.put() each item (it waits while the queue is full), then put STOP `consumers` times.
    raise NotImplementedError("task 1")


def consumer(q: Any, handle: Callable[[Any], Any]) -> None:
    """Take items from q and call handle(item) on each, until a STOP arrives."""
    # TODO(task 1): loop on q.get() (it waits while the queue is empty); return at STOP, else handle(item).
    raise NotImplementedError("task 1")


def run_pipeline(items: Iterable[Any], handle: Callable[[Any], Any], maxsize: int) -> None:
    """Run producer(q, items) in one thread and consumer(q, handle) in another, joined by a
    queue.Queue(maxsize); return when both threads have ended."""
    # TODO(task 1): create queue.Queue(maxsize), start a producer thread and a consumer thread, join both.
    raise NotImplementedError("task 1")


def worker(q: queue.Queue, handle: Callable[[Any], Any]) -> None:
    """Serve forever: take an item, handle it, and tell the queue that this item is done."""
    # TODO(task 2): loop forever: item = q.get(); handle(item); then q.task_done().
    raise NotImplementedError("task 2")


def feed_and_wait(items: Iterable[Any], handle: Callable[[Any], Any], workers: int) -> None:
    """Start `workers` daemon threads running worker() on one queue, put every item into it, and return
    when every item has been handled."""
    # TODO(task 2): start the daemon worker threads, put the items, then wait with q.join().
    raise NotImplementedError("task 2")


def run_consumers(items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int) -> None:
    """Run `consumers` threads of consumer(q, handle) on one queue.Queue(maxsize), produce every item into it
    from this thread, and return when every consumer has stopped."""
    # TODO(task 3): start the consumer threads, call producer(q, items, consumers), then join every consumer.
    raise NotImplementedError("task 3")
