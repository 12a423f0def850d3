"""Log-in sessions that end by themselves: a Redis string with a time to live (`set key value ex xx`)."""

import redis


def session_key(token: str) -> str:
    """Where the session `token` lives: session:<token>."""
    return f"session:{token}"


def start_session(r: redis.Redis, token: str, user: str, seconds: int) -> None:
    """Remember that `token` belongs to `user` for `seconds` seconds; afterwards Redis forgets it."""
    # TODO(task 1): store user at session_key(token) with a time to live of `seconds`, in one command.
    raise NotImplementedError("task 1")


def current_user(r: redis.Redis, token: str) -> str | None:
    """The user of a live session, or None when the token is unknown or has expired."""
    # TODO(task 1): return the user stored for this token (None when there is none).
    raise NotImplementedError("task 1")


def keep_alive(r: redis.Redis, token: str, seconds: int) -> bool:
    """Give a live session `seconds` more seconds from now; False (and no new key) when there is none."""
    # TODO(task 1): give the session a new time to live; return False, creating nothing, when it does not exist.
    raise NotImplementedError("task 1")
