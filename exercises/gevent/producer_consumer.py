"""The outline's gevent producer and consumer, talking through a gevent.queue.Queue(5)."""

from collections.abc import Callable
from typing import Any

import gevent  # noqa: F401  (you will need it)
from gevent.queue import Queue

Log = Callable[[str, Any], None]


def produce(q: Queue, items: list[Any], log: Log) -> None:
    """Put every item into q, calling log("put", item) right after each put; then put None: there is no more."""
    # TODO(task 2): q.put(item) and then log("put", item) for each item; finally q.put(None).
    raise NotImplementedError("task 2")


def consumer(q: Queue, log: Log) -> None:
    """Get items from q until None arrives, calling log("got", item) right after each get."""
    # TODO(task 2): loop: item = q.get(); stop at None, else log("got", item).
    raise NotImplementedError("task 2")


def run(items: list[Any], log: Log) -> None:
    """Pass `items` from a producer greenlet to a consumer greenlet through Queue(5); return when both are done."""
    # TODO(task 2): q = Queue(5), spawn produce and consumer with gevent.spawn, and gevent.joinall both of them.
    raise NotImplementedError("task 2")
