"""MySQL, Redis and MongoDB for the graders: found by one rule, in one place, and isolated per test.

Where a service comes from, first match wins:

1. a URL in the environment: MYSQL_URL, REDIS_URL, MONGODB_URL;
2. the docker-compose.yml service, started through pytest-docker, when a Docker engine answers
   (it stays up for the next check; `nox -s services-down` stops it);
3. the server on its usual local port (3306, 6379, 27017);
4. an embedded server where a faithful one exists: nx-27017 for MongoDB, started once and kept running;
5. otherwise every test that needs it ends as an *infrastructure error* that says how to start it:
   never a skip, never a point lost for the student's code.

Each test then gets a scratch space of its own: a MySQL database and user, a Redis logical database, a
MongoDB database, removed again when the test ends, even when the student's code failed half-way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from graders.harness.curriculum import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_PROJECT = "pydb-course"
STATE_DIR = ROOT / ".services"

# MySQL 8.4's default sql_mode, forced on every connection so MariaDB judges SQL the way MySQL does.
MYSQL_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)


class ServiceUnavailable(Exception):
    """A service the graders need is not reachable: an infrastructure error, not the student's."""


@dataclass(frozen=True)
class Service:
    name: str  # as in docker-compose.yml and curriculum.toml
    env: str
    container_port: int
    local_url: str
    how_to_start: str


