"""Commands that work on any key: type, ttl, expire, del, append and keys, for the keys of one application.

Several applications share one Redis database; each names its keys with its own prefix (e.g. "shop:"), and
these functions must never look at or touch the keys of another application.
"""

import redis


def keys_of(r: redis.Redis, prefix: str) -> list[str]:
    """The names of all the keys that start with `prefix`, sorted."""
    # TODO(task 6): list only the keys matching prefix + '*' (keys or scan_iter), sorted.
    raise NotImplementedError("task 6")


def describe(r: redis.Redis, key: str) -> tuple[str, int]:
    """(type, ttl) of `key`: e.g. ("hash", -1) for a hash that never expires, ("none", -2) for no such key."""
    # TODO(task 6): return (type, ttl) of the key.
    raise NotImplementedError("task 6")


def log_line(r: redis.Redis, key: str, line: str) -> int:
    """Add `line` and a newline at the end of the string at `key` (creating it); return its new length."""
    # TODO(task 6): append the line and a newline; return the new length.
    raise NotImplementedError("task 6")


def expire_all(r: redis.Redis, prefix: str, seconds: int) -> int:
    """Make every key that starts with `prefix` expire in `seconds` seconds; return how many keys that was."""
    # TODO(task 6): expire every key of the prefix, and no other; return how many.
    raise NotImplementedError("task 6")


def delete_all(r: redis.Redis, prefix: str) -> int:
    """Delete every key that starts with `prefix` and nothing else; return how many were deleted."""
    # TODO(task 6): delete every key of the prefix, and no other; return how many.
    raise NotImplementedError("task 6")
