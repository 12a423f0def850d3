"""The guards in front of MySQL, Redis and MongoDB (services/guard.py), against the real servers: the grader
passes as root, and code running as a submission's uid reaches its scratch space and nothing else.

The student's side is a child forked from this process that drops to an unprivileged uid, then uses the real
clients (pymysql, redis, pymongo), as a student's code in the sandbox would."""

from __future__ import annotations

import json
import os
import secrets
import socket
import traceback
from collections.abc import Callable, Iterator

import pymongo
import pymysql
import pytest
import redis

from graders.harness.services import guard, locate
from graders.harness.services.mysql import mysql_connect

STUDENT_UID = 200999

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not os.environ.get("COURSE_REQUIRE_SANDBOX"),
                                reason="telling a submission's uid from root's needs root to become another uid")


def as_student(action: Callable[[], object]) -> object:
    """`action()` in a child running as STUDENT_UID; its result, or the text of the exception it raised."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.setgroups([])
            os.setresgid(STUDENT_UID, STUDENT_UID, STUDENT_UID)
            os.setresuid(STUDENT_UID, STUDENT_UID, STUDENT_UID)
            answer = {"value": action()}
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}", "where": traceback.format_exc()[-600:]}
        os.write(write, json.dumps(answer, default=repr).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = json.loads(pipe.read() or b'{"error": "the child died"}')
    os.waitpid(pid, 0)
    return answer.get("value", answer.get("error"))


@pytest.fixture(scope="module")
def guards() -> Iterator[dict[str, guard.Guard]]:
    network = guard.HostNetwork()
    made = {name: guard.Guard(name, locate(name), network, port=0) for name in ("mysql", "redis", "mongodb")}
    yield made
    for one in made.values():
        one.close()


def test_the_uid_of_a_connection_is_read_from_the_kernel(guards):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def connect():
        with socket.create_connection(("127.0.0.1", port)) as sock:
            return sock.recv(1).decode()

    pid = os.fork()
    if pid == 0:
        os.setresuid(STUDENT_UID, STUDENT_UID, STUDENT_UID)
        connect()
        os._exit(0)
    accepted, _ = listener.accept()
    assert guard.peer_uid(accepted) == STUDENT_UID
    accepted.sendall(b"x")
    accepted.close()
    os.waitpid(pid, 0)
    mine = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    assert guard.peer_uid(accepted) == 0
    for sock in (mine, accepted, listener):
        sock.close()


def test_mysql_lets_the_student_in_only_as_its_scratch_user(guards):
    url = guards["mysql"].url
    admin = mysql_connect(url)  # the grader, as root, through the guard
    name, user, password = f"course_guard_{secrets.token_hex(3)}", f"s_guard_{secrets.token_hex(3)}", "pw-1234"
    victim = f"course_guard_victim_{secrets.token_hex(3)}"
    with admin.cursor() as cursor:
        for database in (name, victim):
            cursor.execute(f"CREATE DATABASE `{database}`")
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cursor.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
    port = guards["mysql"].port

    def as_root():
        connection = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
        connection.cursor().execute(f"DROP DATABASE `{victim}`")
        return "dropped"

    def as_scratch():
        connection = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=name)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x INT)")
            cursor.execute("INSERT INTO t VALUES (41), (1)")
            cursor.execute("SELECT SUM(x) FROM t")
            return int(cursor.fetchone()[0])

    try:
        assert as_student(as_scratch).startswith("OperationalError: (1045"), "not yet allowed"
        with guard.allowed("mysql", user):
            refused = as_student(as_root)
            assert refused.startswith("OperationalError: (1045") and "account it was given" in refused, refused
            assert as_student(as_scratch) == 42
        with admin.cursor() as cursor:
            assert cursor.execute(f"SHOW DATABASES LIKE '{victim}'") == 1, "the student dropped another database"
    finally:
        with admin.cursor() as cursor:
            for database in (name, victim):
                cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


def test_mysql_refuses_a_change_of_user_after_the_login(guards):
    user, password = f"s_guard_{secrets.token_hex(3)}", "pw-1234"
    admin = mysql_connect(guards["mysql"].url)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    port = guards["mysql"].port

    def change_user():
        connection = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password)
        payload = bytes([0x11]) + b"root\0" + b"\0" + b"\0"  # COM_CHANGE_USER to root, no password
        connection._sock.sendall(len(payload).to_bytes(3, "little") + b"\0" + payload)
        answer = connection._sock.recv(4096)
        return answer[4:5].hex() + " " + answer[7:].decode(errors="replace")

    try:
        with guard.allowed("mysql", user):
            answer = as_student(change_user)
        assert answer.startswith("ff ") and "COM_CHANGE_USER" in answer, answer
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


def test_redis_keeps_the_student_to_its_scratch_database(guards):
    url = guards["redis"].url
    grader = redis.Redis.from_url(url, db=0)
    marker = f"guard-test:{secrets.token_hex(4)}"
    grader.set(marker, "kept")
    port = guards["redis"].port

    def attempts():
        results = {}
        for what, db, command in [
            ("flushall", 14, ("FLUSHALL",)), ("select 0", 14, ("SELECT", "0")), ("swapdb", 14, ("SWAPDB", "0", "14")),
            ("config", 14, ("CONFIG", "SET", "maxmemory", "1")), ("eval", 14, ("EVAL", "return 1", "0")),
            ("auth", 14, ("AUTH", "x")), ("del before select", 0, ("DEL", marker)),
        ]:
            client = redis.Redis(host="127.0.0.1", port=port, db=db)
            try:
                results[what] = repr(client.execute_command(*command))
            except redis.RedisError as error:
                results[what] = f"error: {error}"
            client.close()
        own = redis.Redis(host="127.0.0.1", port=port, db=14)
        own.set("mine", 1)
        results["own"] = int(own.get("mine"))
        try:
            own.execute_command("COPY", "mine", marker, "DB", "0")
            results["copy"] = "copied"
        except redis.RedisError as error:
            results["copy"] = f"error: {error}"
        return results

    try:
        with guard.allowed("redis", "14"):
            results = as_student(attempts)
        assert isinstance(results, dict), results
        assert results.pop("own") == 1
        assert {what: answer.split(" ")[0] for what, answer in results.items()} == dict.fromkeys(results, "error:")
        assert "not-allowed-while-graded" in results["flushall"] and "scratch" in results["select 0"]
        assert "select-your-scratch-database-first" in results["del before select"]
        assert grader.get(marker) == b"kept", "the student reached database 0"
        assert as_student(lambda: redis.Redis(host="127.0.0.1", port=port, db=14).set("x", 1)).startswith(
            "ResponseError"), "database 14 is no longer the student's"
    finally:
        grader.delete(marker)
        redis.Redis.from_url(url, db=14).flushdb()
        grader.close()


def test_mongodb_keeps_the_student_to_its_scratch_database(guards):
    url = guards["mongodb"].url
    own, victim = f"course_guard_{secrets.token_hex(3)}", f"course_guard_victim_{secrets.token_hex(3)}"
    grader = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
    grader[victim].kept.insert_one({"kept": True})
    port = guards["mongodb"].port

    def attempts():
        results = {}
        client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=5000)
        client[own].things.insert_one({"x": 1})
        results["own"] = client[own].things.count_documents({})
        results["names"] = own in client.list_database_names()
        for what, action in [("drop", lambda: client.drop_database(victim)),
                             ("insert", lambda: client[victim].kept.insert_one({"x": 2})),
                             ("out", lambda: list(client[own].things.aggregate(
                                 [{"$out": {"db": victim, "coll": "kept"}}])))]:
            try:
                action()
                results[what] = "done"
            except pymongo.errors.PyMongoError as error:
                results[what] = f"error: {error}"
        return results

    try:
        with guard.allowed("mongodb", own):
            results = as_student(attempts)
        assert isinstance(results, dict), results
        assert results.pop("own") == 1 and results.pop("names") is True
        for what, answer in results.items():
            assert answer.startswith("error:") and "the database it was given" in answer, (what, answer)
        assert grader[victim].kept.count_documents({}) == 1, "the student reached another database"
    finally:
        grader.drop_database(victim)
        grader.drop_database(own)
        grader.close()


def test_a_relay_acting_for_the_student_is_read_as_the_student(guards):
    from graders.harness.services.relay import relayed

    with relayed(guards["redis"].url + "/13", 6379) as (url, relay):
        assert relay is not None
        with guard.allowed("redis", "13"):
            assert redis.Redis.from_url(url).set("x", 1)
            with pytest.raises(redis.ResponseError, match="flushall-is-not-allowed-while-graded"):
                redis.Redis.from_url(url).flushall()  # root's own process, but it carries a student's bytes
            redis.Redis.from_url(guards["redis"].url + "/13").flushall()  # the grader's own connection
