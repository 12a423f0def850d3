"""The outline's gevent producer and consumer, talking through a gevent.queue.Queue(5)."""

from collections.abc import Callable
from typing import Any

import gevent
from gevent.queue import Queue

Log = Callable[[str, Any], None]


def produce(q: Queue, items: list[Any], log: Log) -> None:
    """Put every item into q, calling log("put", item) right after each put; then put None: there is no more."""
    for item in items:
        # On a full queue put() waits, and gevent runs the consumer meanwhile.
        q.put(item)
        log("put", item)
    q.put(None)


def consumer(q: Queue, log: Log) -> None:
    """Get items from q until None arrives, calling log("got", item) right after each get."""
    while (item := q.get()) is not None:
        log("got", item)


def run(items: list[Any], log: Log) -> None:
    """Pass `items` from a producer greenlet to a consumer greenlet through Queue(5); return when both are done."""
    q = Queue(5)
    p = gevent.spawn(produce, q, items, log)
    c = gevent.spawn(consumer, q, log)
    gevent.joinall([p, c])
