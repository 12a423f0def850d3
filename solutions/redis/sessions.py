"""Log-in sessions that end by themselves: a Redis string with a time to live (`set key value ex xx`)."""

import redis


def session_key(token: str) -> str:
    """Where the session `token` lives: session:<token>."""
    return f"session:{token}"


def start_session(r: redis.Redis, token: str, user: str, seconds: int) -> None:
    """Remember that `token` belongs to `user` for `seconds` seconds; afterwards Redis forgets it."""
    # Value and TTL in one command: a crash between a SET and an EXPIRE would leave a session that never ends.
    r.set(session_key(token), user, ex=seconds)


def current_user(r: redis.Redis, token: str) -> str | None:
    """The user of a live session, or None when the token is unknown or has expired."""
    return r.get(session_key(token))


def keep_alive(r: redis.Redis, token: str, seconds: int) -> bool:
    """Give a live session `seconds` more seconds from now; False (and no new key) when there is none."""
    return bool(r.expire(session_key(token), seconds))
