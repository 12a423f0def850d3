"""Friends as Redis sets: requests, friendships, common friends, introductions and a raffle."""

import redis


def friends_key(user: str) -> str:
    """The set of the friends of `user`: friends:<user>."""
    return f"friends:{user}"


def requests_key(user: str) -> str:
    """The set of the people waiting for `user` to accept them: requests:<user>."""
    return f"requests:{user}"


def common_key(a: str, b: str) -> str:
    """Where save_common_friends keeps the friends that `a` and `b` share: common:<a>:<b>."""
    return f"common:{a}:{b}"


def raffle_key(raffle: str) -> str:
    """The set of the people entered in `raffle`: raffle:<raffle>."""
    return f"raffle:{raffle}"


# -- friends and friend requests ----------------------------------------------------------------------------


def befriend(r: redis.Redis, a: str, b: str) -> None:
    """Make `a` and `b` friends: each one is in the other's set."""
    # TODO(task 4): sadd each one to the other's friends set.
    raise NotImplementedError("task 4")


def unfriend(r: redis.Redis, a: str, b: str) -> None:
    """End the friendship of `a` and `b`, on both sides."""
    # TODO(task 4): srem each one from the other's friends set.
    raise NotImplementedError("task 4")


def send_request(r: redis.Redis, sender: str, receiver: str) -> None:
    """`sender` asks `receiver` to be friends: `sender` waits in the requests of `receiver`."""
    # TODO(task 4): sadd sender to requests:<receiver>.
    raise NotImplementedError("task 4")


def accept_request(r: redis.Redis, user: str, sender: str) -> bool:
    """Move `sender` from the requests of `user` to the friends of `user` (and back); False when no request."""
    # TODO(task 4): smove sender from requests:<user> to friends:<user>, then add user to friends:<sender>.
    raise NotImplementedError("task 4")


def friends_of(r: redis.Redis, user: str) -> set[str]:
    """All the friends of `user`."""
    # TODO(task 4): return the members of friends:<user>.
    raise NotImplementedError("task 4")


def friend_count(r: redis.Redis, user: str) -> int:
    """How many friends `user` has."""
    # TODO(task 4): return the size of friends:<user> (scard).
    raise NotImplementedError("task 4")


def random_friend(r: redis.Redis, user: str) -> str | None:
    """One friend of `user` picked at random, to show on the home page (the friendship stays); None if none."""
    # TODO(task 4): pick a random friend without removing it (srandmember).
    raise NotImplementedError("task 4")


# -- common friends, introductions and a raffle -------------------------------------------------------------


def common_friends(r: redis.Redis, a: str, b: str) -> set[str]:
    """The friends that `a` and `b` both have."""
    # TODO(task 4): return the intersection of the two friends sets (sinter).
    raise NotImplementedError("task 4")


def save_common_friends(r: redis.Redis, a: str, b: str) -> int:
    """Store the common friends of `a` and `b` at common:<a>:<b>; return how many there are."""
    # TODO(task 4): store the intersection at common_key(a, b) with sinterstore and return its size.
    raise NotImplementedError("task 4")


def introductions(r: redis.Redis, a: str, b: str) -> set[str]:
    """Friends of `a` whom `b` could meet through `a`: not yet friends of `b`, and not `b` itself."""
    # TODO(task 4): friends of a minus friends of b (sdiff), without b.
    raise NotImplementedError("task 4")


def party_guests(r: redis.Redis, a: str, b: str) -> set[str]:
    """Everyone who is a friend of `a` or of `b` (or both), without the two hosts themselves."""
    # TODO(task 4): friends of a or b (sunion), without a and b.
    raise NotImplementedError("task 4")


def draw_winner(r: redis.Redis, raffle: str) -> str | None:
    """Draw one person at random from `raffle` and take them out of it, so nobody wins twice; None if empty."""
    # TODO(task 4): spop one entrant out of raffle:<raffle>.
    raise NotImplementedError("task 4")
