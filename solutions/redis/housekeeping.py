"""Commands that work on any key: type, ttl, expire, del, append and keys, for the keys of one application.

Several applications share one Redis database; each names its keys with its own prefix (e.g. "shop:"), and
these functions must never look at or touch the keys of another application.
"""

import redis


def keys_of(r: redis.Redis, prefix: str) -> list[str]:
    """The names of all the keys that start with `prefix`, sorted."""
    # SCAN walks the key space in small steps, where KEYS would block a busy server until it has listed them all.
    return sorted(r.scan_iter(match=prefix + "*"))


def describe(r: redis.Redis, key: str) -> tuple[str, int]:
    """(type, ttl) of `key`: e.g. ("hash", -1) for a hash that never expires, ("none", -2) for no such key."""
    return r.type(key), r.ttl(key)


def log_line(r: redis.Redis, key: str, line: str) -> int:
    """Add `line` and a newline at the end of the string at `key` (creating it); return its new length."""
    return r.append(key, line + "\n")


def expire_all(r: redis.Redis, prefix: str, seconds: int) -> int:
    """Make every key that starts with `prefix` expire in `seconds` seconds; return how many keys that was."""
    keys = keys_of(r, prefix)
    for key in keys:
        r.expire(key, seconds)
    return len(keys)


def delete_all(r: redis.Redis, prefix: str) -> int:
    """Delete every key that starts with `prefix` and nothing else; return how many were deleted."""
    keys = keys_of(r, prefix)
    return r.delete(*keys) if keys else 0
