"""A user profile as a Redis hash: one key, many fields (`hset`, `hget`, `hmget`, `hkeys`, `hvals`, `hlen`)."""

import redis


def profile_key(user_id: str) -> str:
    """Where the profile of `user_id` lives: user:<user_id>."""
    return f"user:{user_id}"


def save_profile(r: redis.Redis, user_id: str, fields: dict[str, str]) -> int:
    """Set the given fields, keep the profile's other fields, and return how many fields it has now."""
    r.hset(profile_key(user_id), mapping=fields)
    return r.hlen(profile_key(user_id))


def display_name(r: redis.Redis, user_id: str) -> str | None:
    """The nickname of `user_id`, or the name when there is no nickname; None when neither is set."""
    return r.hget(profile_key(user_id), "nickname") or r.hget(profile_key(user_id), "name")


def profile_card(r: redis.Redis, user_id: str, wanted: list[str]) -> dict[str, str | None]:
    """The fields named in `wanted`, fetched in one command; None for a field the profile does not have."""
    return dict(zip(wanted, r.hmget(profile_key(user_id), wanted), strict=True))


def describe_profile(r: redis.Redis, user_id: str) -> dict:
    """For the admin page: {"fields": [names], "values": [values, in the same order], "count": n}."""
    key = profile_key(user_id)
    return {"fields": r.hkeys(key), "values": r.hvals(key), "count": r.hlen(key)}
