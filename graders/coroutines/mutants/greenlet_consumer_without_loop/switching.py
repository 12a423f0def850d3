"""The outline's greenlet producer and consumer: two functions that hand control to each other with switch()."""

from collections.abc import Callable
from typing import Any

from greenlet import greenlet


def run(items: list[Any], log: Callable[[str, Any], None]) -> None:
    """Pass every item from a producer greenlet to a consumer greenlet, one at a time; return when all are passed.

    The producer calls log("produce", item) and then switches to the consumer with the item; the consumer, which
    waits in p.switch(), gets the item, calls log("consume", item) and switches back for the next one. When the
    producer has produced every item it returns, and control comes back here: then return.
    """

    def produce() -> None:
        for item in items:
            log("produce", item)
            c.switch(item)

    def consumer() -> None:
        item = p.switch()
        log("consume", item)

    p = greenlet(produce)
    c = greenlet(consumer)
    # The consumer goes first so that it is already waiting in p.switch() when the first item arrives.
    # When produce() returns, greenlet switches to p's parent: the greenlet that called c.switch() here.
    c.switch()
