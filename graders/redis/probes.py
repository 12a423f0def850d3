"""Probes for the redis topic: they build the student's client in the worker and call the student's functions.

Which commands the student's code sent is read by the grader from the server (graders/redis/monitor.py), not
here: a wrapper in the worker misses pipelines. The one wrapper left, WatchedRedis, only plays another till
that sells between the student's read and write (a forced race), and MONITOR confirms what happened.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import redis

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module


class WatchedRedis(redis.Redis):
    """A client that remembers every command the student's code sends, and may act right after one.

    `after(args)` runs once each command has been answered, e.g. to look at the state the student's code has
    left at that very moment, or to play another client whose command slips in between two of the student's.
    Its own commands go through `redis.Redis.execute_command`, so they are neither recorded nor watched.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[str]] = []
        self.after: Callable[[tuple], None] | None = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = super().execute_command(*args, **options)
        self.sent.append([str(arg) for arg in args])
        if self.after is not None:
            self.after(args)
        return result

    def behind_their_back(self, *args: Any) -> Any:
        return redis.Redis.execute_command(self, *args)


def _client(url: str, kind: type[redis.Redis] = redis.Redis) -> redis.Redis:
    return kind.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)


def _function(module: str, name: str) -> Callable:
    return getattr(student_module(module), name)


def call(url: str, module: str, function: str, *args: Any) -> Any:
    """module.function(client, *args) with a client on the test's database; what it returns."""
    client = _client(url)
    try:
        return _function(module, function)(client, *args)
    finally:
        client.close()


def call_each(url: str, module: str, function: str, calls: list[tuple]) -> list[Any]:
    """module.function(client, *args) for each args in `calls`, on one client; what each call returned."""
    client = _client(url)
    try:
        target = _function(module, function)
        return [target(client, *args) for args in calls]
    finally:
        client.close()


def sell_with_rival(url: str, item: str, count: int, rival: int) -> dict:
    """sell(), with another till selling `rival` of the same item right after the student's code reads it."""
    client = _client(url, WatchedRedis)
    key = f"stock:{item}"
    rival_sold: list[bool] = []
    written: list[bool] = []

    def rival_till(args: tuple) -> None:
        name, touched = str(args[0]).upper(), key in map(str, args[1:])
        if touched and name not in {"GET", "MGET"}:
            written.append(True)
        elif touched and not written and not rival_sold:
            # Only a read that comes before the student's own write can be followed by a write that undoes ours.
            rival_sold.append(True)
            client.behind_their_back("DECRBY", key, rival)

    client.after = rival_till
    try:
        left = _function("stock", "sell")(client, item, count)
    finally:
        client.close()
    return {"left": left, "rival_sold": bool(rival_sold)}


def random_friend_many(url: str, user: str, times: int) -> list[Any]:
    """random_friend called `times` times in a row."""
    client = _client(url)
    try:
        pick = _function("social", "random_friend")
        return [pick(client, user) for _ in range(times)]
    finally:
        client.close()


def connect_and_use(url: str, planted: str, key: str, value: str) -> dict:
    """The student's client.connect() with REDIS_URL set to `url`, as a program started with it would see: read
    the key the grader planted, write `key`, and return what the client read."""
    os.environ["REDIS_URL"] = url
    try:
        client = student_module("client").connect()
    finally:
        os.environ.pop("REDIS_URL", None)
    if not isinstance(client, redis.Redis):
        kind = type(client).__name__
        raise StudentMistake(
            say(
                f"connect() returned {'an' if kind[0] in 'AEIOU' else 'a'} {kind}: return the client itself, a "
                "redis.Redis",
                f"connect() 返回了一个 {kind}：应当返回客户端本身，也就是一个 redis.Redis",
            )
        )
    try:
        read = client.get(planted)
        client.set(key, value)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        # A client on an address where no server answers: the grader says which address it should have used.
        return {"unreachable": f"{type(error).__name__}: {error}"}
    finally:
        client.close()
    return {"read": read}
