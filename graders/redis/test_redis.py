"""Grades exercises/redis: each task's functions run on a Redis logical database of the test's own.

The student's functions get a client (redis.Redis, replies decoded to str) built in the worker; in task 7 the
student's connect() builds it from REDIS_URL, which points at a relay (graders/harness/services/relay.py) so that
the grader sees which address the client used. The graders then look at what the functions left in Redis with a
client of their own: key types, members, scores, TTLs.
Names, values and scores are drawn afresh for every run, so no answer can be written in by hand.
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from graders.harness.core.student import StudentError
from graders.harness.services.relay import relayed
from graders.redis import probes
from graders.redis.monitor import server_log, shown, touching

NAMES = ["sam", "ann", "jack", "lily", "tom", "mia", "leo", "zoe", "max", "eva", "ben", "ivy", "kai", "amy"]
FRUITS = ["apple", "pear", "plum", "kiwi", "mango", "peach", "lemon", "grape"]


@contextlib.contextmanager
def inspect(url: str) -> Iterator[redis.Redis]:
    """The grader's own client on the test's database, to look at what the student's code left there."""
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        client.close()


def people(count: int) -> list[str]:
    """`count` different user names, with a suffix of this run so that none can be hard-coded."""
    suffix = secrets.token_hex(2)
    return [f"{name}{suffix}" for name in random.sample(NAMES, count)]


def kind_of(r: redis.Redis, key: str) -> str:
    kind = r.type(key)
    return "no key at all" if kind == "none" else f"a {kind}"


def ttl_words(ttl: int) -> str:
    return {-1: "-1: it never expires", -2: "-2: the key does not exist"}.get(ttl, str(ttl))


# Commands that only read: what the checks ignore when they ask which command wrote a key.
READS = {
    "GET",
    "MGET",
    "TTL",
    "PTTL",
    "EXISTS",
    "TYPE",
    "STRLEN",
    "EXPIRETIME",
    "HGET",
    "HMGET",
    "HGETALL",
    "HKEYS",
    "HVALS",
    "HLEN",
    "SMEMBERS",
    "SISMEMBER",
    "SCARD",
    "SRANDMEMBER",
    "WATCH",
    "UNWATCH",
    "MULTI",
    "EXEC",
}
WRITES_WITHOUT_READING = {"INCR", "INCRBY", "DECR", "DECRBY", "INCRBYFLOAT"}


def with_expiry(command: list[str]) -> bool:
    """A write that gives its key a time to live in the same command."""
    name, options = command[0], {option.upper() for option in command[3:]}
    return name in {"SETEX", "PSETEX"} or (name == "SET" and bool(options & {"EX", "PX", "EXAT", "PXAT"}))


def read_modify_write(commands: list[list[str]]) -> tuple[list[str], list[str]] | None:
    """A read of a key followed by a write of it that is not a counter change inside Redis."""
    read = next((command for command in commands if command[0] in {"GET", "MGET"}), None)
    if read is None:
        return None
    later = commands[commands.index(read) + 1 :]
    write = next(
        (command for command in later if command[0] not in READS and command[0] not in WRITES_WITHOUT_READING),
        None,
    )
    return (read, write) if write else None


def as_pairs(value) -> list:
    """[(member, score), ...] however the client shaped it (tuples or lists), for comparing."""
    if not isinstance(value, list):
        return value
    return [tuple(pair) if isinstance(pair, (list, tuple)) else pair for pair in value]


# -- task 1: strings ---------------------------------------------------------------------------------------------


