"""Redis for the graders: a logical database of each test's own, claimed so that parallel runs never share one."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator

import pytest

from graders.harness.core import owners
from graders.harness.core.curriculum import say
from graders.harness.services import ServiceUnavailable, guard, locate

REDIS_DATABASES = range(1, 16)
REDIS_CLAIM = "pydb-course:claim:{}"


@pytest.fixture(scope="session")
def redis_server_url(request: pytest.FixtureRequest) -> str:
    return locate("redis", request)


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """The URL of a logical database of this test's own, empty before and after it."""
    with redis_scratch(redis_server_url) as url:
        yield url


def _release_dead_claims(control, redis_server_url: str) -> None:
    """Empty and free the logical databases claimed by runs on this machine that died holding them."""
    import redis

    for number in REDIS_DATABASES:
        claim = control.get(REDIS_CLAIM.format(number))
        owner = owners.find(claim.decode(errors="replace")) if claim else None
        if owner and owners.is_dead(owner):
            with redis.Redis.from_url(redis_server_url, db=number) as scratch:
                scratch.flushdb()
            control.delete(REDIS_CLAIM.format(number))


@contextlib.contextmanager
def redis_scratch(redis_server_url: str) -> Iterator[str]:
    """A logical database of its own (1 to 15), claimed in database 0 so parallel runs never share one."""
    import redis

    control = redis.Redis.from_url(redis_server_url, db=0)
    owner = f"{owners.this_run()}:{secrets.token_hex(4)}"
    _release_dead_claims(control, redis_server_url)
    deadline = time.monotonic() + 60
    while True:
        free = [n for n in REDIS_DATABASES if control.set(REDIS_CLAIM.format(n), owner, nx=True, ex=600)]
        if free:
            break
        if time.monotonic() > deadline:
            raise ServiceUnavailable(say("every Redis logical database 1-15 is claimed by other grading runs",
                                             "Redis 的逻辑数据库 1-15 都被其他评分进程占用了"))
        time.sleep(0.1)
    number = free[0]
    for extra in free[1:]:
        control.delete(REDIS_CLAIM.format(extra))
    scratch = redis.Redis.from_url(redis_server_url, db=number)
    scratch.flushdb()
    try:
        with guard.allowed("redis", str(number)):
            yield f"{redis_server_url.rstrip('/')}/{number}"
    finally:
        scratch.flushdb()
        scratch.close()
        if control.get(REDIS_CLAIM.format(number)) == owner.encode():
            control.delete(REDIS_CLAIM.format(number))
        control.close()
