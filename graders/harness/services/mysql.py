"""MySQL (or MariaDB) for the graders: a scratch database and a user who may touch only it, per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pytest

from graders.harness.core import owners
from graders.harness.services import guard, locate

# MySQL 8.4's default sql_mode, forced on every connection so MariaDB judges SQL the way MySQL does.
MYSQL_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)


def mysql_connect(url: str, database: str | None = None, **options):
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
            return mysql_connect(self.url, self.name, **options)
        parts = urlsplit(self.url)
        student_url = f"mysql://{self.user}:{self.password}@{parts.hostname}:{parts.port or 3306}"
        return mysql_connect(student_url, self.name, **options)

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
    url = locate("mysql", request)
    remove_leftovers(url)
    return url


def remove_leftovers(url: str) -> list[str]:
    """Drop the scratch databases and users of runs on this machine that died before cleaning up."""
    removed = []
    admin = mysql_connect(url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(r"SHOW DATABASES LIKE 'course\_%'")
            for (name,) in cursor.fetchall():
                owner = owners.find(name)
                if owner and owners.is_dead(owner):
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                    removed.append(name)
            cursor.execute(r"SELECT user, host FROM mysql.user WHERE user LIKE 's\_%'")
            for user, host in cursor.fetchall():
                owner = owners.find(user)
                if owner and owners.is_dead(owner):
                    cursor.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
                    removed.append(user)
    except Exception:  # e.g. a server account that may not read mysql.user: leftovers stay, grading goes on
        pass
    finally:
        admin.close()
    return removed


@pytest.fixture
def mysql_database(request: pytest.FixtureRequest) -> Iterator[MySQLDatabase]:
    url = request.getfixturevalue("mysql_url")
    token, owner = secrets.token_hex(3), owners.this_run()
    # The owner is in both names (a user name holds 32 characters on MySQL): see core/owners.py.
    name, user, password = f"course_{owner}_{token}", f"s_{owner}_{token}", secrets.token_urlsafe(12)
    admin = mysql_connect(url)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
            cursor.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        with guard.allowed("mysql", user):
            yield MySQLDatabase(url=url, name=name, user=user, password=password, server_version=version)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()