SERVICES = {
    "mysql": Service(
        "mysql",
        "MYSQL_URL",
        3306,
        "mysql://root@127.0.0.1:3306",
        "start MySQL with `docker compose up -d --wait mysql`, or set MYSQL_URL=mysql://user:password@host:port",
    ),
    "redis": Service(
        "redis",
        "REDIS_URL",
        6379,
        "redis://127.0.0.1:6379",
        "start Redis with `docker compose up -d --wait redis`, or set REDIS_URL=redis://host:port",
    ),
    "mongodb": Service(
        "mongodb",
        "MONGODB_URL",
        27017,
        "mongodb://127.0.0.1:27017",
        "start MongoDB with `docker compose up -d --wait mongodb`, `pip install nx-27017`, "
        "or set MONGODB_URL=mongodb://host:port",
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


def _answers(url: str, service: str, timeout: float = 1.0) -> bool:
    """True when a server of the right kind answers at `url`."""
    if not _port_open(url, SERVICES[service].container_port, timeout):
        return False
    try:
        if service == "mysql":
            _mysql_connect(url, connect_timeout=timeout).close()
        elif service == "redis":
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
        else:
            import pymongo

            with pymongo.MongoClient(url, serverSelectionTimeoutMS=int(timeout * 1000)) as client:
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


def _embedded_mongodb() -> str | None:
    """nx-27017 on a private port, started once per machine and left running for the next check."""
    executable = shutil.which("nx-27017") or str(Path(sys.executable).with_name("nx-27017"))
    if not Path(executable).exists():
        return None
    url = "mongodb://127.0.0.1:27019"
    if _answers(url, "mongodb", 0.3):
        return url
    STATE_DIR.mkdir(exist_ok=True)
    (STATE_DIR / ".gitignore").write_text("*\n")
    subprocess.run(
        [
            executable,
            "--data-dir",
            "memory",
            "--host",
            "127.0.0.1",
            "-p",
            "27019",
            "--log-file",
            str(STATE_DIR / "nx-27017.log"),
            "--pid-file",
            str(STATE_DIR / "nx-27017.pid"),
            "-d",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(url, "mongodb", 0.5):
            return url
        time.sleep(0.2)
    return None


def locate(name: str, request: pytest.FixtureRequest) -> str:
    """The URL of service `name`, by the rule in this module's docstring."""
    service = SERVICES[name]
    from_env = os.environ.get(service.env)
    if from_env:
        if not _answers(from_env, name, 5):
            raise ServiceUnavailable(
                f"{name} does not answer at {service.env}={from_env}; {service.how_to_start}"
            )
        return from_env
    if docker_engine_answers():
        try:
            docker = request.getfixturevalue("docker_services")
            url = COMPOSE_URL[name].format(port=docker.port_for(name, service.container_port))
            docker.wait_until_responsive(check=lambda: _answers(url, name), timeout=180, pause=1)
        except Exception as error:
            raise ServiceUnavailable(f"docker compose could not start {name}: {error}") from None
        return url
    if _answers(service.local_url, name):
        return service.local_url
    if name == "mongodb":
        embedded = _embedded_mongodb()
        if embedded:
            return embedded
    raise ServiceUnavailable(f"{name} is not running: {service.how_to_start}")


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


# -- MySQL -----------------------------------------------------------------------------------------------------


def _mysql_connect(url: str, database: str | None = None, **options):
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        charset="utf8mb4",
        init_command=f"SET SESSION sql_mode='{MYSQL_SQL_MODE}'",
        autocommit=True,
        # PyMySQL >= 1.2 builds a TLS context for every connection (30 ms each) when TLS is not disabled;
        # these are local connections, and `cryptography` covers MySQL 8.4's password exchange without TLS.
        ssl_disabled=True,
        **options,
    )


@dataclass
class MySQLDatabase:
    """A scratch database and a user who may touch only it: the student's SQL runs as that user."""

    url: str
    name: str
    user: str
    password: str
    server_version: str

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.server_version.lower()

    def connect(self, *, as_student: bool = True, **options):
        """A connection to this database with MySQL 8.4's sql_mode; `as_student=False` gives the admin."""
        if not as_student:
            return _mysql_connect(self.url, self.name, **options)
        parts = urlsplit(self.url)
        student_url = f"mysql://{self.user}:{self.password}@{parts.hostname}:{parts.port or 3306}"
        return _mysql_connect(student_url, self.name, **options)

    @property
    def student_config(self) -> dict:
        """What a student's own pymysql.connect(**config) call receives."""
        parts = urlsplit(self.url)
        return {
            "host": parts.hostname,
            "port": parts.port or 3306,
            "user": self.user,
            "password": self.password,
            "database": self.name,
            "charset": "utf8mb4",
            "init_command": f"SET SESSION sql_mode='{MYSQL_SQL_MODE}'",
        }


@pytest.fixture(scope="session")
def mysql_url(request: pytest.FixtureRequest) -> str:
    return locate("mysql", request)


@pytest.fixture
def mysql_database(request: pytest.FixtureRequest) -> Iterator[MySQLDatabase]:
    url = request.getfixturevalue("mysql_url")
    token = secrets.token_hex(4)
    name, user, password = f"course_{token}", f"student_{token}", secrets.token_urlsafe(12)
    admin = _mysql_connect(url)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
            cursor.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        yield MySQLDatabase(url=url, name=name, user=user, password=password, server_version=version)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


# -- Redis -----------------------------------------------------------------------------------------------------

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


@contextlib.contextmanager
def redis_scratch(redis_server_url: str) -> Iterator[str]:
    """A logical database of its own (1 to 15), claimed in database 0 so parallel runs never share one."""
    import redis

    control = redis.Redis.from_url(redis_server_url, db=0)
    owner = secrets.token_hex(8)
    deadline = time.monotonic() + 60
    while True:
        free = [n for n in REDIS_DATABASES if control.set(REDIS_CLAIM.format(n), owner, nx=True, ex=600)]
        if free:
            break
        if time.monotonic() > deadline:
            raise ServiceUnavailable("every Redis logical database 1-15 is claimed by other grading runs")
        time.sleep(0.1)
    number = free[0]
    for extra in free[1:]:
        control.delete(REDIS_CLAIM.format(extra))
    scratch = redis.Redis.from_url(redis_server_url, db=number)
    scratch.flushdb()
    try:
        yield f"{redis_server_url.rstrip('/')}/{number}"
    finally:
        scratch.flushdb()
        scratch.close()
        if control.get(REDIS_CLAIM.format(number)) == owner.encode():
            control.delete(REDIS_CLAIM.format(number))
        control.close()


# -- MongoDB ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongodb_server_url(request: pytest.FixtureRequest) -> str:
    return locate("mongodb", request)


@dataclass(frozen=True)
class MongoDatabase:
    url: str
    name: str


@pytest.fixture
def mongodb_database(mongodb_server_url: str) -> Iterator[MongoDatabase]:
    """A database of this test's own, dropped after it."""
    with mongodb_scratch(mongodb_server_url) as database:
        yield database


@contextlib.contextmanager
def mongodb_scratch(mongodb_server_url: str) -> Iterator[MongoDatabase]:
    import pymongo

    name = f"course_{secrets.token_hex(4)}"
    try:
        yield MongoDatabase(url=mongodb_server_url, name=name)
    finally:
        with pymongo.MongoClient(mongodb_server_url, serverSelectionTimeoutMS=5000) as client:
            client.drop_database(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a student's server."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
