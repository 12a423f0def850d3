"""MongoDB for the graders: a scratch database per test, and the embedded server (nx-27017) where none runs."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graders.harness.core import owners
from graders.harness.services import STATE_DIR, answers, guard, locate

if TYPE_CHECKING:
    import pymongo


def mongo_client(url: str, timeout: float, **options: object) -> pymongo.MongoClient:
    """A MongoClient for the grader's own use (not the student's), answering within `timeout` seconds.

    pymongo's background threads look every MIN_HEARTBEAT_INTERVAL (0.5 s) whether their client was closed,
    and at exit pymongo waits for them: every check of a MongoDB topic ended half a second after its last
    test. The grader's clients talk to a server on this machine, so they look every 50 ms instead."""
    import pymongo
    import pymongo.common

    pymongo.common.MIN_HEARTBEAT_INTERVAL = 0.05
    milliseconds = int(timeout * 1000)
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=milliseconds, **options)


def embedded_mongodb() -> str | None:
    """nx-27017 on a private port, started once per machine and left running for the next check."""
    executable = shutil.which("nx-27017") or str(Path(sys.executable).with_name("nx-27017"))
    if not Path(executable).exists():
        return None
    url = "mongodb://127.0.0.1:27019"
    if answers(url, "mongodb", 0.3):
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
        if answers(url, "mongodb", 0.5):
            return url
        time.sleep(0.2)
    return None


@pytest.fixture(scope="session")
def mongodb_server_url(request: pytest.FixtureRequest) -> str:
    url = locate("mongodb", request)
    remove_leftovers(url)
    return url


def remove_leftovers(url: str) -> list[str]:
    """Drop the scratch databases of runs on this machine that died before cleaning up."""
    removed = []
    with contextlib.suppress(Exception), mongo_client(url, 5) as client:
        for name in client.list_database_names():
            owner = owners.find(name) if name.startswith("course_") else None
            if owner and owners.is_dead(owner):
                client.drop_database(name)
                removed.append(name)
    return removed


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
    name = f"course_{owners.this_run()}_{secrets.token_hex(3)}"
    try:
        with guard.allowed("mongodb", name):
            yield MongoDatabase(url=mongodb_server_url, name=name)
    finally:
        with mongo_client(mongodb_server_url, 5) as client:
            client.drop_database(name)