def check_sessions(student, redis_url: str) -> None:
    """A session is one string with a TTL, set in the same command; keep_alive extends it."""
    token, other = secrets.token_hex(4), secrets.token_hex(4)
    (user,) = people(1)
    key = f"session:{token}"
    with server_log(redis_url) as sent:
        student.run(probes.call, redis_url, "sessions", "start_session", token, user, 30)
    with inspect(redis_url) as r:
        assert r.type(key) == "string", (
            f"start_session({token!r}, {user!r}, 30) should store a string at {key}; there is {kind_of(r, key)}"
        )
        assert r.get(key) == user, f"{key} should hold the user {user!r}, not {r.get(key)!r}"
        ttl = r.ttl(key)
        assert 0 < ttl <= 30, f"{key} should expire within 30 s; its ttl is {ttl_words(ttl)}"
    writes = [command for command in touching(sent, key) if command[0] not in READS]
    if writes and not with_expiry(writes[0]):
        raise StudentError(
            f"the server ran `{shown(writes[0])}` first, which left {key} without an expiry until "
            + (f"`{shown(writes[1])}`" if len(writes) > 1 else "a later command")
            + ": had the program crashed in between, the session would never end. Give the value and its time to "
            "live in one command: set(key, value, ex=seconds)"
        )
    found = student.run(probes.call_each, redis_url, "sessions", "current_user", [(token,), (other,)])
    assert found == [user, None], (
        f"current_user should give {user!r} for the live session and None for an unknown token; got {found}"
    )
    kept = student.run(probes.call_each, redis_url, "sessions", "keep_alive", [(token, 600), (other, 600)])
    with inspect(redis_url) as r:
        ttl = r.ttl(key)
        assert kept[0] is True and 30 < ttl <= 600, (
            f"keep_alive({token!r}, 600) should return True and give the session up to 600 s more; it returned "
            f"{kept[0]!r} and the ttl of {key} is now {ttl_words(ttl)}"
        )
        assert kept[1] is False and not r.exists(f"session:{other}"), (
            f"keep_alive on an unknown token should return False and create nothing (expire, not set); it returned "
            f"{kept[1]!r} and session:{other} is {kind_of(r, f'session:{other}')}"
        )
        r.delete(key)  # as if it had expired
    gone = student.run(probes.call, redis_url, "sessions", "current_user", token)
    assert gone is None, f"once {key} has expired, current_user should return None, not {gone!r}"


def check_stock(student, redis_url: str) -> None:
    """The stock is set with one mset and changed by counters inside Redis, never read-modify-write."""
    items = random.sample(FRUITS, 4)
    counts = {item: random.randint(20, 60) for item in items[:3]}
    with server_log(redis_url) as sent:
        student.run(probes.call, redis_url, "stock", "set_stock", counts)
    with inspect(redis_url) as r:
        stored = {item: r.get(f"stock:{item}") for item in counts}
    assert stored == {item: str(count) for item, count in counts.items()}, (
        f"set_stock({counts}) should leave each count as a string at stock:<item>; found {stored}"
    )
    writes = [command for command in sent if command[0] not in READS]
    assert len(writes) == 1 and writes[0][0] == "MSET", (
        f"for set_stock the server ran {len(writes)} commands ({', '.join(c[0] for c in writes)}): write the whole "
        "delivery with one mset, so that no till ever reads half of it (a pipeline still sends one command per "
        "key)"
    )

    item, sold = items[0], random.randint(2, 5)
    with server_log(redis_url) as sent:
        seen = student.run(probes.sell_with_rival, redis_url, item, sold, 1)
    expected = counts[item] - sold - (1 if seen["rival_sold"] else 0)
    with inspect(redis_url) as r:
        left = int(r.get(f"stock:{item}") or 0)
    assert left == expected, (
        f"stock:{item} was {counts[item]}; your sell({item!r}, {sold}) read it, another till then sold 1, and your "
        f"write left {left} instead of {expected}: that sale's update was lost. decrby reads and writes in one "
        "step inside Redis, so nothing can slip in between"
        if seen["rival_sold"]
        else f"stock:{item} was {counts[item]}; after sell({item!r}, {sold}) it should be {expected}, not {left}"
    )
    assert seen["left"] == expected, (
        f"sell({item!r}, {sold}) should return what is left, {expected}, not {seen['left']!r}"
    )
    read_then_written = read_modify_write(touching(sent, f"stock:{item}"))
    assert not read_then_written, (
        f"for sell({item!r}, {sold}) the server ran `{shown(read_then_written[0])}` and later "
        f"`{shown(read_then_written[1])}`: the count was read, changed in Python and written back. Another till "
        "selling in between would be lost; decrby reads and writes in one step inside Redis"
    )

    results = [student.run(probes.call, redis_url, "stock", "sell", items[1])]
    results += student.run(probes.call_each, redis_url, "stock", "restock", [(items[2], 5), (items[3],)])
    wanted = [counts[items[1]] - 1, counts[items[2]] + 5, 1]
    assert results == wanted, (
        f"sell({items[1]!r}) (one by default), restock({items[2]!r}, 5) and restock of the new item {items[3]!r} "
        f"(one by default) should return {wanted}; they returned {results}"
    )
    with inspect(redis_url) as r:
        stored = [r.get(f"stock:{item}") for item in items[1:]]
    assert stored == [str(n) for n in wanted], f"after those calls the stored counts should be {wanted}; found {stored}"

    looked = student.run(probes.call_each, redis_url, "stock", "in_stock", [(items[2],), ("unicorn",)])
    assert looked == [wanted[1], 0] and all(type(n) is int for n in looked), (
        f"in_stock should return ints: {wanted[1]} for {items[2]!r} and 0 for an item never stocked; got {looked!r}"
    )


