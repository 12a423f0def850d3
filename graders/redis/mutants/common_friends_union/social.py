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
    r.sadd(friends_key(a), b)
    r.sadd(friends_key(b), a)


def unfriend(r: redis.Redis, a: str, b: str) -> None:
    """End the friendship of `a` and `b`, on both sides."""
    r.srem(friends_key(a), b)
    r.srem(friends_key(b), a)


def send_request(r: redis.Redis, sender: str, receiver: str) -> None:
    """`sender` asks `receiver` to be friends: `sender` waits in the requests of `receiver`."""
    r.sadd(requests_key(receiver), sender)


def accept_request(r: redis.Redis, user: str, sender: str) -> bool:
    """Move `sender` from the requests of `user` to the friends of `user` (and back); False when no request."""
    # SMOVE is one step: the sender cannot be in both sets, or in neither, at any moment.
    moved = r.smove(requests_key(user), friends_key(user), sender)
    if moved:
        r.sadd(friends_key(sender), user)
    return bool(moved)


def friends_of(r: redis.Redis, user: str) -> set[str]:
    """All the friends of `user`."""
    return r.smembers(friends_key(user))


def friend_count(r: redis.Redis, user: str) -> int:
    """How many friends `user` has."""
    return r.scard(friends_key(user))


def random_friend(r: redis.Redis, user: str) -> str | None:
    """One friend of `user` picked at random, to show on the home page (the friendship stays); None if none."""
    return r.srandmember(friends_key(user))


# -- common friends, introductions and a raffle -------------------------------------------------------------


def common_friends(r: redis.Redis, a: str, b: str) -> set[str]:
    """The friends that `a` and `b` both have."""
    return r.sunion([friends_key(a), friends_key(b)])


def save_common_friends(r: redis.Redis, a: str, b: str) -> int:
    """Store the common friends of `a` and `b` at common:<a>:<b>; return how many there are."""
    return r.sinterstore(common_key(a, b), [friends_key(a), friends_key(b)])


def introductions(r: redis.Redis, a: str, b: str) -> set[str]:
    """Friends of `a` whom `b` could meet through `a`: not yet friends of `b`, and not `b` itself."""
    return r.sdiff([friends_key(a), friends_key(b)]) - {b}


def party_guests(r: redis.Redis, a: str, b: str) -> set[str]:
    """Everyone who is a friend of `a` or of `b` (or both), without the two hosts themselves."""
    return r.sunion([friends_key(a), friends_key(b)]) - {a, b}


def draw_winner(r: redis.Redis, raffle: str) -> str | None:
    """Draw one person at random from `raffle` and take them out of it, so nobody wins twice; None if empty."""
    return r.spop(raffle_key(raffle))
