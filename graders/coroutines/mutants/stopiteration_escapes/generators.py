"""Generators as coroutines: the outline's `fun()` driven with send, and a generator consumer for a producer.

`log(name, value)` stands for the outline's print(): call it where the outline prints, so the grader can see
exactly what happened, and in which order.
"""

from collections.abc import Callable, Generator
from typing import Any

Log = Callable[[str, Any], None]


def fun(log: Log) -> Generator[str, Any, None]:
    """The outline's generator: yield '第一个yield', '第二个yield', '第三个yield' and log each value sent back.

    The value sent after the first yield is a, after the second b, after the third c:
    log("a", a), log("b", b) and log("c", c) as soon as each one arrives; then the generator ends.
    """
    # send(x) resumes the paused yield, and the yield expression evaluates to x.
    a = yield "第一个yield"
    log("a", a)
    b = yield "第二个yield"
    log("b", b)
    c = yield "第三个yield"
    log("c", c)


def drive(gen: Generator, values: list[Any]) -> list[Any]:
    """Start `gen`, send it each of `values` in turn, and return everything it yielded, in order.

    The list starts with what `gen` yielded when it was started. When `gen` finishes before every value has
    been sent, stop there and return what it yielded so far.
    """
    yielded = [gen.send(None)]
    for value in values:
        yielded.append(gen.send(value))
    return yielded


def consumer(log: Log) -> Generator[None, Any, None]:
    """The outline's consumer: wait for an item with a bare `yield`, log("consume", item), and wait again, forever."""
    while True:
        item = yield
        log("consume", item)


def produce(g: Generator, items: list[Any], log: Log) -> None:
    """The outline's producer: start the consumer `g`, then for each item log("produce", item) and send it to g."""
    next(g)
    for item in items:
        log("produce", item)
        g.send(item)
