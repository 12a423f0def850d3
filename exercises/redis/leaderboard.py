"""A game leaderboard as a Redis sorted set: members ordered by their score (`zadd z1 3 a 4 b 1 c`)."""

import redis


def board_key(board: str) -> str:
    """Where the leaderboard `board` lives: board:<board>."""
    return f"board:{board}"


def record_score(r: redis.Redis, board: str, player: str, score: float) -> None:
    """Set the score of `player` on `board` (a new player joins the board)."""
    # TODO(task 5): zadd the player with their score.
    raise NotImplementedError("task 5")


def top(r: redis.Redis, board: str, n: int) -> list[tuple[str, float]]:
    """The `n` best players with their scores, highest score first."""
    # TODO(task 5): the n highest scores, highest first, with their scores (zrevrange ... withscores=True).
    raise NotImplementedError("task 5")


def bottom(r: redis.Redis, board: str, n: int) -> list[str]:
    """The names of the `n` players with the lowest scores, lowest first."""
    # TODO(task 5): the n lowest players, lowest first (zrange).
    raise NotImplementedError("task 5")


def score_of(r: redis.Redis, board: str, player: str) -> float | None:
    """The score of `player`, or None when they are not on the board."""
    # TODO(task 5): return the player's zscore.
    raise NotImplementedError("task 5")


def count_between(r: redis.Redis, board: str, low: float, high: float) -> int:
    """How many players scored at least `low` and at most `high`."""
    # TODO(task 5): count the players whose score is within [low, high] (zcount).
    raise NotImplementedError("task 5")


def remove_player(r: redis.Redis, board: str, player: str) -> int:
    """Take `player` off the board and return how many players are left on it."""
    # TODO(task 5): zrem the player, then return zcard.
    raise NotImplementedError("task 5")