@pytest.mark.task(1)
def test_sessions_expire_and_stock_counters_change_inside_redis(student, redis_url):
    check_sessions(student, redis_url)
    check_stock(student, redis_url)


# -- task 2: lists -------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_the_feed_keeps_the_newest_and_the_queue_cancels_the_newest_copy(student, redis_url):
    (user,) = people(1)
    tag = secrets.token_hex(2)
    messages = [f"post {n} #{tag}" for n in range(1, 8)]
    student.run(probes.call_each, redis_url, "feed", "post", [(user, message, 5) for message in messages])
    newest_first = messages[::-1][:5]
    key = f"feed:{user}"
    with inspect(redis_url) as r:
        assert r.type(key) == "list", f"the feed should be a list at {key}; there is {kind_of(r, key)}"
        stored = r.lrange(key, 0, -1)
    assert stored == newest_first, (
        f"after 7 posts with keep=5, {key} should hold the 5 newest, newest first: {newest_first}; it holds {stored}"
    )
    shown = student.run(probes.call, redis_url, "feed", "latest", user, 3)
    assert shown == newest_first[:3], f"latest({user!r}, 3) should be {newest_first[:3]}, not {shown}"

    queue = f"jobs{tag}"
    a, b, c, d = (f"{job}-{tag}" for job in ("resize", "email", "backup", "report"))
    jobs = [a, b, a, c, a, d]
    length = student.run(probes.call, redis_url, "feed", "enqueue", queue, *jobs)
    key = f"queue:{queue}"
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == jobs and length == 6, (
        f"enqueue should append the jobs at the back in order and return the length 6: expected {jobs} at "
        f"{key}, found {stored}, returned {length!r}"
    )
    first = student.run(probes.call, redis_url, "feed", "next_job", queue)
    assert first == a, f"next_job should take the job that waited longest, {a!r} (first in, first out), not {first!r}"

    removed = student.run(probes.call, redis_url, "feed", "cancel", queue, a)
    expected = [b, a, c, d]
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == expected and removed == 1, (
        f"the queue was {[b, a, c, a, d]}; cancel({a!r}) should remove only the copy enqueued most recently (the "
        f"one nearest the tail, a negative count for lrem), leaving {expected} and returning 1; it left {stored} "
        f"and returned {removed!r}"
    )
    student.run(probes.call, redis_url, "feed", "enqueue", queue, a)
    removed = student.run(probes.call, redis_url, "feed", "cancel", queue, a, True)
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == [b, c, d] and removed == 2, (
        f"cancel({a!r}, every=True) on {[b, a, c, d, a]} should remove both copies (lrem with count 0) and return 2; "
        f"it left {stored} and returned {removed!r}"
    )
    drained = student.run(probes.call_each, redis_url, "feed", "next_job", [(queue,)] * 4)
    assert drained == [b, c, d, None], (
        f"next_job four times on {[b, c, d]} should give {[b, c, d, None]}, not {drained}"
    )


