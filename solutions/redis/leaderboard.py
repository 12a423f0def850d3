"""A game leaderboard as a Redis sorted set: members ordered by their score (`zadd z1 3 a 4 b 1 c`)."""

import redis


def board_key(board: str) -> str:
    """Where the leaderboard `board` lives: board:<board>."""
    return f"board:{board}"


def record_score(r: redis.Redis, board: str, player: str, score: float) -> None:
    """Set the score of `player` on `board` (a new player joins the board)."""
    r.zadd(board_key(board), {player: score})


def top(r: redis.Redis, board: str, n: int) -> list[tuple[str, float]]:
    """The `n` best players with their scores, highest score first."""
    return r.zrevrange(board_key(board), 0, n - 1, withscores=True)


def bottom(r: redis.Redis, board: str, n: int) -> list[str]:
    """The names of the `n` players with the lowest scores, lowest first."""
    return r.zrange(board_key(board), 0, n - 1)


def score_of(r: redis.Redis, board: str, player: str) -> float | None:
    """The score of `player`, or None when they are not on the board."""
    return r.zscore(board_key(board), player)


def count_between(r: redis.Redis, board: str, low: float, high: float) -> int:
    """How many players scored at least `low` and at most `high`."""
    return r.zcount(board_key(board), low, high)


def remove_player(r: redis.Redis, board: str, player: str) -> int:
    """Take `player` off the board and return how many players are left on it."""
    r.zrem(board_key(board), player)
    return r.zcard(board_key(board))
