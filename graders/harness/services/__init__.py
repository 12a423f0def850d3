"""MySQL, Redis and MongoDB for the graders: found by one rule, in one place, and isolated per test.

Where a service comes from, first match wins:

1. a URL in the environment: MYSQL_URL, REDIS_URL, MONGODB_URL;
2. the docker-compose.yml service, started through pytest-docker, when a Docker engine answers
   (it stays up for the next check; `nox -s services-down` stops it). One that an earlier check started and
   that answers on its published port is used without asking Docker: `docker info` and `docker compose up`
   cost a second per check on Docker Desktop, for a server that is already there;
3. the server on its usual local port (3306, 6379, 27017);
4. an embedded server where a faithful one exists: nx-27017 for MongoDB, started once and kept running;
5. otherwise every test that needs it ends as an *infrastructure error* that says how to start it:
   never a skip, never a point lost for the student's code.

Each test then gets a scratch space of its own: a MySQL database and user, a Redis logical database, a
MongoDB database, removed again when the test ends, even when the student's code failed half-way.
While a class is graded, student code reaches a service only through a guard that keeps it to the scratch
spaces of its tests (guard.py). This module holds the rule; `mysql`, `redis` and `mongodb` hold each service's
scratch space and fixtures. May import `core` only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import pytest

from graders.harness.core.curriculum import ROOT, say

COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_PROJECT = "pydb-course"
STATE_DIR = ROOT / ".services"

class ServiceUnavailable(Exception):
    """A service the graders need is not reachable: an infrastructure error, not the student's."""


@dataclass(frozen=True)
class Service:
    name: str  # as in docker-compose.yml and curriculum.toml
    env: str
    container_port: int
    compose_port: int  # the host port docker-compose.yml publishes it on
    local_url: str
    how_to_start_en: str
    how_to_start_zh: str


SERVICES = {
    "mysql": Service(
        "mysql",
        "MYSQL_URL",
        3306,
        3307,
        "mysql://root@127.0.0.1:3306",
        "start MySQL with `docker compose up -d --wait mysql`, or set MYSQL_URL=mysql://user:password@host:port",
        "用 `docker compose up -d --wait mysql` 启动 MySQL，或者设置 MYSQL_URL=mysql://用户:密码@主机:端口",
    ),
    "redis": Service(
        "redis",
        "REDIS_URL",
        6379,
        6380,
        "redis://127.0.0.1:6379",
        "start Redis with `docker compose up -d --wait redis`, or set REDIS_URL=redis://host:port",
        "用 `docker compose up -d --wait redis` 启动 Redis，或者设置 REDIS_URL=redis://主机:端口",
    ),
    "mongodb": Service(
        "mongodb",
        "MONGODB_URL",
        27017,
        27018,
        "mongodb://127.0.0.1:27017",
        "start MongoDB with `docker compose up -d --wait mongodb`, `pip install nx-27017`, "
        "or set MONGODB_URL=mongodb://host:port",
        "用 `docker compose up -d --wait mongodb` 启动 MongoDB，或者 `pip install nx-27017`，"
        "或者设置 MONGODB_URL=mongodb://主机:端口",
    ),
}

# The compose file's credentials: what a URL for a compose service needs besides its port.
COMPOSE_URL = {
    "mysql": "mysql://root:course@127.0.0.1:{port}",
    "redis": "redis://127.0.0.1:{port}",
    "mongodb": "mongodb://127.0.0.1:{port}",
}