# -- task 3: a hash ----------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_a_profile_is_one_hash_updated_field_by_field(student, redis_url):
    uid, plain, nobody = (str(random.randint(1000, 9999)) + s for s in "abc")
    name, nickname = people(2)
    first = {
        "name": name,
        "city": random.choice(["Beijing", "Shanghai", "Chengdu"]),
        "age": str(random.randint(18, 60)),
    }
    more = {"city": "Hangzhou", "nickname": nickname}
    key = f"user:{uid}"
    counts = student.run(probes.call_each, redis_url, "profiles", "save_profile", [(uid, first), (uid, more)])
    merged = {**first, **more}
    with inspect(redis_url) as r:
        assert r.type(key) == "hash", (
            f"the profile should be a hash at {key}, one field per entry; there is {kind_of(r, key)}"
        )
        stored = r.hgetall(key)
        r.hset(f"user:{plain}", mapping={"name": name})
    assert stored == merged, (
        f"after save_profile with {first} and then {more}, {key} should hold {merged} (new fields added, the "
        f"others kept); it holds {stored}"
    )
    assert counts == [3, 4], f"save_profile should return how many fields the profile has: 3, then 4; got {counts}"

    names = student.run(probes.call_each, redis_url, "profiles", "display_name", [(uid,), (plain,), (nobody,)])
    assert names == [nickname, name, None], (
        f"display_name should give the nickname ({nickname!r}), else the name ({name!r}), else None; got {names}"
    )
    with server_log(redis_url) as sent:
        card = student.run(probes.call, redis_url, "profiles", "profile_card", uid, ["name", "email", "city"])
    wanted = {"name": name, "email": None, "city": "Hangzhou"}
    assert card == wanted, f"profile_card({uid!r}, ['name', 'email', 'city']) should be {wanted}, not {card!r}"
    assert len(sent) == 1 and sent[0][0] == "HMGET", (
        f"for profile_card the server ran {len(sent)} commands ({', '.join(c[0] for c in sent)}): hmget fetches "
        "several fields in one"
    )
    described = student.run(probes.call, redis_url, "profiles", "describe_profile", uid)
    if not isinstance(described, dict) or set(described) != {"fields", "values", "count"}:
        pytest.fail(f"describe_profile should return a dict with fields, values and count; got {described!r}", False)
    paired = dict(zip(described["fields"], described["values"], strict=False))
    assert paired == merged and len(described["fields"]) == 4 and described["count"] == 4, (
        f"describe_profile should give the 4 field names (hkeys), their values in the same order (hvals) and the "
        f"count 4 (hlen); got {described}"
    )


# -- task 4: sets --------------------------------------------------------------------------------------------------


