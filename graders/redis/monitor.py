"""The commands Redis itself received on a test's logical database, read with MONITOR by the grader.

A client wrapper in the worker sees only what goes through `Redis.execute_command`: pipelines (with or without
MULTI) write to the socket directly, and the student's code could patch the wrapper. MONITOR is the server's own
account of every command it ran, pipelined or not, in the order it ran them, so checks such as "one MSET",
"SMOVE, not SREM and SADD" or "no GET before the write" rest on it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator

import redis

from graders.harness.core.curriculum import say
from graders.harness.services import ServiceUnavailable

_LINE = re.compile(r"^\d+\.\d+ \[(\d+) [^\]]*\] (.*)$", re.DOTALL)
_ARGUMENT = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")

# What a client sends to set up its connection, not what the student's code asked for.
CONNECTION_SETUP = {"HELLO", "SELECT", "CLIENT", "AUTH", "PING", "READONLY"}


def _unescape(text: str) -> str:
    def one(match: re.Match) -> str:
        code = match[1]
        if code.startswith("x") and len(code) == 3:
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b"}.get(code, code)

    return _ESCAPE.sub(one, text)


def parse(line: str) -> tuple[int, list[str]] | None:
    """(database, [COMMAND, arg, ...]) from one line of MONITOR output; the command in upper case."""
    match = _LINE.match(line)
    if not match:
        return None
    arguments = [_unescape(argument) for argument in _ARGUMENT.findall(match[2])]
    if not arguments:
        return None
    return int(match[1]), [arguments[0].upper(), *arguments[1:]]


@contextlib.contextmanager
def server_log(url: str) -> Iterator[list[list[str]]]:
    """Yield a list that, once the block has ended, holds every command the server ran on the database of `url`
    while the block ran (connection set-up left out), each as [COMMAND, arg, ...]."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    database = int(client.connection_pool.connection_kwargs.get("db") or 0)
    commands: list[list[str]] = []
    end = f"pydb-course:end-of-watch:{secrets.token_hex(6)}"
    try:
        monitor = client.monitor()
        monitor.__enter__()
    except redis.RedisError as error:
        client.close()
        raise ServiceUnavailable(
            say(
                f"the checks could not watch Redis with MONITOR ({error}): use a Redis server "
                "whose admin may run MONITOR, e.g. `docker compose up -d --wait redis`",
                f"检查无法用 MONITOR 观察 Redis（{error}）：请使用允许管理员执行 MONITOR 的 Redis 服务器，"
                "例如 `docker compose up -d --wait redis`",
            )
        ) from None
    try:
        yield commands
        client.echo(end)  # a marker on the same server: every command before it has been reported once it shows
        while True:
            reply = monitor.connection.read_response()
            line = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            parsed = parse(line)
            if parsed is None:
                continue
            db, command = parsed
            if command == ["ECHO", end]:
                break
            if db == database and command[0] not in CONNECTION_SETUP:
                commands.append(command)
    except redis.RedisError as error:
        raise ServiceUnavailable(
            say(
                f"Redis stopped answering while the checks watched it: {error}",
                f"检查正在观察 Redis 时，Redis 不再响应了：{error}",
            )
        ) from None
    finally:
        with contextlib.suppress(Exception):
            monitor.__exit__(None, None, None)
        client.close()


def touching(commands: list[list[str]], key: str) -> list[list[str]]:
    """The commands that name `key` among their arguments."""
    return [command for command in commands if key in command[1:]]


def shown(command: list[str]) -> str:
    return " ".join(command)
