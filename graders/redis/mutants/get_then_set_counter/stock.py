"""A shop's stock as Redis counters: `mset` for a delivery, `incr`/`decr` (and their `by` forms) for sales."""

import redis


def stock_key(item: str) -> str:
    """Where the stock of `item` is counted: stock:<item>."""
    return f"stock:{item}"


def set_stock(r: redis.Redis, counts: dict[str, int]) -> None:
    """Set the stock of every item in `counts` at once, e.g. {"apple": 12, "pear": 3}."""
    r.mset({stock_key(item): count for item, count in counts.items()})


def sell(r: redis.Redis, item: str, count: int = 1) -> int:
    """Take `count` of `item` out of stock and return how many are left."""
    left = int(r.get(stock_key(item))) - count
    r.set(stock_key(item), left)
    return left


def restock(r: redis.Redis, item: str, count: int = 1) -> int:
    """Put `count` of `item` back into stock and return how many there are now."""
    return r.incrby(stock_key(item), count)


def in_stock(r: redis.Redis, item: str) -> int:
    """How many of `item` are in stock; 0 for an item the shop never had."""
    return int(r.get(stock_key(item)) or 0)