def check_friends(student, redis_url: str) -> None:
    """Friendships and requests are sets changed on both sides; a random friend stays a friend."""
    a, b, c, d, e = people(5)
    student.run(probes.call_each, redis_url, "social", "befriend", [(a, b), (a, c)])
    with inspect(redis_url) as r:
        assert r.type(f"friends:{a}") == "set", f"friends:{a} should be a set; there is {kind_of(r, f'friends:{a}')}"
        sides = {user: r.smembers(f"friends:{user}") for user in (a, b, c)}
    assert sides == {a: {b, c}, b: {a}, c: {a}}, (
        f"after befriend({a!r}, {b!r}) and befriend({a!r}, {c!r}) each friend should be in the other's set, on "
        f"both sides: expected { ({a: {b, c}, b: {a}, c: {a}}) }, found {sides}"
    )
    student.run(probes.call, redis_url, "social", "unfriend", a, c)
    with inspect(redis_url) as r:
        sides = {user: r.smembers(f"friends:{user}") for user in (a, c)}
    assert sides == {a: {b}, c: set()}, f"after unfriend({a!r}, {c!r}) both sides should forget it; found {sides}"

    student.run(probes.call, redis_url, "social", "send_request", d, a)
    with inspect(redis_url) as r:
        waiting = r.smembers(f"requests:{a}")
    assert waiting == {d}, f"send_request({d!r}, {a!r}) should put {d!r} in the set requests:{a}; it holds {waiting}"
    with server_log(redis_url) as sent:
        accepted = student.run(probes.call_each, redis_url, "social", "accept_request", [(a, d), (a, e)])
    with inspect(redis_url) as r:
        state = {
            f"requests:{a}": r.smembers(f"requests:{a}"),
            f"friends:{a}": r.smembers(f"friends:{a}"),
            f"friends:{d}": r.smembers(f"friends:{d}"),
        }
    expected = {f"requests:{a}": set(), f"friends:{a}": {b, d}, f"friends:{d}": {a}}
    assert state == expected and accepted == [True, False], (
        f"accept_request({a!r}, {d!r}) should move {d!r} from requests:{a} to friends:{a} (smove), add {a!r} to "
        f"friends:{d}, and return True; accept_request({a!r}, {e!r}) with no request should return False and "
        f"change nothing. Expected {expected} and [True, False]; found {state} and {accepted}"
    )

    requests = touching(sent, f"requests:{a}")
    removed = [command for command in requests if command[0] != "SMOVE" and command[0] not in READS]
    assert not removed and any(command[0] == "SMOVE" for command in requests), (
        f"for accept_request({a!r}, {d!r}) the server ran "
        f"{', '.join(f'`{shown(c)}`' for c in requests) or 'nothing on requests:' + a}: "
        f"move {d!r} with smove(requests:{a}, friends:{a}, {d!r}), one step, so that {d!r} is never in both sets "
        "or in neither"
    )

    mine = student.run(probes.call, redis_url, "social", "friends_of", a)
    count = student.run(probes.call, redis_url, "social", "friend_count", a)
    assert set(mine or ()) == {b, d} and count == 2, (
        f"friends_of({a!r}) should be { ({b, d}) } and friend_count({a!r}) 2; got {mine!r} and {count!r}"
    )
    picks = student.run(probes.random_friend_many, redis_url, a, 12)
    lonely = student.run(probes.call, redis_url, "social", "random_friend", e)
    with inspect(redis_url) as r:
        after = r.smembers(f"friends:{a}")
    assert set(picks) <= {b, d} and after == {b, d}, (
        f"random_friend({a!r}) should pick from { ({b, d}) } and leave the friendship alone (srandmember, not "
        f"spop); 12 picks gave {sorted(set(map(str, picks)))} and friends:{a} is now {after}"
    )
    assert lonely is None, f"random_friend of someone without friends should be None, not {lonely!r}"


