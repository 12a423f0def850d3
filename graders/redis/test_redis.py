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

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.services.redis import REDIS_CLAIM, REDIS_DATABASES
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


def kind_of(r: redis.Redis, key: str, zh: bool = False) -> str:
    """What is at `key`, in English or (zh) in Chinese: "a hash" / "是一个 hash"."""
    kind = r.type(key)
    if zh:
        return "不存在" if kind == "none" else f"是一个 {kind}"
    return "no key at all" if kind == "none" else f"a {kind}"


def ttl_words(ttl: int, zh: bool = False) -> str:
    if zh:
        return {-1: "-1（永不过期）", -2: "-2（键不存在）"}.get(ttl, str(ttl))
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
        assert r.type(key) == "string", say(
            f"start_session({token!r}, {user!r}, 30) should store a string at {key}; there is {kind_of(r, key)}",
            f"start_session({token!r}, {user!r}, 30) 应当在 {key} 保存一个字符串；而 {key} 现在"
            f"{kind_of(r, key, zh=True)}",
        )
        assert r.get(key) == user, say(
            f"{key} should hold the user {user!r}, not {r.get(key)!r}",
            f"{key} 应当保存用户 {user!r}，而不是 {r.get(key)!r}",
        )
        ttl = r.ttl(key)
        assert 0 < ttl <= 30, say(
            f"{key} should expire within 30 s; its ttl is {ttl_words(ttl)}",
            f"{key} 应当在 30 秒内过期；它的 ttl 是 {ttl_words(ttl, zh=True)}",
        )
    writes = [command for command in touching(sent, key) if command[0] not in READS]
    if writes and not with_expiry(writes[0]):
        later = f"`{shown(writes[1])}`" if len(writes) > 1 else None
        raise StudentError(
            say(
                f"the server ran `{shown(writes[0])}` first, which left {key} without an expiry until "
                f"{later or 'a later command'}: had the program crashed in between, the session would never end. "
                "Give the value and its time to live in one command: set(key, value, ex=seconds)",
                f"服务器先执行了 `{shown(writes[0])}`，{key} 因此一直没有过期时间，"
                + (f"直到 {later} 执行为止" if later else "直到后面的另一条命令执行为止")
                + "：程序要是恰好在这之间崩溃，这个会话就永远不会结束。"
                "要用一条命令同时给出值和存活时间：set(key, value, ex=seconds)",
            )
        )
    found = student.run(probes.call_each, redis_url, "sessions", "current_user", [(token,), (other,)])
    assert found == [user, None], say(
        f"current_user should give {user!r} for the live session and None for an unknown token; got {found}",
        f"current_user 对有效的会话应当返回 {user!r}，对未知的 token 应当返回 None；实际得到 {found}",
    )
    kept = student.run(probes.call_each, redis_url, "sessions", "keep_alive", [(token, 600), (other, 600)])
    with inspect(redis_url) as r:
        ttl = r.ttl(key)
        assert kept[0] is True and 30 < ttl <= 600, say(
            f"keep_alive({token!r}, 600) should return True and give the session up to 600 s more; it returned "
            f"{kept[0]!r} and the ttl of {key} is now {ttl_words(ttl)}",
            f"keep_alive({token!r}, 600) 应当返回 True，并让会话最多再延长 600 秒；它返回了 {kept[0]!r}，"
            f"而 {key} 的 ttl 现在是 {ttl_words(ttl, zh=True)}",
        )
        assert kept[1] is False and not r.exists(f"session:{other}"), say(
            f"keep_alive on an unknown token should return False and create nothing (expire, not set); it returned "
            f"{kept[1]!r} and session:{other} is {kind_of(r, f'session:{other}')}",
            f"对未知的 token，keep_alive 应当返回 False，并且不创建任何键（用 expire，而不是 set）；它返回了 "
            f"{kept[1]!r}，而 session:{other} 现在{kind_of(r, f'session:{other}', zh=True)}",
        )
        r.delete(key)  # as if it had expired
    gone = student.run(probes.call, redis_url, "sessions", "current_user", token)
    assert gone is None, say(
        f"once {key} has expired, current_user should return None, not {gone!r}",
        f"{key} 过期以后，current_user 应当返回 None，而不是 {gone!r}",
    )


