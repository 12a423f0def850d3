"""The boundary around student code (issue: a grade that student code cannot forge, lose or outlive).

Each test plays a student who is hostile, or only buggy, against the real harness: a worker process that
runs a throw-away module, or a whole `pytest graders/<topic>` run as `nox -s check-<topic>` starts it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders.harness.core import platform, protocol
from graders.harness.core.forkserver import Forked
from graders.harness.core.results import TaskResult, TopicResult, load_progress, save_progress
from graders.harness.core.student import Implementation, OverLimit, Spares, Student, StudentError
from tests import boundary_probes
from tests.test_harness import BASICS_OK, COUNTER_OK, grade, message, processes_mentioning, statuses, variant

ROOT = Path(__file__).resolve().parents[1]


def student_with(tmp_path: Path, source: str, **options) -> Student:
    folder = tmp_path / "code"
    folder.mkdir(exist_ok=True)
    (folder / "victim.py").write_text(source, encoding="utf-8")
    return Student(Implementation("boundary", (folder,)), tmp_path, **options)


def gone_within(marker: str, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# -- 1. nothing that crosses from the worker is executed ----------------------------------------------------


def test_plain_data_survives_the_trip_and_nothing_else_can_be_expressed():
    utc8 = dt.timezone(dt.timedelta(hours=8))
    value = {
        "list": [1, 2.5, "三", None, True],
        "tuple": (1, (2, 3)),
        "set": {1, 2},
        "frozen": frozenset({"a"}),
        "bytes": b"\x00\xff",
        (1, 2): "a tuple key",
        "moment": dt.datetime(2018, 8, 15, 21, 18, 21, 5, tzinfo=utc8),
        "naive": dt.datetime(2018, 8, 15),
        "day": dt.date(2020, 2, 29),
        "span": dt.timedelta(days=-1, seconds=5),
        "zone": utc8,
        "money": decimal.Decimal("20.50"),
        "inf": float("inf"),
    }
    assert protocol.loads(protocol.dumps(value)) == value

    class Sneaky:
        def __reduce__(self):
            return (os.system, ("touch /tmp/never",))

    with pytest.raises(TypeError, match="is not plain data"):
        protocol.dumps([Sneaky()])
    for frame in (b'{"\\u0000t": "pickle", "v": "x"}', b'{"\\u0000t": "set", "v": [[1]]}', b"NaN", b"\xff",
                  b"[" * 100_000):
        with pytest.raises(protocol.ProtocolError):
            protocol.loads(frame)


def test_an_object_with_reduce_runs_nothing_in_the_grader(tmp_path):
    marker = tmp_path / "ran-in-the-grader"
    student = student_with(tmp_path, f"""
import os
class Score:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
    def __eq__(self, other):
        return True
def answer():
    return Score()
""")
    try:
        with pytest.raises(StudentError, match="cannot read back"):
            student.run(boundary_probes.call, "victim", "answer")
    finally:
        student.close()
    assert not marker.exists()


def test_a_forged_frame_on_the_grader_channel_is_refused_not_obeyed(tmp_path):
    student = student_with(tmp_path, """
import os, socket, struct
def forge():
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        if sock.family == socket.AF_UNIX:
            frame = b'{"\\\\u0000t": "pickle", "v": "cos\\\\nsystem"}'
            sock.sendall(struct.pack("!I", len(frame)) + frame)
        sock.detach()
    return "honest"
""")
    try:
        with pytest.raises(StudentError, match="could not read the worker's answer"):
            student.run(boundary_probes.call, "victim", "forge")
    finally:
        student.close()


def test_a_frame_that_stops_half_way_cannot_hang_the_grader(tmp_path, monkeypatch):
    monkeypatch.setattr("graders.harness.core.student.RECEIVE_TIMEOUT", 0.5)
    student = student_with(tmp_path, """
import os, socket, struct, time
def stall():
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        if sock.family == socket.AF_UNIX:
            sock.sendall(struct.pack("!I", 1000) + b"[1,")
        sock.detach()
    time.sleep(30)