def check_set_algebra(student, redis_url: str) -> None:
    """sinter, sinterstore, sdiff and sunion give the right people; spop draws each entrant once."""
    a, b, *crowd = people(12)
    shared, only_a, only_b = crowd[:3], crowd[3:6], crowd[6:8]
    friends_a, friends_b = {b, *shared, *only_a}, {a, *shared, *only_b}
    with inspect(redis_url) as r:
        r.sadd(f"friends:{a}", *friends_a)
        r.sadd(f"friends:{b}", *friends_b)
    both = student.run(probes.call, redis_url, "social", "common_friends", a, b)
    assert set(both or ()) == set(shared), (
        f"the friends that {a!r} and {b!r} both have are {sorted(shared)} (sinter); common_friends returned "
        f"{sorted(map(str, both or ()))}"
    )
    stored_count = student.run(probes.call, redis_url, "social", "save_common_friends", a, b)
    key = f"common:{a}:{b}"
    with inspect(redis_url) as r:
        kind, stored = r.type(key), r.smembers(key)
    assert kind == "set" and stored == set(shared) and stored_count == 3, (
        f"save_common_friends should store the friends in both sets at {key} as a set (sinterstore) and return 3; "
        f"found {kind} {stored} and it returned {stored_count!r}"
    )
    intro = student.run(probes.call, redis_url, "social", "introductions", a, b)
    assert set(intro or ()) == set(only_a), (
        f"introductions({a!r}, {b!r}) should be the friends of {a!r} that {b!r} does not have yet, without "
        f"{b!r} (sdiff): {sorted(only_a)}; got {sorted(map(str, intro or ()))}"
    )
    guests = student.run(probes.call, redis_url, "social", "party_guests", a, b)
    assert set(guests or ()) == set(crowd[:8]), (
        f"party_guests({a!r}, {b!r}) should be every friend of either (sunion) without the hosts: "
        f"{sorted(crowd[:8])}; got {sorted(map(str, guests or ()))}"
    )

    raffle, entrants = f"lucky{secrets.token_hex(2)}", crowd[8:]
    with inspect(redis_url) as r:
        r.sadd(f"raffle:{raffle}", *entrants)
    draws = student.run(probes.call_each, redis_url, "social", "draw_winner", [(raffle,)] * (len(entrants) + 1))
    with inspect(redis_url) as r:
        left = r.smembers(f"raffle:{raffle}")
    assert sorted(map(str, draws[:-1])) == sorted(entrants) and draws[-1] is None and not left, (
        f"{len(entrants) + 1} draws from raffle:{raffle} holding {sorted(entrants)} should give each entrant once "
        f"and then None, taking each winner out (spop); got {draws}, and {sorted(left)} are still in it"
    )


@pytest.mark.task(4)
def test_friends_common_friends_and_a_raffle_are_sets(student, redis_url):
    check_friends(student, redis_url)
    check_set_algebra(student, redis_url)


# -- task 5: a sorted set ----------------------------------------------------------------------------------------


@pytest.mark.task(5)
def test_the_leaderboard_orders_players_by_score(student, redis_url):
    board = f"game{secrets.token_hex(2)}"
    players = people(6)
    scores = dict(zip(players, random.sample(range(10, 500), 6), strict=True))
    changed = players[0]
    calls = [(board, player, score) for player, score in scores.items()]
    scores[changed] += 1000  # a new best: recording again must move the player, not add a second entry
    calls.append((board, changed, scores[changed]))
    student.run(probes.call_each, redis_url, "leaderboard", "record_score", calls)
    key = f"board:{board}"
    ranked = sorted(scores.items(), key=lambda pair: pair[1])
    with inspect(redis_url) as r:
        assert r.type(key) == "zset", f"the leaderboard should be a sorted set at {key}; there is {kind_of(r, key)}"
        stored = r.zrange(key, 0, -1, withscores=True)
    assert as_pairs(stored) == [(p, float(s)) for p, s in ranked], (
        f"{key} should hold {ranked} (lowest first); it holds {stored}"
    )

    best = as_pairs(student.run(probes.call, redis_url, "leaderboard", "top", board, 3))
    wanted = [(p, float(s)) for p, s in ranked[::-1][:3]]
    assert best == wanted, (
        f"top({board!r}, 3) should be the 3 highest scores, highest first, with their scores (zrevrange ... "
        f"withscores): {wanted}; got {best}"
    )
    worst = student.run(probes.call, redis_url, "leaderboard", "bottom", board, 2)
    assert worst == [p for p, _ in ranked[:2]], (
        f"bottom({board!r}, 2) should be {[p for p, _ in ranked[:2]]}, not {worst}"
    )

    found = student.run(probes.call_each, redis_url, "leaderboard", "score_of", [(board, changed), (board, "nobody")])
    assert found == [scores[changed], None], (
        f"score_of should give {float(scores[changed])} for {changed!r} and None for a player not on the board; "
        f"got {found}"
    )
    low, high = ranked[1][1], ranked[4][1]
    between = student.run(probes.call, redis_url, "leaderboard", "count_between", board, low, high)
    assert between == 4, (
        f"count_between({board!r}, {low}, {high}) should count both ends too: 4 players, not {between!r}"
    )
    left = student.run(probes.call, redis_url, "leaderboard", "remove_player", board, ranked[2][0])
    with inspect(redis_url) as r:
        still = r.zscore(key, ranked[2][0])
    assert still is None and left == 5, (
        f"remove_player should take {ranked[2][0]!r} off {key} (zrem) and return the 5 players left (zcard); "
        f"its score is now {still!r} and it returned {left!r}"
    )


