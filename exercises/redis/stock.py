"""A shop's stock as Redis counters: `mset` for a delivery, `incr`/`decr` (and their `by` forms) for sales."""

import redis


def stock_key(item: str) -> str:
    """Where the stock of `item` is counted: stock:<item>."""
    return f"stock:{item}"


def set_stock(r: redis.Redis, counts: dict[str, int]) -> None:
    """Set the stock of every item in `counts` at once, e.g. {"apple": 12, "pear": 3}."""
    # TODO(task 1): write every stock:<item> count with one mset.
    raise NotImplementedError("task 1")


def sell(r: redis.Redis, item: str, count: int = 1) -> int:
    """Take `count` of `item` out of stock and return how many are left."""
    # TODO(task 1): take `count` off the item's counter inside Redis (decr/decrby) and return what is left.
    raise NotImplementedError("task 1")


def restock(r: redis.Redis, item: str, count: int = 1) -> int:
    """Put `count` of `item` back into stock and return how many there are now."""
    # TODO(task 1): add `count` to the item's counter inside Redis (incr/incrby) and return the new count.
    raise NotImplementedError("task 1")


def in_stock(r: redis.Redis, item: str) -> int:
    """How many of `item` are in stock; 0 for an item the shop never had."""
    # TODO(task 1): read the counter with get; an item never stocked has 0.
    raise NotImplementedError("task 1")
