"""The outline's greenlet producer and consumer: two functions that hand control to each other with switch()."""

from collections.abc import Callable
from typing import Any

from greenlet import greenlet  # noqa: F401  (you will need it)


def run(items: list[Any], log: Callable[[str, Any], None]) -> None:
    """Pass every item from a producer greenlet to a consumer greenlet, one at a time; return when all are passed.

    The producer calls log("produce", item) and then switches to the consumer with the item; the consumer, which
    waits in p.switch(), gets the item, calls log("consume", item) and switches back for the next one. When the
    producer has produced every item it returns, and control comes back here: then return.
    """
    # TODO(task 4): make p = greenlet(produce) and c = greenlet(consumer), then start the consumer first with c.switch().
    raise NotImplementedError("task 4")