# -- task 6: commands for any key ----------------------------------------------------------------------------


@pytest.mark.task(6)
def test_housekeeping_touches_only_the_keys_of_its_own_prefix(student, redis_url):
    run = secrets.token_hex(3)
    prefix, other = f"shop{run}:", f"blog{run}:"
    own = {
        f"{prefix}title": "string",
        f"{prefix}orders": "list",
        f"{prefix}user:7": "hash",
        f"{prefix}tags": "set",
        f"{prefix}rank": "zset",
    }
    theirs = {f"{other}title": "other blog", f"{other}views": "12", f"x{prefix}title": "not the shop"}
    with inspect(redis_url) as r:
        r.set(f"{prefix}title", "open all night", ex=90)
        r.rpush(f"{prefix}orders", "o1", "o2")
        r.hset(f"{prefix}user:7", mapping={"name": "Sam"})
        r.sadd(f"{prefix}tags", "new", "sale")
        r.zadd(f"{prefix}rank", {"a": 3, "b": 4, "c": 1})
        r.mset(theirs)

    found = student.run(probes.call, redis_url, "housekeeping", "keys_of", prefix)
    strangers = sorted(set(map(str, found or ())) - set(own))
    assert not strangers, (
        f"keys_of({prefix!r}) also returned keys of other applications: {strangers}. The database is shared; "
        f"ask only for the keys that start with the prefix: keys(prefix + '*') or scan_iter(match=prefix + '*')"
    )
    assert found == sorted(own), f"keys_of({prefix!r}) should return {sorted(own)}, sorted; got {found}"

    names = [*own, f"{prefix}missing"]
    described = student.run(probes.call_each, redis_url, "housekeeping", "describe", [(k,) for k in names])
    described = [tuple(d) if isinstance(d, (list, tuple)) else d for d in described]
    for name, got in zip(names, described, strict=True):
        kind = own.get(name, "none")
        if name == f"{prefix}title":
            ttl_ok, ttl_text = isinstance(got, tuple) and len(got) == 2 and 0 < got[1] <= 90, "between 1 and 90"
        else:
            wanted_ttl = -2 if kind == "none" else -1
            ttl_ok = isinstance(got, tuple) and len(got) == 2 and got[1] == wanted_ttl
            ttl_text = ttl_words(wanted_ttl)
        assert ttl_ok and got[0] == kind, (
            f"describe({name!r}) should be ({kind!r}, ttl) with ttl {ttl_text}; got {got!r}"
        )

    log = f"{prefix}log"
    lengths = student.run(probes.call_each, redis_url, "housekeeping", "log_line", [(log, "opened"), (log, "sold 3")])
    with inspect(redis_url) as r:
        text = r.get(log)
    assert text == "opened\nsold 3\n" and lengths == [7, 14], (
        f"log_line twice should leave 'opened\\nsold 3\\n' at {log} (append creates the string, then adds to it) "
        f"and return the lengths [7, 14]; found {text!r} and {lengths}"
    )

    count = student.run(probes.call, redis_url, "housekeeping", "expire_all", prefix, 60)
    with inspect(redis_url) as r:
        mine = {key: r.ttl(key) for key in [*own, log]}
        others = {key: r.ttl(key) for key in theirs}
    wrong = {key: ttl_words(ttl) for key, ttl in mine.items() if not 0 < ttl <= 60}
    assert not wrong and count == 6, (
        f"expire_all({prefix!r}, 60) should give each of the 6 shop keys a ttl of at most 60 s and return 6; it "
        f"returned {count!r}, and these ttls are wrong: {wrong}"
    )
    assert all(ttl == -1 for ttl in others.values()), (
        f"expire_all({prefix!r}, 60) set a ttl on keys of other applications: {others}"
    )

    deleted = student.run(probes.call, redis_url, "housekeeping", "delete_all", prefix)
    with inspect(redis_url) as r:
        left = sorted(r.keys(f"{prefix}*"))
        survivors = {key: r.get(key) for key in theirs}
    assert survivors == theirs, (
        f"delete_all({prefix!r}) deleted or changed keys of other applications: they should still be {theirs}, "
        f"found {survivors}. Delete only the keys that start with the prefix"
    )
    assert not left and deleted == 6, (
        f"delete_all({prefix!r}) should delete the 6 shop keys and return 6; it returned {deleted!r} and left {left}"
    )