def _port_open(url: str, default_port: int, timeout: float) -> bool:
    """A plain TCP connect: refused at once where nothing listens (drivers would retry until their timeout)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=timeout):
            return True
    except OSError:
        return False


def answers(url: str, service: str, timeout: float = 1.0) -> bool:
    """True when a server of the right kind answers at `url`."""
    if not _port_open(url, SERVICES[service].container_port, timeout):
        return False
    try:
        if service == "mysql":
            from graders.harness.services.mysql import mysql_connect

            mysql_connect(url, connect_timeout=timeout).close()
        elif service == "redis":
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
        else:
            from graders.harness.services.mongodb import mongo_client

            with mongo_client(url, timeout) as client:
                client.admin.command("ping")
    except Exception:
        return False
    return True


@cache
def docker_engine_answers() -> bool:
    if shutil.which("docker") is None or not COMPOSE_FILE.exists():
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _compose_up(name: str) -> str:
    """Start the compose service `name` with the docker CLI (outside pytest: the class run); its URL."""
    base = ["docker", "compose", "-f", str(COMPOSE_FILE), "-p", COMPOSE_PROJECT]
    subprocess.run([*base, "up", "-d", "--wait", name], check=True, capture_output=True, timeout=600)
    published = subprocess.run([*base, "port", name, str(SERVICES[name].container_port)], check=True,
                               capture_output=True, text=True, timeout=60).stdout.strip()
    return COMPOSE_URL[name].format(port=published.rpartition(":")[2])


_FOUND: dict[str, str] = {}  # by `find_running`, in the process a check's helpers are forked from


def find_running(names: set[str]) -> None:
    """Find these services where they already run, by the rule above, once for the processes a check is about to
    fork: each would otherwise ask them again, and run `docker info` (0.1 s of CPU) where Docker is installed
    but not started. One that only Docker could start, or that does not answer, is left to `locate` in each test,
    which says why."""
    for name in names:
        with contextlib.suppress(ServiceUnavailable):
            _FOUND[name] = locate(name, start=False)


def locate(name: str, request: pytest.FixtureRequest | None = None, *, start: bool = True) -> str:
    """The URL of service `name`, by the rule in this module's docstring (compose through pytest-docker in a
    test, through the docker CLI without `request`; with `start=False`, ServiceUnavailable instead)."""
    if name in _FOUND:
        return _FOUND[name]
    service = SERVICES[name]
    from_env = os.environ.get(service.env)
    if from_env:
        if not answers(from_env, name, 5):
            raise ServiceUnavailable(
                say(f"{name} does not answer at {service.env}={from_env}; {service.how_to_start_en}",
                    f"{name} 在 {service.env}={from_env} 没有应答；{service.how_to_start_zh}")
            )
        return from_env
    running = COMPOSE_URL[name].format(port=service.compose_port)
    if answers(running, name):
        return running
    if docker_engine_answers():
        if not start:
            raise ServiceUnavailable(say(f"{name} is not running yet; only Docker could start it",
                                         f"{name} 还没有运行；只有 Docker 能启动它"))
        try:
            if request is None:
                url = _compose_up(name)  # `--wait` waits for the healthcheck
            else:
                docker = request.getfixturevalue("docker_services")
                url = COMPOSE_URL[name].format(port=docker.port_for(name, service.container_port))
                docker.wait_until_responsive(check=lambda: answers(url, name), timeout=180, pause=1)
        except Exception as error:
            raise ServiceUnavailable(
                say(f"docker compose could not start {name}: {error}", f"docker compose 没能启动 {name}：{error}")
            ) from None
        return url
    if answers(service.local_url, name):
        return service.local_url
    if name == "mongodb":
        from graders.harness.services.mongodb import embedded_mongodb

        embedded = embedded_mongodb()
        if embedded:
            return embedded
    raise ServiceUnavailable(say(f"{name} is not running: {service.how_to_start_en}",
                                 f"{name} 没有在运行：{service.how_to_start_zh}"))


NEEDED = pytest.StashKey[set]()
"""The services of the topics collected in this run: what `docker compose up` starts, all at once."""


# -- pytest-docker's settings: our compose file, one stable project, started lazily and left running -------


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(COMPOSE_FILE)


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return COMPOSE_PROJECT


@pytest.fixture(scope="session")
def docker_setup(pytestconfig: pytest.Config) -> list[str]:
    needed = " ".join(sorted(pytestconfig.stash.get(NEEDED, set())))
    return [f"up -d --wait {needed}".strip()]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return []  # keep the services up: students rerun checks all day; `nox -s services-down` stops them
