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

import pytest

from graders.harness.core import owners
from graders.harness.services import STATE_DIR, answers, guard, locate


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
    import pymongo

    removed = []
    with contextlib.suppress(Exception), pymongo.MongoClient(url, serverSelectionTimeoutMS=5000) as client:
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
    import pymongo

    name = f"course_{owners.this_run()}_{secrets.token_hex(3)}"
    try:
        with guard.allowed("mongodb", name):
            yield MongoDatabase(url=mongodb_server_url, name=name)
    finally:
        with pymongo.MongoClient(mongodb_server_url, serverSelectionTimeoutMS=5000) as client:
            client.drop_database(name)