# -- task 7: open the client yourself ----------------------------------------------------------------------------


def stray_databases(server_url: str, key: str, besides: int) -> list[int]:
    """The other logical databases in which `key` was written (by a client on the wrong database); removes it."""
    with inspect(server_url) as r:
        try:
            count = int(r.config_get("databases").get("databases", 16))
        except redis.ResponseError:
            count = 16
    found = []
    for number in range(count):
        if number == besides:
            continue
        with inspect(f"{server_url.rstrip('/')}/{number}") as r:
            if r.delete(key):
                found.append(number)
    return found


def public(url: str) -> str:
    """A service URL as messages show it: scheme, host, port and path, never a password."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


@pytest.mark.task(7)
def test_connect_builds_a_client_from_redis_url_on_its_database_with_str_replies(student, redis_url, redis_server_url):
    number = int(urlsplit(redis_url).path.strip("/"))
    run = secrets.token_hex(3)
    planted, value = f"greeting:{run}", f"你好, {random.choice(NAMES)} {run}"
    key, written = f"written:{run}", f"from your client {run}"
    with inspect(redis_url) as r:
        r.set(planted, value)
    with relayed(redis_url, 6379) as (given, relay):
        # redis-py retries a refused connection with backoff for seconds: only a client on a wrong address waits.
        seen = student.run(probes.connect_and_use, given, planted, key, written, timeout=20)
        came = relay.connections if relay else None
    with inspect(redis_url) as r:
        landed = r.get(key)
    elsewhere = stray_databases(redis_server_url, key, number) if landed != written else []
    shown_url = public(given)
    assert came != 0, (
        f"REDIS_URL was {shown_url}, but your client never connected to that host and port: it went to another "
        "address, e.g. a hard-coded 127.0.0.1:6379 like the outline's redis.Redis(host='127.0.0.1', port=6379). "
        "A program gets its server from its environment: build the client from os.environ['REDIS_URL'] "
        "(redis.Redis.from_url, or the URL's host, port and database number)"
        + (f". There it found no server: {seen['unreachable']}" if "unreachable" in seen else "")
    )
    assert "unreachable" not in seen, (
        f"REDIS_URL was {shown_url}; your client connected there, but then lost the server: {seen['unreachable']}"
    )
    assert landed == written, (
        f"REDIS_URL was {shown_url}: database {number}, the number after the last /. Your client's "
        f"set({key!r}, ...) "
        + (f"landed in database {', '.join(map(str, elsewhere))} instead" if elsewhere else "is not there")
        + ". Build the client on the URL's database: redis.Redis.from_url reads it from the URL; with "
        "redis.Redis(host=..., port=..., db=...) pass that number as db, not db=0"
    )
    read = seen["read"]
    assert read == value, (
        f"through your client, get({planted!r}) should give {value!r}, which the grader stored there; got {read!r}"
        + (
            ": bytes, the raw reply. Build the client with decode_responses=True, so that every reply is a str "
            "(the outline decodes each one by hand with .decode('utf8'))"
            if isinstance(read, bytes)
            else ""
        )
    )
