"""A user profile kept as one JSON string instead of a hash: every change rewrites the whole profile."""

import json

import redis


def profile_key(user_id: str) -> str:
    return f"user:{user_id}"


def _load(r: redis.Redis, user_id: str) -> dict:
    return json.loads(r.get(profile_key(user_id)) or "{}")


def save_profile(r: redis.Redis, user_id: str, fields: dict[str, str]) -> int:
    profile = {**_load(r, user_id), **fields}
    r.set(profile_key(user_id), json.dumps(profile))
    return len(profile)


def display_name(r: redis.Redis, user_id: str) -> str | None:
    profile = _load(r, user_id)
    return profile.get("nickname") or profile.get("name")


def profile_card(r: redis.Redis, user_id: str, wanted: list[str]) -> dict[str, str | None]:
    profile = _load(r, user_id)
    return {name: profile.get(name) for name in wanted}


def describe_profile(r: redis.Redis, user_id: str) -> dict:
    profile = _load(r, user_id)
    return {"fields": list(profile), "values": list(profile.values()), "count": len(profile)}