""")
    started = time.monotonic()
    try:
        with pytest.raises(StudentError, match="could not read the worker's answer"):
            student.run(boundary_probes.call, "victim", "stall", timeout=5)
    finally:
        student.close()
    assert time.monotonic() - started < 5


def test_a_file_the_worker_names_is_shown_only_when_it_is_the_students(tmp_path):
    secret = ROOT / "graders" / "threads" / "test_threads.py"
    student = student_with(tmp_path, f"""
def lie():
    error = ValueError("look here")
    raise error
import graders.harness.core.probing as probing
real = probing.describe
def describe(error):
    facts = real(error)
    facts.update(file={str(secret)!r}, line=1)
    return facts
probing.describe = describe
""")
    try:
        with pytest.raises(StudentError) as raised:
            student.run(boundary_probes.call, "victim", "lie")
    finally:
        student.close()
    first_line = secret.read_text().splitlines()[0].strip()
    assert first_line not in raised.value.message and raised.value.file is None


# -- 3. only a test that ran to its end earns points ---------------------------------------------------------


def test_an_interrupted_check_shows_no_pass_for_the_task_in_flight(tmp_path):
    endless = "        while True:\n            pass\n        with self._lock:\n"
    busy = COUNTER_OK.replace("        with self._lock:\n", endless)
    impl = variant(tmp_path, "threads", {"counter.py": busy})
    results = impl.parent / "results.json"
    command = [sys.executable, "-m", "pytest", "graders/threads", "--impl", str(impl), "--results-json", str(results),
               "-k", "counter", "--timeout-scale", "4"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env={**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1"})
    time.sleep(3)  # the counter's test is in flight, its worker busy
    run.send_signal(signal.SIGINT)
    time.sleep(0.3)
    run.send_signal(signal.SIGTERM)  # what nox does 0.3 s after Ctrl-C
    run.communicate(timeout=30)
    assert not gone_within(str(impl), 1.0), "a worker outlived the interrupted check"
    if results.exists():  # the run may not get as far as writing them; it must never write a pass
        from graders.harness.core.results import from_json

        (topic,) = from_json(results.read_text())
        assert statuses(topic)[2] != "passed", topic


@pytest.mark.parametrize("start", ["fork", "spawn"] if platform.LINUX else ["spawn"])
def test_an_interrupted_check_in_several_processes_leaves_nothing_running(tmp_path, start):
    """--jobs 2: nox signals only the pytest it started; the helper (forked, or a pytest of its own) and its
    workers must end with it."""
    endless = "        while True:\n            pass\n        with self._lock:\n"
    busy = COUNTER_OK.replace("        with self._lock:\n", endless)
    basics = (ROOT / "solutions/threads/basics.py").read_text()
    stuck = basics.replace("    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]\n",
                           "    while True:\n        pass\n", 1)
    impl = variant(tmp_path, "threads", {"counter.py": busy, "basics.py": stuck})
    results = impl.parent / "results.json"
    command = [sys.executable, "-m", "pytest", "graders/threads", "--impl", str(impl), "--results-json", str(results),
               "--jobs", "2", "--timeout-scale", "4", "-k", "counter or start_and_join"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env={**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1", "GRADE_HELPER_START": start})
    time.sleep(4)  # tasks 1 and 2, one in each process, both stuck in an endless loop
    pytests = [line for line in processes_mentioning(str(impl)) if "-m pytest" in line]
    assert len(pytests) == 2, f"the check started no helper: {pytests}"
    run.send_signal(signal.SIGINT)
    time.sleep(0.3)
    run.send_signal(signal.SIGTERM)
    run.communicate(timeout=30)
    assert not gone_within(str(impl), 2.0), "a worker or a helper pytest outlived the interrupted check"
    if results.exists():
        from graders.harness.core.results import from_json

        (topic,) = from_json(results.read_text())
        assert statuses(topic)[2] != "passed", topic


def test_progress_moves_only_on_real_results(tmp_path):
    def topic(status: str) -> TopicResult:
        task = TaskResult(topic="threads", task=1, title="t", points=2 if status == "passed" else 0, max_points=2,
                          status=status, message="", hint="", file=None, line=None, duration=0.1)
        return TopicResult(topic="threads", title="threads", graded="exercises/threads/", tasks=[task])

    save_progress([topic("passed")], tmp_path)
    for status in ("error", "not-run"):
        save_progress([topic(status)], tmp_path)
        assert load_progress(tmp_path)["threads"].tasks[0].status == "passed"
    save_progress([topic("failed")], tmp_path)
    assert load_progress(tmp_path)["threads"].tasks[0].status == "failed"


# -- 4. nothing outlives a check, whatever kills it; limits ------------------------------------------------------


def test_a_killed_grader_takes_every_worker_and_daemon_with_it(tmp_path):
    marker = f"9{int(time.time() * 1000) % 10**8}"
    daemonising = BASICS_OK.replace(
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
        "    import os, subprocess\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        f"        subprocess.Popen(['sleep', '{marker}'])\n"
        "        os._exit(0)\n"
        "    while True:\n        pass\n"
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
    )
    impl = variant(tmp_path, "threads", {"basics.py": daemonising})
    command = [sys.executable, "-m", "pytest", "graders/threads", "--impl", str(impl), "-k", "start_and_join",
               "--timeout-scale", "10"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not processes_mentioning(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(f"sleep {marker}"), "the daemon never started"
    run.kill()
    run.wait()
    assert not gone_within(f"sleep {marker}", 1.0), "a double-forked daemon outlived the killed grader"
    assert not gone_within(str(impl), 1.0), "a worker outlived the killed grader"


def test_memory_and_process_limits_fail_the_call_with_which_limit(tmp_path):
    student = student_with(tmp_path, """
