"""Producers and consumers joined by a queue.Queue (the outline's 生产者与消费者模式)."""

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

STOP = None  # the sentinel: an item that tells one consumer that nothing more will come


def producer(q: Any, items: Iterable[Any], consumers: int = 1) -> None:
    """Put every item into q, in order, then one STOP for each consumer."""
    for item in items:
        q.put(item)  # blocks while the queue is full: the producer waits for the consumers
    for _ in range(consumers):
        q.put(STOP)


def consumer(q: Any, handle: Callable[[Any], Any]) -> None:
    """Take items from q and call handle(item) on each, until a STOP arrives."""
    while True:
        item = q.get()  # blocks while the queue is empty, using no CPU
        if item is STOP:
            return
        handle(item)


def run_pipeline(items: Iterable[Any], handle: Callable[[Any], Any], maxsize: int) -> None:
    """Run producer(q, items) in one thread and consumer(q, handle) in another, joined by a
    queue.Queue(maxsize); return when both threads have ended."""
    q = queue.Queue(maxsize)
    threads = [
        threading.Thread(target=producer, args=(q, items)),
        threading.Thread(target=consumer, args=(q, handle)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def worker(q: queue.Queue, handle: Callable[[Any], Any]) -> None:
    """Serve forever: take an item, handle it, and tell the queue that this item is done."""
    while True:
        item = q.get()
        handle(item)
        q.task_done()  # only now, after handle: q.join() waits for every item to be done, not just taken


def feed_and_wait(items: Iterable[Any], handle: Callable[[Any], Any], workers: int) -> None:
    """Start `workers` daemon threads running worker() on one queue, put every item into it, and return
    when every item has been handled."""
    q: queue.Queue = queue.Queue()
    for _ in range(workers):
        threading.Thread(target=worker, args=(q, handle), daemon=True).start()
    for item in items:
        q.put(item)
    q.join()


def run_consumers(items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int) -> None:
    """Run `consumers` threads of consumer(q, handle) on one queue.Queue(maxsize), produce every item into it
    from this thread, and return when every consumer has stopped."""
    q = queue.Queue(maxsize)
    threads = [threading.Thread(target=consumer, args=(q, handle)) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    producer(q, items, consumers)