def check_stock(student, redis_url: str) -> None:
    """The stock is set with one mset and changed by counters inside Redis, never read-modify-write."""
    items = random.sample(FRUITS, 4)
    counts = {item: random.randint(20, 60) for item in items[:3]}
    with server_log(redis_url) as sent:
        student.run(probes.call, redis_url, "stock", "set_stock", counts)
    with inspect(redis_url) as r:
        stored = {item: r.get(f"stock:{item}") for item in counts}
    assert stored == {item: str(count) for item, count in counts.items()}, say(
        f"set_stock({counts}) should leave each count as a string at stock:<item>; found {stored}",
        f"set_stock({counts}) 应当把每个数量作为字符串保存在 stock:<item>；实际是 {stored}",
    )
    writes = [command for command in sent if command[0] not in READS]
    assert len(writes) == 1 and writes[0][0] == "MSET", say(
        f"for set_stock the server ran {len(writes)} commands ({', '.join(c[0] for c in writes)}): write the whole "
        "delivery with one mset, so that no till ever reads half of it (a pipeline still sends one command per "
        "key)",
        f"set_stock 让服务器执行了 {len(writes)} 条命令（{', '.join(c[0] for c in writes)}）：要用一条 mset "
        "写入整批到货，这样任何收银台都不会只读到一半（pipeline 仍然是每个键发一条命令）",
    )

    item, sold = items[0], random.randint(2, 5)
    with server_log(redis_url) as sent:
        seen = student.run(probes.sell_with_rival, redis_url, item, sold, 1)
    raced = seen["rival_sold"]
    expected = counts[item] - sold - (1 if raced else 0)
    with inspect(redis_url) as r:
        left = int(r.get(f"stock:{item}") or 0)
    assert left == expected, (
        say(
            f"stock:{item} was {counts[item]}; your sell({item!r}, {sold}) read it, another till then sold 1, and "
            f"your write left {left} instead of {expected}: that sale's update was lost. decrby reads and writes in "
            "one step inside Redis, so nothing can slip in between",
            f"stock:{item} 原来是 {counts[item]}；你的 sell({item!r}, {sold}) 读取了它，接着另一个收银台卖出了 1 件，"
            f"而你写回的值让它变成 {left}，而不是 {expected}：那次销售的更新丢失了。"
            "decrby 在 Redis 内部一步完成读和写，中间插不进别的命令",
        )
        if raced
        else say(
            f"stock:{item} was {counts[item]}; after sell({item!r}, {sold}) it should be {expected}, not {left}",
            f"stock:{item} 原来是 {counts[item]}；sell({item!r}, {sold}) 之后应当是 {expected}，而不是 {left}",
        )
    )
    assert seen["left"] == expected, say(
        f"sell({item!r}, {sold}) should return what is left, {expected}, not {seen['left']!r}",
        f"sell({item!r}, {sold}) 应当返回剩下的数量 {expected}，而不是 {seen['left']!r}",
    )
    read_then_written = read_modify_write(touching(sent, f"stock:{item}"))
    assert not read_then_written, say(
        f"for sell({item!r}, {sold}) the server ran `{shown(read_then_written[0])}` and later "
        f"`{shown(read_then_written[1])}`: the count was read, changed in Python and written back. Another till "
        "selling in between would be lost; decrby reads and writes in one step inside Redis",
        f"sell({item!r}, {sold}) 让服务器先执行了 `{shown(read_then_written[0])}`，后来又执行了 "
        f"`{shown(read_then_written[1])}`：数量被读出来、在 Python 里改完再写回去。另一个收银台在这之间卖出的"
        "那一笔就会丢失；decrby 在 Redis 内部一步完成读和写",
    )

    results = [student.run(probes.call, redis_url, "stock", "sell", items[1])]
    results += student.run(probes.call_each, redis_url, "stock", "restock", [(items[2], 5), (items[3],)])
    wanted = [counts[items[1]] - 1, counts[items[2]] + 5, 1]
    assert results == wanted, say(
        f"sell({items[1]!r}) (one by default), restock({items[2]!r}, 5) and restock of the new item {items[3]!r} "
        f"(one by default) should return {wanted}; they returned {results}",
        f"sell({items[1]!r})（默认一件）、restock({items[2]!r}, 5) 和对新商品 {items[3]!r} 的 restock（默认一件）"
        f"应当返回 {wanted}；实际返回了 {results}",
    )
    with inspect(redis_url) as r:
        stored = [r.get(f"stock:{item}") for item in items[1:]]
    assert stored == [str(n) for n in wanted], say(
        f"after those calls the stored counts should be {wanted}; found {stored}",
        f"这些调用之后，保存的数量应当是 {wanted}；实际是 {stored}",
    )

    looked = student.run(probes.call_each, redis_url, "stock", "in_stock", [(items[2],), ("unicorn",)])
    assert looked == [wanted[1], 0] and all(type(n) is int for n in looked), say(
        f"in_stock should return ints: {wanted[1]} for {items[2]!r} and 0 for an item never stocked; got {looked!r}",
        f"in_stock 应当返回 int：{items[2]!r} 返回 {wanted[1]}，从没进过货的商品返回 0；实际得到 {looked!r}",
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
        assert r.type(key) == "list", say(
            f"the feed should be a list at {key}; there is {kind_of(r, key)}",
            f"动态应当是 {key} 上的一个列表；而 {key} 现在{kind_of(r, key, zh=True)}",
        )
        stored = r.lrange(key, 0, -1)
    assert stored == newest_first, say(
        f"after 7 posts with keep=5, {key} should hold the 5 newest, newest first: {newest_first}; it holds {stored}",
        f"以 keep=5 发了 7 条动态之后，{key} 应当保存最新的 5 条，最新的在前：{newest_first}；它保存的是 {stored}",
    )
    shown = student.run(probes.call, redis_url, "feed", "latest", user, 3)
    assert shown == newest_first[:3], say(
        f"latest({user!r}, 3) should be {newest_first[:3]}, not {shown}",
        f"latest({user!r}, 3) 应当是 {newest_first[:3]}，而不是 {shown}",
    )

    queue = f"jobs{tag}"
    a, b, c, d = (f"{job}-{tag}" for job in ("resize", "email", "backup", "report"))
    jobs = [a, b, a, c, a, d]
    length = student.run(probes.call, redis_url, "feed", "enqueue", queue, *jobs)
    key = f"queue:{queue}"
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == jobs and length == 6, say(
        f"enqueue should append the jobs at the back in order and return the length 6: expected {jobs} at "
        f"{key}, found {stored}, returned {length!r}",
        f"enqueue 应当把任务按顺序加到队尾，并返回长度 6：{key} 应当是 {jobs}，实际是 {stored}，返回了 {length!r}",
    )
    first = student.run(probes.call, redis_url, "feed", "next_job", queue)
    assert first == a, say(
        f"next_job should take the job that waited longest, {a!r} (first in, first out), not {first!r}",
        f"next_job 应当取出等待最久的任务 {a!r}（先进先出），而不是 {first!r}",
    )

    removed = student.run(probes.call, redis_url, "feed", "cancel", queue, a)
    expected = [b, a, c, d]
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == expected and removed == 1, say(
        f"the queue was {[b, a, c, a, d]}; cancel({a!r}) should remove only the copy enqueued most recently (the "
        f"one nearest the tail, a negative count for lrem), leaving {expected} and returning 1; it left {stored} "
        f"and returned {removed!r}",
        f"队列原来是 {[b, a, c, a, d]}；cancel({a!r}) 应当只删除最后一次加入的那个（离队尾最近的那个，lrem 的 "
        f"count 用负数），剩下 {expected} 并返回 1；实际剩下 {stored}，返回了 {removed!r}",
    )
    student.run(probes.call, redis_url, "feed", "enqueue", queue, a)
    removed = student.run(probes.call, redis_url, "feed", "cancel", queue, a, True)
    with inspect(redis_url) as r:
        stored = r.lrange(key, 0, -1)
    assert stored == [b, c, d] and removed == 2, say(
        f"cancel({a!r}, every=True) on {[b, a, c, d, a]} should remove both copies (lrem with count 0) and return 2; "
        f"it left {stored} and returned {removed!r}",
        f"对 {[b, a, c, d, a]} 调用 cancel({a!r}, every=True) 应当删除两个相同的任务（lrem 的 count 为 0）并返回 2；"
        f"实际剩下 {stored}，返回了 {removed!r}",
    )
    drained = student.run(probes.call_each, redis_url, "feed", "next_job", [(queue,)] * 4)
    assert drained == [b, c, d, None], say(
        f"next_job four times on {[b, c, d]} should give {[b, c, d, None]}, not {drained}",
        f"对 {[b, c, d]} 调用四次 next_job 应当得到 {[b, c, d, None]}，而不是 {drained}",
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
        assert r.type(key) == "hash", say(
            f"the profile should be a hash at {key}, one field per entry; there is {kind_of(r, key)}",
            f"用户资料应当是 {key} 上的一个哈希，每项资料一个字段；而 {key} 现在{kind_of(r, key, zh=True)}",
        )
        stored = r.hgetall(key)
        r.hset(f"user:{plain}", mapping={"name": name})
    assert stored == merged, say(
        f"after save_profile with {first} and then {more}, {key} should hold {merged} (new fields added, the "
        f"others kept); it holds {stored}",
        f"先后用 {first} 和 {more} 调用 save_profile 之后，{key} 应当保存 {merged}（加上新字段，其他字段保留）；"
        f"它保存的是 {stored}",
    )
    assert counts == [3, 4], say(
        f"save_profile should return how many fields the profile has: 3, then 4; got {counts}",
        f"save_profile 应当返回资料现在有几个字段：先是 3，然后是 4；实际得到 {counts}",
    )

    names = student.run(probes.call_each, redis_url, "profiles", "display_name", [(uid,), (plain,), (nobody,)])
    assert names == [nickname, name, None], say(
        f"display_name should give the nickname ({nickname!r}), else the name ({name!r}), else None; got {names}",
        f"display_name 应当返回昵称（{nickname!r}），没有昵称时返回名字（{name!r}），都没有时返回 None；"
        f"实际得到 {names}",
    )
    with server_log(redis_url) as sent:
        card = student.run(probes.call, redis_url, "profiles", "profile_card", uid, ["name", "email", "city"])
    wanted = {"name": name, "email": None, "city": "Hangzhou"}
    assert card == wanted, say(
        f"profile_card({uid!r}, ['name', 'email', 'city']) should be {wanted}, not {card!r}",
        f"profile_card({uid!r}, ['name', 'email', 'city']) 应当是 {wanted}，而不是 {card!r}",
    )
    assert len(sent) == 1 and sent[0][0] == "HMGET", say(
        f"for profile_card the server ran {len(sent)} commands ({', '.join(c[0] for c in sent)}): hmget fetches "
        "several fields in one",
        f"profile_card 让服务器执行了 {len(sent)} 条命令（{', '.join(c[0] for c in sent)}）：hmget "
        "一条命令就能读取多个字段",
    )
    described = student.run(probes.call, redis_url, "profiles", "describe_profile", uid)
    if not isinstance(described, dict) or set(described) != {"fields", "values", "count"}:
        pytest.fail(
            say(
                f"describe_profile should return a dict with fields, values and count; got {described!r}",
                f"describe_profile 应当返回一个含有 fields、values 和 count 的字典；实际得到 {described!r}",
            ),
            False,
        )
    paired = dict(zip(described["fields"], described["values"], strict=False))
    assert paired == merged and len(described["fields"]) == 4 and described["count"] == 4, say(
        f"describe_profile should give the 4 field names (hkeys), their values in the same order (hvals) and the "
        f"count 4 (hlen); got {described}",
        f"describe_profile 应当给出 4 个字段名（hkeys）、顺序相同的对应值（hvals）和个数 4（hlen）；"
        f"实际得到 {described}",
    )


# -- task 4: sets --------------------------------------------------------------------------------------------------


def check_friends(student, redis_url: str) -> None:
    """Friendships and requests are sets changed on both sides; a random friend stays a friend."""
    a, b, c, d, e = people(5)
    student.run(probes.call_each, redis_url, "social", "befriend", [(a, b), (a, c)])
    with inspect(redis_url) as r:
        assert r.type(f"friends:{a}") == "set", say(
            f"friends:{a} should be a set; there is {kind_of(r, f'friends:{a}')}",
            f"friends:{a} 应当是一个集合；而它现在{kind_of(r, f'friends:{a}', zh=True)}",
        )
        sides = {user: r.smembers(f"friends:{user}") for user in (a, b, c)}
    assert sides == {a: {b, c}, b: {a}, c: {a}}, say(
        f"after befriend({a!r}, {b!r}) and befriend({a!r}, {c!r}) each friend should be in the other's set, on "
        f"both sides: expected { ({a: {b, c}, b: {a}, c: {a}}) }, found {sides}",
        f"befriend({a!r}, {b!r}) 和 befriend({a!r}, {c!r}) 之后，每个人都应当在对方的集合里，两边都要有："
        f"应当是 { ({a: {b, c}, b: {a}, c: {a}}) }，实际是 {sides}",
    )
    student.run(probes.call, redis_url, "social", "unfriend", a, c)
    with inspect(redis_url) as r:
        sides = {user: r.smembers(f"friends:{user}") for user in (a, c)}
    assert sides == {a: {b}, c: set()}, say(
        f"after unfriend({a!r}, {c!r}) both sides should forget it; found {sides}",
        f"unfriend({a!r}, {c!r}) 之后，两边都应当删掉这段好友关系；实际是 {sides}",
    )

    student.run(probes.call, redis_url, "social", "send_request", d, a)
    with inspect(redis_url) as r:
        waiting = r.smembers(f"requests:{a}")
    assert waiting == {d}, say(
        f"send_request({d!r}, {a!r}) should put {d!r} in the set requests:{a}; it holds {waiting}",
        f"send_request({d!r}, {a!r}) 应当把 {d!r} 放进集合 requests:{a}；它现在是 {waiting}",
    )
    with server_log(redis_url) as sent:
        accepted = student.run(probes.call_each, redis_url, "social", "accept_request", [(a, d), (a, e)])
    with inspect(redis_url) as r:
        state = {
            f"requests:{a}": r.smembers(f"requests:{a}"),
            f"friends:{a}": r.smembers(f"friends:{a}"),
            f"friends:{d}": r.smembers(f"friends:{d}"),
        }
    expected = {f"requests:{a}": set(), f"friends:{a}": {b, d}, f"friends:{d}": {a}}
    assert state == expected and accepted == [True, False], say(
        f"accept_request({a!r}, {d!r}) should move {d!r} from requests:{a} to friends:{a} (smove), add {a!r} to "
        f"friends:{d}, and return True; accept_request({a!r}, {e!r}) with no request should return False and "
        f"change nothing. Expected {expected} and [True, False]; found {state} and {accepted}",
        f"accept_request({a!r}, {d!r}) 应当把 {d!r} 从 requests:{a} 移到 friends:{a}（smove），把 {a!r} 加进 "
        f"friends:{d}，并返回 True；没有请求时，accept_request({a!r}, {e!r}) 应当返回 False，什么也不改。"
        f"应当是 {expected} 和 [True, False]；实际是 {state} 和 {accepted}",
    )

    requests = touching(sent, f"requests:{a}")
    removed = [command for command in requests if command[0] != "SMOVE" and command[0] not in READS]
    ran = ", ".join(f"`{shown(c)}`" for c in requests)
    assert not removed and any(command[0] == "SMOVE" for command in requests), say(
        f"for accept_request({a!r}, {d!r}) the server ran "
        f"{ran or 'nothing on requests:' + a}: "
        f"move {d!r} with smove(requests:{a}, friends:{a}, {d!r}), one step, so that {d!r} is never in both sets "
        "or in neither",
        f"accept_request({a!r}, {d!r}) "
        + (f"让服务器执行了 {ran}" if ran else f"没有让服务器对 requests:{a} 执行任何命令")
        + f"：要用 smove(requests:{a}, friends:{a}, {d!r}) 一步移动 {d!r}，这样它既不会同时在两个集合里，"
        "也不会两边都不在",
    )

    mine = student.run(probes.call, redis_url, "social", "friends_of", a)
    count = student.run(probes.call, redis_url, "social", "friend_count", a)
    assert set(mine or ()) == {b, d} and count == 2, say(
        f"friends_of({a!r}) should be { ({b, d}) } and friend_count({a!r}) 2; got {mine!r} and {count!r}",
        f"friends_of({a!r}) 应当是 { ({b, d}) }，friend_count({a!r}) 应当是 2；实际得到 {mine!r} 和 {count!r}",
    )
    picks = student.run(probes.random_friend_many, redis_url, a, 12)
    lonely = student.run(probes.call, redis_url, "social", "random_friend", e)
    with inspect(redis_url) as r:
        after = r.smembers(f"friends:{a}")
    assert set(picks) <= {b, d} and after == {b, d}, say(
        f"random_friend({a!r}) should pick from { ({b, d}) } and leave the friendship alone (srandmember, not "
        f"spop); 12 picks gave {sorted(set(map(str, picks)))} and friends:{a} is now {after}",
        f"random_friend({a!r}) 应当从 { ({b, d}) } 中挑选，并且不改动好友关系（用 srandmember，而不是 spop）；"
        f"挑了 12 次得到 {sorted(set(map(str, picks)))}，而 friends:{a} 现在是 {after}",
    )
    assert lonely is None, say(
        f"random_friend of someone without friends should be None, not {lonely!r}",
        f"对没有好友的用户，random_friend 应当返回 None，而不是 {lonely!r}",
    )


def check_set_algebra(student, redis_url: str) -> None:
    """sinter, sinterstore, sdiff and sunion give the right people; spop draws each entrant once."""
    a, b, *crowd = people(12)
    shared, only_a, only_b = crowd[:3], crowd[3:6], crowd[6:8]
    friends_a, friends_b = {b, *shared, *only_a}, {a, *shared, *only_b}
    with inspect(redis_url) as r:
        r.sadd(f"friends:{a}", *friends_a)
        r.sadd(f"friends:{b}", *friends_b)
    both = student.run(probes.call, redis_url, "social", "common_friends", a, b)
    assert set(both or ()) == set(shared), say(
        f"the friends that {a!r} and {b!r} both have are {sorted(shared)} (sinter); common_friends returned "
        f"{sorted(map(str, both or ()))}",
        f"{a!r} 和 {b!r} 的共同好友是 {sorted(shared)}（sinter）；common_friends 返回了 {sorted(map(str, both or ()))}",
    )
    stored_count = student.run(probes.call, redis_url, "social", "save_common_friends", a, b)
    key = f"common:{a}:{b}"
    with inspect(redis_url) as r:
        kind, stored = r.type(key), r.smembers(key)
    assert kind == "set" and stored == set(shared) and stored_count == 3, say(
        f"save_common_friends should store the friends in both sets at {key} as a set (sinterstore) and return 3; "
        f"found {kind} {stored} and it returned {stored_count!r}",
        f"save_common_friends 应当把两个集合都有的好友作为集合保存到 {key}（sinterstore），并返回 3；"
        f"实际找到 {kind} {stored}，返回了 {stored_count!r}",
    )
    intro = student.run(probes.call, redis_url, "social", "introductions", a, b)
    assert set(intro or ()) == set(only_a), say(
        f"introductions({a!r}, {b!r}) should be the friends of {a!r} that {b!r} does not have yet, without "
        f"{b!r} (sdiff): {sorted(only_a)}; got {sorted(map(str, intro or ()))}",
        f"introductions({a!r}, {b!r}) 应当是 {a!r} 的好友中 {b!r} 还没有的那些人，不包括 {b!r} 自己（sdiff）："
        f"{sorted(only_a)}；实际得到 {sorted(map(str, intro or ()))}",
    )
    guests = student.run(probes.call, redis_url, "social", "party_guests", a, b)
    assert set(guests or ()) == set(crowd[:8]), say(
        f"party_guests({a!r}, {b!r}) should be every friend of either (sunion) without the hosts: "
        f"{sorted(crowd[:8])}; got {sorted(map(str, guests or ()))}",
        f"party_guests({a!r}, {b!r}) 应当是两人中任何一人的所有好友（sunion），不包括两位主人："
        f"{sorted(crowd[:8])}；实际得到 {sorted(map(str, guests or ()))}",
    )

    raffle, entrants = f"lucky{secrets.token_hex(2)}", crowd[8:]
    with inspect(redis_url) as r:
        r.sadd(f"raffle:{raffle}", *entrants)
    draws = student.run(probes.call_each, redis_url, "social", "draw_winner", [(raffle,)] * (len(entrants) + 1))
    with inspect(redis_url) as r:
        left = r.smembers(f"raffle:{raffle}")
    assert sorted(map(str, draws[:-1])) == sorted(entrants) and draws[-1] is None and not left, say(
        f"{len(entrants) + 1} draws from raffle:{raffle} holding {sorted(entrants)} should give each entrant once "
        f"and then None, taking each winner out (spop); got {draws}, and {sorted(left)} are still in it",
        f"从装着 {sorted(entrants)} 的 raffle:{raffle} 抽 {len(entrants) + 1} 次，应当每人各抽中一次，最后得到 None，"
        f"每抽中一人就把他移出集合（spop）；实际得到 {draws}，集合里还剩 {sorted(left)}",
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
        assert r.type(key) == "zset", say(
            f"the leaderboard should be a sorted set at {key}; there is {kind_of(r, key)}",
            f"排行榜应当是 {key} 上的一个有序集合；而 {key} 现在{kind_of(r, key, zh=True)}",
        )
        stored = r.zrange(key, 0, -1, withscores=True)
    assert as_pairs(stored) == [(p, float(s)) for p, s in ranked], say(
        f"{key} should hold {ranked} (lowest first); it holds {stored}",
        f"{key} 应当保存 {ranked}（从低到高）；它保存的是 {stored}",
    )

    best = as_pairs(student.run(probes.call, redis_url, "leaderboard", "top", board, 3))
    wanted = [(p, float(s)) for p, s in ranked[::-1][:3]]
    assert best == wanted, say(
        f"top({board!r}, 3) should be the 3 highest scores, highest first, with their scores (zrevrange ... "
        f"withscores): {wanted}; got {best}",
        f"top({board!r}, 3) 应当是分数最高的 3 名玩家，从高到低，并带上分数（zrevrange ... withscores）："
        f"{wanted}；实际得到 {best}",
    )
    worst = student.run(probes.call, redis_url, "leaderboard", "bottom", board, 2)
    assert worst == [p for p, _ in ranked[:2]], say(
        f"bottom({board!r}, 2) should be {[p for p, _ in ranked[:2]]}, not {worst}",
        f"bottom({board!r}, 2) 应当是 {[p for p, _ in ranked[:2]]}，而不是 {worst}",
    )

    found = student.run(probes.call_each, redis_url, "leaderboard", "score_of", [(board, changed), (board, "nobody")])
    assert found == [scores[changed], None], say(
        f"score_of should give {float(scores[changed])} for {changed!r} and None for a player not on the board; "
        f"got {found}",
        f"score_of 对 {changed!r} 应当返回 {float(scores[changed])}，对不在榜上的玩家应当返回 None；实际得到 {found}",
    )
    low, high = ranked[1][1], ranked[4][1]
    between = student.run(probes.call, redis_url, "leaderboard", "count_between", board, low, high)
    assert between == 4, say(
        f"count_between({board!r}, {low}, {high}) should count both ends too: 4 players, not {between!r}",
        f"count_between({board!r}, {low}, {high}) 应当把两端也算进去：4 名玩家，而不是 {between!r}",
    )
    left = student.run(probes.call, redis_url, "leaderboard", "remove_player", board, ranked[2][0])
    with inspect(redis_url) as r:
        still = r.zscore(key, ranked[2][0])
    assert still is None and left == 5, say(
        f"remove_player should take {ranked[2][0]!r} off {key} (zrem) and return the 5 players left (zcard); "
        f"its score is now {still!r} and it returned {left!r}",
        f"remove_player 应当把 {ranked[2][0]!r} 从 {key} 中删除（zrem），并返回剩下的玩家数 5（zcard）；"
        f"它的分数现在是 {still!r}，函数返回了 {left!r}",
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
    assert not strangers, say(
        f"keys_of({prefix!r}) also returned keys of other applications: {strangers}. The database is shared; "
        f"ask only for the keys that start with the prefix: keys(prefix + '*') or scan_iter(match=prefix + '*')",
        f"keys_of({prefix!r}) 还返回了其他应用的键：{strangers}。数据库是共用的；只查询以前缀开头的键："
        "keys(prefix + '*') 或 scan_iter(match=prefix + '*')",
    )
    assert found == sorted(own), say(
        f"keys_of({prefix!r}) should return {sorted(own)}, sorted; got {found}",
        f"keys_of({prefix!r}) 应当返回排好序的 {sorted(own)}；实际得到 {found}",
    )

    names = [*own, f"{prefix}missing"]
    described = student.run(probes.call_each, redis_url, "housekeeping", "describe", [(k,) for k in names])
    described = [tuple(d) if isinstance(d, (list, tuple)) else d for d in described]
    for name, got in zip(names, described, strict=True):
        kind = own.get(name, "none")
        if name == f"{prefix}title":
            ttl_ok = isinstance(got, tuple) and len(got) == 2 and 0 < got[1] <= 90
            ttl_text, ttl_zh = "between 1 and 90", "1 到 90 之间的数"
        else:
            wanted_ttl = -2 if kind == "none" else -1
            ttl_ok = isinstance(got, tuple) and len(got) == 2 and got[1] == wanted_ttl
            ttl_text, ttl_zh = ttl_words(wanted_ttl), ttl_words(wanted_ttl, zh=True)
        assert ttl_ok and got[0] == kind, say(
            f"describe({name!r}) should be ({kind!r}, ttl) with ttl {ttl_text}; got {got!r}",
            f"describe({name!r}) 应当返回 ({kind!r}, ttl)，ttl 应当是 {ttl_zh}；实际得到 {got!r}",
        )

    log = f"{prefix}log"
    lengths = student.run(probes.call_each, redis_url, "housekeeping", "log_line", [(log, "opened"), (log, "sold 3")])
    with inspect(redis_url) as r:
        text = r.get(log)
    assert text == "opened\nsold 3\n" and lengths == [7, 14], say(
        f"log_line twice should leave 'opened\\nsold 3\\n' at {log} (append creates the string, then adds to it) "
        f"and return the lengths [7, 14]; found {text!r} and {lengths}",
        f"调用两次 log_line 之后，{log} 应当是 'opened\\nsold 3\\n'（append 先创建字符串，再往后追加），"
        f"并返回长度 [7, 14]；实际是 {text!r} 和 {lengths}",
    )

    count = student.run(probes.call, redis_url, "housekeeping", "expire_all", prefix, 60)
    with inspect(redis_url) as r:
        mine = {key: r.ttl(key) for key in [*own, log]}
        others = {key: r.ttl(key) for key in theirs}
    wrong = {key: ttl_words(ttl) for key, ttl in mine.items() if not 0 < ttl <= 60}
    wrong_zh = {key: ttl_words(ttl, zh=True) for key, ttl in mine.items() if not 0 < ttl <= 60}
    assert not wrong and count == 6, say(
        f"expire_all({prefix!r}, 60) should give each of the 6 shop keys a ttl of at most 60 s and return 6; it "
        f"returned {count!r}, and these ttls are wrong: {wrong}",
        f"expire_all({prefix!r}, 60) 应当给商店的 6 个键都设置不超过 60 秒的 ttl，并返回 6；它返回了 {count!r}，"
        f"这些 ttl 不对：{wrong_zh}",
    )
    assert all(ttl == -1 for ttl in others.values()), say(
        f"expire_all({prefix!r}, 60) set a ttl on keys of other applications: {others}",
        f"expire_all({prefix!r}, 60) 给其他应用的键设置了 ttl：{others}",
    )

    deleted = student.run(probes.call, redis_url, "housekeeping", "delete_all", prefix)
    with inspect(redis_url) as r:
        left = sorted(r.keys(f"{prefix}*"))
        survivors = {key: r.get(key) for key in theirs}
    assert survivors == theirs, say(
        f"delete_all({prefix!r}) deleted or changed keys of other applications: they should still be {theirs}, "
        f"found {survivors}. Delete only the keys that start with the prefix",
        f"delete_all({prefix!r}) 删除或修改了其他应用的键：它们应当仍然是 {theirs}，实际是 {survivors}。"
        "只删除以前缀开头的键",
    )
    assert not left and deleted == 6, say(
        f"delete_all({prefix!r}) should delete the 6 shop keys and return 6; it returned {deleted!r} and left {left}",
        f"delete_all({prefix!r}) 应当删除商店的 6 个键并返回 6；它返回了 {deleted!r}，还剩下 {left}",
    )


# -- task 7: open the client yourself ----------------------------------------------------------------------------


def stray_databases(server_url: str, key: str, besides: int) -> list[int]:
    """The other logical databases in which `key` was written (by a client on the wrong database); removes it.

    Only in database 0 and in those that no test holds: the others are the scratch spaces of tests running beside
    this one (in another process of the check, or another check), whose watch of their database (`server_log`)
    must see no command of this test's. A stray key left in one goes with that test's flushdb."""
    with inspect(server_url) as r:
        try:
            count = int(r.config_get("databases").get("databases", 16))
        except redis.ResponseError:
            count = 16
        held = {number for number in REDIS_DATABASES if r.exists(REDIS_CLAIM.format(number))}
    found = []
    for number in range(count):
        if number == besides or number in held:
            continue
        with inspect(f"{server_url.rstrip('/')}/{number}") as r:
            if r.exists(key) and r.delete(key):
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
    lost = seen.get("unreachable")  # why the client could not talk to a server, when it could not
    assert came != 0, say(
        f"REDIS_URL was {shown_url}, but your client never connected to that host and port: it went to another "
        "address, e.g. a hard-coded 127.0.0.1:6379 like the outline's redis.Redis(host='127.0.0.1', port=6379). "
        "A program gets its server from its environment: build the client from os.environ['REDIS_URL'] "
        "(redis.Redis.from_url, or the URL's host, port and database number)",
        f"REDIS_URL 是 {shown_url}，但你的客户端从来没有连到这个主机和端口：它去了别的地址，例如像大纲里的 "
        "redis.Redis(host='127.0.0.1', port=6379) 那样写死的 127.0.0.1:6379。程序应当从环境中得到服务器地址："
        "用 os.environ['REDIS_URL'] 创建客户端（redis.Redis.from_url，或者用 URL 里的主机、端口和数据库编号）",
    ) + (
        say(f". There it found no server: {lost}", f"。它在那个地址没有找到服务器：{lost}") if lost is not None else ""
    )
    assert "unreachable" not in seen, say(
        f"REDIS_URL was {shown_url}; your client connected there, but then lost the server: {lost}",
        f"REDIS_URL 是 {shown_url}；你的客户端连上了这个地址，但随后与服务器断开了：{lost}",
    )
    databases = ", ".join(map(str, elsewhere))
    assert landed == written, say(
        f"REDIS_URL was {shown_url}: database {number}, the number after the last /. Your client's "
        f"set({key!r}, ...) "
        + (f"landed in database {databases} instead" if elsewhere else "is not there")
        + ". Build the client on the URL's database: redis.Redis.from_url reads it from the URL; with "
        "redis.Redis(host=..., port=..., db=...) pass that number as db, not db=0",
        f"REDIS_URL 是 {shown_url}：{number} 号库，也就是最后一个 / 后面的数字。你的客户端执行的 set({key!r}, ...) "
        + (f"却写进了 {databases} 号库" if elsewhere else "不在这个库里")
        + "。要在 URL 指定的数据库上创建客户端：redis.Redis.from_url 会从 URL 中读出它；如果用 "
        "redis.Redis(host=..., port=..., db=...)，就把这个编号作为 db 传进去，而不是 db=0",
    )
    read = seen["read"]
    assert read == value, say(
        f"through your client, get({planted!r}) should give {value!r}, which the grader stored there; got {read!r}",
        f"通过你的客户端，get({planted!r}) 应当得到评分程序存进去的 {value!r}；实际得到 {read!r}",
    ) + (
        say(
            ": bytes, the raw reply. Build the client with decode_responses=True, so that every reply is a str "
            "(the outline decodes each one by hand with .decode('utf8'))",
            "：这是 bytes，也就是原始的返回值。创建客户端时加上 decode_responses=True，这样每个返回值都是 str"
            "（大纲是对每个返回值手动调用 .decode('utf8')）",
        )
        if isinstance(read, bytes)
        else ""
    )