import os, time
def hog():
    block = bytearray(400 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(30)
def forks():
    for _ in range(20):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
    time.sleep(30)
""", limits=platform.Limits(memory_mib=200, processes=10))
    try:
        with pytest.raises(OverLimit, match="more than 200 MiB of memory"):
            student.run(boundary_probes.call, "victim", "hog", timeout=20)
        student.close()
        with pytest.raises(OverLimit, match="more than 10 processes") as over:
            student.run(boundary_probes.call, "victim", "forks", timeout=20)
        assert "victim.py" in over.value.message
    finally:
        student.close()
    assert not processes_mentioning(str(tmp_path / "code"))


def test_limits_are_checked_when_given():
    assert platform.Limits.parse("memory_mib=2048, processes=8").processes == 8
    with pytest.raises(ValueError, match="limits are"):
        platform.Limits.parse("memory=lots")


@pytest.mark.skipif(not platform.LINUX, reason="workers are forked by a fork server on Linux only")
def test_a_forked_worker_is_as_fresh_and_as_contained_as_a_spawned_one(tmp_path):
    """The fork server (forkserver.py) saves each test a Python start; each test still gets a process of its
    own, which reports how it ended, and a worker that kills the server costs the next test nothing."""
    spares = Spares()
    source = """
import os, signal
seen = []
def remember(value):
    seen.append(value)
    return [os.getpid(), os.getsid(0), list(seen)]
def end(code):
    os._exit(code)
def kill_the_server():
    os.kill(os.getppid(), signal.SIGKILL)
"""
    try:
        first = student_with(tmp_path, source, spares=spares)
        pid, session, seen = first.run(boundary_probes.call, "victim", "remember", 1)
        assert isinstance(first._worker.process, Forked)
        assert (pid, session, seen) == (first.pid, first.pid, [1]), "a forked worker leads a session of its own"
        first.close()
        second = student_with(tmp_path, source, spares=spares)
        other, _, seen = second.run(boundary_probes.call, "victim", "remember", 2)
        assert other != pid and seen == [2], "the second test ran in the first one's process"
        with pytest.raises(StudentError, match="exit code 3"):
            second.run(boundary_probes.call, "victim", "end", 3)
        second.close()
        third = student_with(tmp_path, source, spares=spares)
        with contextlib.suppress(StudentError):  # its own worker is ended with the server, or not yet
            third.run(boundary_probes.call, "victim", "kill_the_server", timeout=2)
        with contextlib.suppress(StudentError):
            third.close()
        fourth = student_with(tmp_path, source, spares=spares)
        assert fourth.run(boundary_probes.call, "victim", "remember", 4)[2] == [4]
        fourth.close()
    finally:
        spares.close()
    assert not gone_within(str(tmp_path / "code"), 1.0), "a fork server outlived its run"


@pytest.mark.skipif(not platform.LINUX, reason="workers are forked by a fork server on Linux only")
def test_a_fork_server_shared_by_a_checks_processes_serves_each_its_own_workers(tmp_path):
    """A split check starts one fork server for its controller and the helpers it forks (`Spares.share`, then
    `keep` in each process). A helper that dies takes its worker with it and leaves the server to the others;
    the controller's close ends everything."""
    source = "import os\ndef parent():\n    return os.getppid()\n"
    spares = Spares()
    key = student_with(tmp_path, source)._key()
    spares.share([key], processes=2)
    report = tmp_path / "helper.txt"
    helper = os.fork()
    if helper == 0:
        try:
            spares.keep(1)
            student = student_with(tmp_path, source, spares=spares)
            server = student.run(boundary_probes.call, "victim", "parent")
            report.write_text(f"{student.pid} {server}")
            time.sleep(60)
        finally:
            os._exit(0)
    try:
        spares.keep(0)
        mine = student_with(tmp_path, source, spares=spares)
        server = mine.run(boundary_probes.call, "victim", "parent")
        deadline = time.monotonic() + 20
        while not report.exists() or not report.read_text():
            assert time.monotonic() < deadline, "the helper's worker never answered"
            time.sleep(0.02)
        helpers_worker, helpers_server = map(int, report.read_text().split())
        assert isinstance(mine._worker.process, Forked)
        assert helpers_server == server, "each process started a fork server of its own"
        os.kill(helper, signal.SIGKILL)
        os.waitpid(helper, 0)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{helpers_worker}").exists():
            assert time.monotonic() < deadline, "the worker of a helper that died outlived it"
            time.sleep(0.02)
        assert mine.run(boundary_probes.call, "victim", "parent") == server
        mine.close()
        again = student_with(tmp_path, source, spares=spares)
        assert again.run(boundary_probes.call, "victim", "parent") == server, "the server left with the helper"
        again.close()
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(helper, signal.SIGKILL)
            os.waitpid(helper, 0)
        spares.close()
    assert not gone_within(str(tmp_path / "code"), 1.0), "the shared fork server outlived its run"


@pytest.mark.skipif(not platform.LINUX, reason="workers are forked by a fork server on Linux only")
def test_a_gevent_worker_is_forked_patched_and_fresh(tmp_path):
    """gevent's fork server patches before it imports anything, as a spawned gevent worker does, and never runs
    gevent's loop itself: each child is patched, runs greenlets, and is a process of its own."""
    source = """
import os
import socket

import gevent
from gevent import monkey

def state():
    greenlet = gevent.spawn(lambda: gevent.sleep(0.01) or os.getpid())
    greenlet.join(2)
    return [os.getpid(), monkey.is_module_patched("socket"), socket.socket.__module__, greenlet.value]
"""
    spares = Spares()
    try:
        seen = []
        for _ in range(2):
            student = student_with(tmp_path, source, spares=spares, gevent=True)
            pid, patched, module, greenlets_pid = student.run(boundary_probes.call, "victim", "state")
            assert isinstance(student._worker.process, Forked), "gevent's worker was spawned, not forked"
            assert patched and module.startswith("gevent"), (patched, module)
            assert greenlets_pid == pid == student.pid
            seen.append(pid)
            student.close()
        assert seen[0] != seen[1], "the second test ran in the first one's process"
    finally:
        spares.close()
    assert not gone_within(str(tmp_path / "code"), 1.0), "gevent's fork server outlived its run"


# -- 6. any shape of bad file gives a per-task message and a results file --------------------------------------


@pytest.mark.parametrize("shape", ["directory", "dangling link", "link loop", "not utf-8", "50 MB"])
def test_a_bad_file_costs_its_tasks_with_a_message(tmp_path, shape):
    impl = variant(tmp_path, "threads", {})
    target = impl / "threads" / "counter.py"
    target.unlink()
    if shape == "directory":
        target.mkdir()
    elif shape == "dangling link":
        target.symlink_to(tmp_path / "nowhere.py")
    elif shape == "link loop":
        target.symlink_to(target)
    elif shape == "not utf-8":
        target.write_bytes('NAME = "计数器"\n'.encode("gbk") + COUNTER_OK.encode())
    else:
        target.write_bytes(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    result, log, _ = grade("threads", impl)
    assert statuses(result)[2] == "failed", log
    assert message(result, 2).strip(), log
    assert statuses(result)[1] == "passed", f"only the tasks of counter.py may fail:\n{log[-2000:]}"


def test_a_bad_sql_file_costs_its_tasks_with_a_message(tmp_path):
    impl = variant(tmp_path, "sql_queries", {})
    sql = impl / "sql_queries" / "queries.sql"
    sql.unlink()
    sql.mkdir()
    result, log, _ = grade("sql_queries", impl)
    assert all(task.status in ("failed", "error") for task in result.tasks), log
    assert "folder" in message(result, 1), log


@pytest.mark.parametrize(("top", "overrun", "line"), [
    ("while True:\n    pass\n", "computed for 1 s of CPU time and had not finished", ("workers.py:1", "workers.py:2")),
    ("import time\ntime.sleep(3600)\n", "did not finish within 5 s", ("workers.py:2",)),
], ids=["computes", "waits"])
def test_a_module_that_never_finishes_importing_is_stopped_after_seconds_not_the_calls_timeout(tmp_path, top,
                                                                                               overrun, line):
    """processes task 1 gives its call 90 s (27 s here); an endless loop at the top of workers.py is stopped
    after a second of CPU time, a wait after the import patience (5 s), named, and the next task that needs the
    module fails at once."""
    workers = (ROOT / "solutions/processes/workers.py").read_text()
    impl = variant(tmp_path, "processes", {"workers.py": top + workers})
    result, _, _ = grade("processes", impl, "-k", "start_and_join_runs or whoami_and_start_named")
    first = message(result, 1)
    assert first.startswith(f"importing workers.py {overrun}"), first
    assert any(f"{place} in <module>: `" in first for place in line), first
    assert "put it inside a function" in first, first
    assert "importing workers.py never finished in an earlier check" in message(result, 2), message(result, 2)


def test_a_module_whose_import_never_ended_is_refused_wherever_it_is_imported_again(tmp_path):
    """queues task 5 imports thread_classes.py, which imports pipeline.py; processes task 4 imports lifecycle.py
    in a child process. Once such an import is known to hang, they fail at once instead of waiting out their
    calls' timeouts (5 s and 30 s) again."""
    pipeline = (ROOT / "solutions/queues/pipeline.py").read_text()
    classes = (ROOT / "solutions/queues/thread_classes.py").read_text()
    impl = variant(tmp_path, "queues", {"pipeline.py": "while True:\n    pass\n" + pipeline,
                                        "thread_classes.py": "import pipeline  # noqa\n" + classes})
    result, _, _ = grade("queues", impl, "-k", "bounded_queue or threads_run_at_once")
    assert "pipeline.py:" in message(result, 1) and "in <module>" in message(result, 1), message(result, 1)
    assert "importing pipeline.py never finished in an earlier check" in message(result, 5), message(result, 5)


# -- 5. a killed run is cleaned by the next one ------------------------------------------------------------------


def dead_owner() -> str:
    """The owner tag of a process that has ended."""
    from graders.harness.core import owners

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return f"{owners.host()}_{owners._base36(finished.pid)}_{owners._base36(12345)}"


def test_leftovers_of_a_dead_run_are_removed_and_a_live_runs_are_kept(mysql_url, redis_server_url,
                                                                      mongodb_server_url):
    import pymongo
    import redis

    from graders.harness.core import owners
    from graders.harness.services import mongodb, mysql
    from graders.harness.services.redis import REDIS_CLAIM, redis_scratch

    dead, live = dead_owner(), owners.this_run()
    admin = mysql.mysql_connect(mysql_url)
    with admin.cursor() as cursor:
        for owner in (dead, live):
            cursor.execute(f"CREATE DATABASE `course_{owner}_x1`")
            cursor.execute(f"CREATE USER 's_{owner}_x1'@'%' IDENTIFIED BY 'p'")
    mysql.remove_leftovers(mysql_url)
    with admin.cursor() as cursor:
        cursor.execute(r"SHOW DATABASES LIKE 'course\_%\_x1'")
        databases = {name for (name,) in cursor.fetchall()}
        cursor.execute(r"SELECT user FROM mysql.user WHERE user LIKE 's\_%\_x1'")
        users = {name for (name,) in cursor.fetchall()}
        cursor.execute(f"DROP DATABASE `course_{live}_x1`")
        cursor.execute(f"DROP USER 's_{live}_x1'@'%'")
    admin.close()
    assert databases == {f"course_{live}_x1"} and users == {f"s_{live}_x1"}

    with pymongo.MongoClient(mongodb_server_url) as client:
        for owner in (dead, live):
            client[f"course_{owner}_x1"].marker.insert_one({"x": 1})
        mongodb.remove_leftovers(mongodb_server_url)
        left = {name for name in client.list_database_names() if name.endswith("_x1")}
        client.drop_database(f"course_{live}_x1")
    assert left == {f"course_{live}_x1"}

    control = redis.Redis.from_url(redis_server_url, db=0)
    stale = next(n for n in range(15, 0, -1) if not control.exists(REDIS_CLAIM.format(n)))
    control.set(REDIS_CLAIM.format(stale), f"{dead}:abcd", ex=600)
    redis.Redis.from_url(redis_server_url, db=stale).set("left-behind", 1)
    with redis_scratch(redis_server_url):
        pass
    assert control.get(REDIS_CLAIM.format(stale)) is None
    assert not redis.Redis.from_url(redis_server_url, db=stale).exists("left-behind")
    control.close()


def test_student_code_holds_no_admin_url_token_or_github_step_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MYSQL_URL", "mysql://root:admin-secret@127.0.0.1:3306")
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path / "github-env"))
    monkeypatch.setenv("GRADERS_TOKEN", "ghp_secret")
    student = student_with(tmp_path, "import os\ndef seen():\n    return dict(os.environ)\n")
    try:
        seen = student.run(boundary_probes.call, "victim", "seen")
    finally:
        student.close()
    assert not {"MYSQL_URL", "GITHUB_ENV", "GRADERS_TOKEN"} & set(seen)
    assert "admin-secret" not in str(seen) and "PATH" in seen


def test_the_reference_solution_is_not_one_import_away(tmp_path):
    student = student_with(tmp_path, "def cheat():\n    from solutions.threads import counter\n    return 1\n"
                                     "def honest():\n    return 2\n")
    try:
        assert student.run(boundary_probes.call, "victim", "honest") == 2
        with pytest.raises(StudentError, match="reference code is not part of your exercise"):
            student.run(boundary_probes.call, "victim", "cheat")
    finally:
        student.close()
