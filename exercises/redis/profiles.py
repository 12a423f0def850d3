"""A user profile as a Redis hash: one key, many fields (`hset`, `hget`, `hmget`, `hkeys`, `hvals`, `hlen`)."""

import redis


def profile_key(user_id: str) -> str:
    """Where the profile of `user_id` lives: user:<user_id>."""
    return f"user:{user_id}"


def save_profile(r: redis.Redis, user_id: str, fields: dict[str, str]) -> int:
    """Set the given fields, keep the profile's other fields, and return how many fields it has now."""
    # TODO(task 3): hset the fields (mapping=...) and return hlen.
    raise NotImplementedError("task 3")


def display_name(r: redis.Redis, user_id: str) -> str | None:
    """The nickname of `user_id`, or the name when there is no nickname; None when neither is set."""
    # TODO(task 3): hget the nickname, or else the name.
    raise NotImplementedError("task 3")


def profile_card(r: redis.Redis, user_id: str, wanted: list[str]) -> dict[str, str | None]:
    """The fields named in `wanted`, fetched in one command; None for a field the profile does not have."""
    # TODO(task 3): hmget the wanted fields in one command and pair them with their names.
    raise NotImplementedError("task 3")


def describe_profile(r: redis.Redis, user_id: str) -> dict:
    """For the admin page: {"fields": [names], "values": [values, in the same order], "count": n}."""
    # TODO(task 3): return hkeys, hvals and hlen of the profile.
    raise NotImplementedError("task 3")
