"""The services the graders use: found by one rule, isolated per test, nothing left behind, and the
compose file and workflows valid by the official schemas."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest
import redis

from graders.harness import services
from graders.harness.core import curriculum
from graders.harness.services import mongodb as mongodb_service
from graders.harness.services import redis as redis_service

ROOT = curriculum.ROOT


def test_mysql_database_is_private_and_judges_like_mysql_8_4(mysql_database):
    with mysql_database.connect() as connection, connection.cursor() as cursor:
        cursor.execute("select @@session.sql_mode, database()")
        sql_mode, database = cursor.fetchone()
        assert "ONLY_FULL_GROUP_BY" in sql_mode and database == mysql_database.name
        cursor.execute("show databases")
        visible = {row[0] for row in cursor.fetchall()}
    assert visible == {"information_schema", mysql_database.name}, "the student's user sees other databases"


def test_redis_gives_each_test_its_own_empty_logical_database(redis_url, redis_server_url):
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("left-behind", "1")
    number = int(redis_url.rsplit("/", 1)[1])
    assert 1 <= number <= 15
    claim = redis.Redis.from_url(redis_server_url, db=0).get(redis_service.REDIS_CLAIM.format(number))
    assert claim, "the logical database is not claimed for this test"
    client.close()


def test_redis_scratch_database_is_emptied_and_released_afterwards(redis_server_url):
    with redis_service.redis_scratch(redis_server_url) as url, redis.Redis.from_url(url) as client:
        client.set("key", "value")
        other = redis_service.redis_scratch(redis_server_url)
        with other as second_url:
            assert second_url != url, "two tests at once were given the same logical database"
    number = int(url.rsplit("/", 1)[1])
    with redis.Redis.from_url(url) as client, redis.Redis.from_url(redis_server_url, db=0) as control:
        assert client.dbsize() == 0, f"keys left in logical database {number}"
        assert not control.exists(redis_service.REDIS_CLAIM.format(number)), f"database {number} is still claimed"


def test_looking_for_a_stray_key_sends_nothing_to_another_tests_database(redis_server_url):
    """redis task 7 looks in every other logical database for the key a wrong client wrote, and removes it; the
    database of a test running beside it (another process of the check) is watched with MONITOR, where a command
    of task 7's made a correct task fail (seen: task 1's "the server ran 2 commands (DEL, MSET)")."""
    from graders.redis.monitor import server_log
    from graders.redis.test_redis import stray_databases

    with redis_service.redis_scratch(redis_server_url) as mine, redis_service.redis_scratch(redis_server_url) as beside:
        key = "written:stray-search"
        with redis.Redis.from_url(redis_server_url, db=0) as zero, redis.Redis.from_url(beside) as other:
            zero.set(key, "from a client on database 0")
            other.set(key, "from a client on the database of the test beside")
            with server_log(beside) as seen:
                found = stray_databases(redis_server_url, key, int(mine.rsplit("/", 1)[1]))
            assert found == [0] and not zero.exists(key), found
            assert seen == [], f"the search sent {seen} to another test's database"
            assert other.exists(key), "it removed a key from another test's database"


def test_mongodb_database_is_fresh_and_dropped_afterwards(mongodb_server_url):
    with pymongo.MongoClient(mongodb_server_url) as client:
        with mongodb_service.mongodb_scratch(mongodb_server_url) as database:
            client[database.name].students.insert_one({"name": "jack", "age": 18})
            assert database.name in client.list_database_names()
        assert database.name not in client.list_database_names()


def test_an_unreachable_url_is_an_infrastructure_error_with_a_way_out(monkeypatch, request):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9")
    with pytest.raises(services.ServiceUnavailable, match=r"docker compose up -d --wait redis"):
        services.locate("redis", request)


def test_a_compose_service_already_running_is_used_without_asking_docker(monkeypatch, request, tmp_path):
    """What an earlier check left running on the compose file's port is found first, with the compose URL. In CI
    the compose Redis is there; elsewhere a redis-server on its port stands in for it."""
    url = f"redis://127.0.0.1:{services.SERVICES['redis'].compose_port}"
    with contextlib.ExitStack() as stack:
        if not services.answers(url, "redis", 0.5):
            server = shutil.which("redis-server")
            assert server, f"no Redis at {url} (the compose one) and no redis-server to stand in for it"
            process = subprocess.Popen([server, "--port", url.rpartition(":")[2], "--save", "", "--dir",
                                        str(tmp_path)], stdout=subprocess.DEVNULL)
            stack.callback(process.wait, 10)
            stack.callback(process.terminate)
            deadline = time.monotonic() + 10
            while not services.answers(url, "redis", 0.5):
                assert process.poll() is None and time.monotonic() < deadline, f"redis-server did not start: {url}"
                time.sleep(0.05)
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.setattr(services, "docker_engine_answers", lambda: pytest.fail("Docker was asked"))
        assert services.locate("redis", request) == url


def test_services_found_before_a_check_forks_are_not_asked_again_and_docker_is_left_to_each_test(monkeypatch):
    """A check about to fork its helpers finds its services once (`find_running`): the helpers inherit the URL and
    neither ask the server again nor run `docker info`. A service that only Docker could start is not looked
    for there: each test's `locate` starts it through pytest-docker, as before."""
    monkeypatch.setattr(services, "_FOUND", {})
    monkeypatch.setenv("REDIS_URL", services.SERVICES["redis"].local_url)
    services.find_running({"redis"})
    monkeypatch.setattr(services, "answers", lambda *_args: pytest.fail("the server was asked again"))
    monkeypatch.setattr(services, "docker_engine_answers", lambda: pytest.fail("Docker was asked"))
    assert services.locate("redis") == services.SERVICES["redis"].local_url

    monkeypatch.setattr(services, "_FOUND", {})
    monkeypatch.delenv("MYSQL_URL", raising=False)
    monkeypatch.setattr(services, "answers", lambda *_args: False)  # nothing runs yet...
    monkeypatch.setattr(services, "docker_engine_answers", lambda: True)  # ...and Docker could start it
    services.find_running({"mysql"})
    assert services._FOUND == {}


def test_compose_ports_are_the_ones_docker_compose_yml_publishes():
    text = (ROOT / "docker-compose.yml").read_text()
    for service in services.SERVICES.values():
        assert f'ports: ["{service.compose_port}:{service.container_port}"]' in text, service.name


def test_the_embedded_mongodb_starts_and_answers():
    url = mongodb_service.embedded_mongodb()
    assert url == "mongodb://127.0.0.1:27019", "nx-27017 did not start (is it installed?)"
    with pymongo.MongoClient(url) as client:
        assert client.admin.command("ping")["ok"]


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(found).exists(), f"{name} is not installed (it is in the dev dependency group)"
    return found


def test_docker_compose_file_follows_the_compose_spec():
    subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
                   cwd=ROOT, check=True, capture_output=True)


def test_compose_services_are_the_ones_the_graders_name():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in services.SERVICES:
        assert f"\n  {name}:\n" in text, f"docker-compose.yml has no service {name}"
    used = {name for topic in curriculum.topics() for name in topic.services}
    assert used <= set(services.SERVICES)


@pytest.mark.parametrize("workflow", sorted((ROOT / ".github" / "workflows").glob("*.yml")), ids=lambda p: p.name)
def test_workflows_pass_actionlint_and_the_schema(workflow):
    lint = subprocess.run([_tool("actionlint"), str(workflow)], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
