"""Grading a class a teacher can stake grades on: a sandbox per submission, honest grades unchanged by hostile
classmates, a time limit that keeps what was graded, shards merged into one gradebook, and every platform's
format checked against a schema written from its specification."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from graders.harness.core import curriculum
from graders.harness.core.results import TaskResult, TopicResult, from_json
from graders.harness.teacher import gradebook, sandbox
from graders.harness.views import reports

ROOT = curriculum.ROOT
# Where the sandbox cannot run (not root, no bubblewrap) these tests have nothing to test; .ci/run sets
# COURSE_REQUIRE_SANDBOX=1 so that there a missing sandbox fails them instead.
SANDBOXED = pytest.mark.skipif(sandbox.check() is not None and not os.environ.get("COURSE_REQUIRE_SANDBOX"),
                               reason=f"no sandbox here: {sandbox.check()}")


def grade(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "graders.harness.teacher.gradebook", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def rows(out: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


def tasks(out: Path, student: str) -> dict[tuple[str, int], tuple[str, float]]:
    results = from_json((out / f"{student}.json").read_text())
    return {(topic.topic, task.task): (task.status, task.points) for topic in results for task in topic.tasks}


def left_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# -- a hostile classmate ---------------------------------------------------------------------------------------

HOSTILE = '''
import glob, os, signal, sys, time

OUT = {out!r}
MARK = "eve-daemon-{tag}"


OUTCOMES = []


def attempt(what, action):
    try:
        action()
        OUTCOMES.append(f"{{what}}: done")
    except Exception as error:
        OUTCOMES.append(f"{{what}}: refused ({{type(error).__name__}})")


def as_root_drop_every_scratch_database():
    import pymysql
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True,
                            connect_timeout=3)
    with admin.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE 'course%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP DATABASE `{{name}}`")


def empty_every_redis_database():
    import redis
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3)
    client.flushall()


def empty_redis_database_by_database():
    import redis
    for number in range(16):
        redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=3).flushdb()


def start_and_join(target, count):
    raise RuntimeError("attacks: " + "; ".join(OUTCOMES))


def attack():
    """Everything the issue saw a submission do, tried again and again."""
    attempt("mysql root", as_root_drop_every_scratch_database)
    attempt("redis flushall", empty_every_redis_database)
    attempt("redis flushdb", empty_redis_database_by_database)
    stolen = []
    for path in glob.glob("/proc/[0-9]*/environ"):
        try:
            stolen.append(open(path, "rb").read())
        except OSError:
            pass
    for blob in stolen:  # the grader's admin URL, if its environment can be read
        for item in blob.split(b"\\0"):
            if item.startswith(b"MYSQL_URL="):
                try:
                    import pymysql
                    from urllib.parse import urlsplit
                    url = urlsplit(item.split(b"=", 1)[1].decode())
                    admin = pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username or "root",
                                            password=url.password or "", autocommit=True)
                    with admin.cursor() as cursor:
                        cursor.execute("SHOW DATABASES LIKE 'course%'")
                        for (name,) in cursor.fetchall():
                            cursor.execute(f"DROP DATABASE `{{name}}`")
                except Exception:
                    pass
    for pid in glob.glob("/proc/[0-9]*"):
        pid = int(pid.rpartition("/")[2])
        if pid not in (os.getpid(), os.getppid(), 1):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for name in ("gradebook.csv", "alice.json", "eve.json"):
        try:
            with open(os.path.join(OUT, name), "w") as file:
                file.write("eve,999\\n")
        except OSError:
            pass


def copy_the_solutions():
    """Take the reference solution's functions, from wherever a course copy might be."""
    for path in glob.glob("/work/*/solutions/threads/basics.py") + glob.glob({root!r} + "/solutions/threads/*.py"):
        try:
            exec(open(path).read(), globals())
            return True
        except OSError:
            continue
    return False


def leave_a_daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c",
                     "import time, runpy, sys\\nwhile True:\\n    time.sleep(0.2)", MARK])
        os._exit(0)


leave_a_daemon()
attack()
copy_the_solutions()
'''


def _class(folder: Path, out: Path, tag: str) -> Path:
    submissions = folder / "submissions"
    alice = submissions / "alice"  # solves everything
    shutil.copytree(ROOT / "solutions", alice, ignore=shutil.ignore_patterns("__pycache__"))
    bob = submissions / "bob" / "exercises"  # a clone of his repository: threads solved, SQL not
    shutil.copytree(ROOT / "exercises", bob, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions" / "threads", bob / "threads", dirs_exist_ok=True)
    eve = submissions / "eve"  # solves threads task 4 only, attacks everything else
    shutil.copytree(ROOT / "exercises", eve, ignore=shutil.ignore_patterns("__pycache__"))
    hostile = HOSTILE.format(out=str(out), tag=tag, root=str(ROOT))
    (eve / "threads" / "basics.py").write_text((eve / "threads" / "basics.py").read_text() + hostile)
    (eve / "threads" / "echo_server.py").write_text((ROOT / "solutions/threads/echo_server.py").read_text())
    return submissions


@SANDBOXED
def test_a_hostile_submission_changes_no_one_elses_grade_and_earns_only_what_it_solved(tmp_path):
    tag = os.urandom(4).hex()
    out = tmp_path / "gradebook"
    submissions = _class(tmp_path, out, tag)
    alone = tmp_path / "alone"
    shutil.copytree(submissions / "alice", alone / "subs" / "alice")
    first = grade(str(alone / "subs"), "--topics", "threads,sql_queries,redis", "--out", str(alone / "out"),
                  "--no-canary")
    assert first.returncode == 0, first.stderr

    done = grade(str(submissions), "--topics", "threads,sql-queries,redis", "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sandbox: bubblewrap" in done.stdout and "solutions/ earn 46/46" in done.stdout
    assert "mysql/redis behind guards" in done.stdout
    book = rows(out)
    assert tasks(out, "alice") == tasks(alone / "out", "alice"), "alice graded with eve differs from alone"
    assert book["alice"]["total"] == "46" and book["alice"]["status"] == "graded"
    assert book["bob"]["threads"] == "13" and book["bob"]["sql-queries"] == "0", book["bob"]
    eve = tasks(out, "eve")
    assert {key for key, (status, _) in eve.items() if status == "passed"} <= {("threads", 3), ("threads", 4)}, eve
    assert eve[("threads", 1)][0] == "failed", "eve cannot have copied the reference solution"
    (threads,) = [topic for topic in from_json((out / "eve.json").read_text()) if topic.topic == "threads"]
    attacks = threads.tasks[0].message
    for what in ("mysql root", "redis flushall", "redis flushdb"):
        assert f"{what}: refused" in attacks, attacks
    assert set(book) == {"alice", "bob", "eve"} and "999" not in (out / "gradebook.csv").read_text()
    assert not left_running(f"eve-daemon-{tag}"), "eve's daemon outlived her grading"
    assert not sandbox.processes_of(range(sandbox.UID_BASE, sandbox.UID_BASE + 10))
    report = (out / "report.md").read_text()
    assert "| threads · 1:" in report and (out / "report.html").read_text().startswith("<!DOCTYPE html>")


@SANDBOXED
def test_every_topic_grades_in_the_sandbox_as_it_does_on_a_laptop(tmp_path):
    """The canary of a whole-course class run: solutions/ must earn every point in the sandbox (pid and network
    namespaces, hidden probes sent as source, services behind guards) and an untouched stub none."""
    shutil.copytree(ROOT / "exercises", tmp_path / "subs" / "stub", ignore=shutil.ignore_patterns("__pycache__"))
    possible = sum(topic.points for topic in curriculum.topics() if topic.available)
    done = grade(str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert done.returncode == 0 and f"solutions/ earn {possible:g}/{possible:g}" in done.stdout, done.stderr
    assert rows(tmp_path / "out")["stub"]["total"] == "0"


@SANDBOXED
def test_in_the_sandbox_a_module_that_loops_at_import_is_stopped_after_a_cpu_second_and_located(tmp_path):
    """The grader asks a sandboxed worker for its stacks as it asks any other (SIGUSR1, to the worker's pid as
    seen from outside its namespace), so the student learns where the loop is, not only that there is one."""
    logging = tmp_path / "subs" / "looper" / "logging"
    shutil.copytree(ROOT / "exercises" / "logging", logging, ignore=shutil.ignore_patterns("__pycache__"))
    (logging / "log_setup.py").write_text("while True:\n    pass\n")
    done = grade(str(tmp_path / "subs"), "--topics", "logging", "--no-canary", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    first = from_json((tmp_path / "out" / "looper.json").read_text())[0].tasks[0]
    assert first.message.startswith("importing log_setup.py computed for 1 s of CPU time"), first.message
    assert "stuck at logging/log_setup.py:" in first.message and "in <module>" in first.message, first.message


@SANDBOXED
def test_the_sandbox_shows_no_solutions_hidden_graders_home_or_other_submissions(tmp_path):
    view = sandbox.ClassView(tmp_path / "view")
    source = tmp_path / "sub"
    shutil.copytree(ROOT / "exercises" / "threads", source / "threads")
    (source / "threads" / "link.py").symlink_to(ROOT / "solutions" / "threads" / "basics.py")
    box = view.submission(3, source)
    other = view.submission(4, source)
    looks = ("import os, sys\nfor p in sys.argv[1:]:\n    print(p, os.path.exists(p), os.access(p, os.R_OK))\n"
             "print('uid', os.getuid(), os.getgroups())")
    another_copy = ROOT.parent / f".another-course-copy-{os.getpid()}"  # a teacher's second checkout, say
    (another_copy / "solutions").mkdir(parents=True)
    paths = [ROOT / "solutions", ROOT / "tests", ROOT / ".git", ROOT / "graders/threads/test_threads_hidden.py",
             ROOT / "graders/threads/mutants", ROOT / "graders/threads/probes.py", Path.home() / ".bashrc",
             ROOT / "graders/nonblocking/probes_hidden.py",
             other.code, box.code / "threads" / "basics.py", box.code / "threads" / "link.py",
             another_copy / "solutions"]
    try:
        seen = subprocess.run([*box.wrapper(), sys.executable, "-c", looks, *map(str, paths)], capture_output=True,
                              text=True, timeout=60, cwd=box.work)
    finally:
        shutil.rmtree(another_copy)
    lines = dict(line.split(" ", 1) for line in seen.stdout.splitlines())
    assert lines.pop("uid") == f"{sandbox.UID_BASE + 3} []", seen.stderr
    visible = {path for path, answer in lines.items() if answer.startswith("True")}
    assert visible == {str(ROOT / "graders/threads/probes.py"), str(box.code / "threads" / "basics.py")}, seen.stdout
    assert not (box.code / "threads" / "link.py").resolve().is_relative_to(ROOT), "a link out was kept"
    assert oct(box.code.stat().st_mode & 0o777) == "0o750" and box.code.stat().st_gid == sandbox.UID_BASE + 3


@SANDBOXED
def test_a_time_limit_keeps_the_tasks_graded_before_it_and_stops_everything(tmp_path):
    """logging's tasks 1-4 (setup_logger) are graded before task 5 (divide_ten_by), which here starts a daemon
    that spins and then spins itself, far past the class's limit."""
    tag = os.urandom(4).hex()
    slow = tmp_path / "subs" / "slow"
    shutil.copytree(ROOT / "solutions", slow, ignore=shutil.ignore_patterns("__pycache__"))
    spin = ("    import os, sys\n    if os.fork() == 0:\n        os.setsid()\n"
            f"        os.execv(sys.executable, [sys.executable, '-c', 'while True: pass', 'spinner-{tag}'])\n"
            "    while True:\n        pass\n")
    setup = slow / "logging" / "log_setup.py"
    signature = "def divide_ten_by(a: float, logger: logging.Logger) -> float | None:\n"
    assert signature in setup.read_text()
    setup.write_text(setup.read_text().replace(signature, signature + spin))
    out = tmp_path / "out"
    done = grade(str(tmp_path / "subs"), "--topics", "logging", "--out", str(out), "--no-canary", "--limit", "25",
                 "--timeout-scale", "100")
    assert done.returncode == 0, done.stderr
    (topic,) = from_json((out / "slow.json").read_text())
    assert [task.status for task in topic.tasks[:4]] == ["passed"] * 4, [task.message for task in topic.tasks]
    assert topic.tasks[4].status == "not-run" and topic.tasks[4].message.startswith(gradebook.TIME_LIMIT)
    row = rows(out)["slow"]
    assert row["status"].startswith("time limit") and row["logging"] == f"{sum(t.points for t in topic.tasks):g}"
    assert not left_running(f"spinner-{tag}"), "the student's loop kept running after the limit"


def test_shards_of_a_class_merge_into_one_gradebook(tmp_path):
    subs = tmp_path / "subs"
    for name in ("ann", "ben", "cat"):
        shutil.copytree(ROOT / "exercises" / "threads", subs / name / "threads")
    shutil.copy(ROOT / "solutions/threads/basics.py", subs / "ben" / "threads" / "basics.py")
    mode = [] if sandbox.check() is None else ["--no-sandbox"]
    for shard in ("1/2", "2/2"):
        done = grade(str(subs), "--topics", "threads", "--shard", shard, "--out", str(tmp_path / shard[0]),
                     "--no-canary", *mode)
        assert done.returncode == 0, done.stderr
    assert set(rows(tmp_path / "1")) == {"ann", "cat"} and set(rows(tmp_path / "2")) == {"ben"}
    merged = grade("--merge", str(tmp_path / "1"), str(tmp_path / "2"), "--out", str(tmp_path / "all"))
    assert merged.returncode == 0, merged.stderr
    book = rows(tmp_path / "all")
    assert {name: row["total"] for name, row in book.items()} == {"ann": "0", "ben": "3", "cat": "0"}
    assert {p.name for p in (tmp_path / "all").glob("*.json")} == {"ann.json", "ben.json", "cat.json"}
    again = grade("--merge", str(tmp_path / "1"), str(tmp_path / "1"), "--out", str(tmp_path / "twice"))
    assert again.returncode == 2 and "graded by two shards" in again.stderr


def test_topics_are_slugs_or_folders_and_unknown_ones_are_refused():
    assert [t.slug for t in gradebook.parse_topics("threads,sql_queries")] == ["sql-queries", "threads"]
    assert [t.slug for t in gradebook.parse_topics("sql-queries")] == ["sql-queries"]
    with pytest.raises(ValueError, match=r"'thread' is not a topic.*choose from: .*threads"):
        gradebook.parse_topics("threads,thread")
    with pytest.raises(ValueError, match="K/N"):
        gradebook.parse_shard("3/2")


def test_without_root_or_bubblewrap_the_class_run_refuses_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    assert sandbox.check() == ("the sandbox needs bwrap, setpriv and unshare (Debian/Ubuntu: apt-get install "
                               "bubblewrap util-linux)")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert "needs root" in sandbox.check()
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = subprocess.run([sys.executable, "-m", "graders.harness.teacher.gradebook", str(tmp_path / "subs"),
                           "--topics", "threads", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--no-sandbox" in done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_per_student_results_name_files_relative_to_the_submission(tmp_path):
    copy = tmp_path / "private" / "code"
    task = TaskResult("threads", 2, "race", 0, 3, "failed", f"boom\n  at {copy}/threads/counter.py:9 in f: `x`",
                      "hint", f"{copy}/threads/counter.py", 9)
    (topic,) = gradebook.relative([TopicResult("threads", "t", f"{copy}/threads/", [task])], copy, "exercises/")
    assert topic.graded == "exercises/threads/" and topic.tasks[0].file == "exercises/threads/counter.py"
    assert str(copy) not in topic.tasks[0].message
    (line,) = reports.annotations([topic])
    assert line.startswith("::error file=exercises/threads/counter.py,line=9,")


# -- platform formats, each checked against a schema written from its specification ----------------------------

GRADESCOPE_TEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
        "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "number": {"type": "string"}, "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "extra_data": {"type": "object"},
    },
}
GRADESCOPE = {  # gradescope/autograder_samples docs/specs.md, "Output Format"
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "extra_data": {"type": "object"}, "tests": {"type": "array", "items": GRADESCOPE_TEST},
        "leaderboard": {"type": "array"},
    },
    # "score" is optional only when every test has one
    "anyOf": [{"required": ["score"]}, {"properties": {"tests": {"items": {"required": ["score"]}}}}],
}
EXERCISM = {  # exercism/docs building/tooling/test-runners/interface.md, version 3
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "status", "tests"],
    "properties": {
        "version": {"const": 3},
        "status": {"enum": ["pass", "fail", "error"]},
        "message": {"type": ["string", "null"]},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "status", "test_code"],
            "properties": {
                "name": {"type": "string"}, "status": {"enum": ["pass", "fail", "error"]},
                "message": {"type": ["string", "null"]}, "output": {"type": ["string", "null"], "maxLength": 500},
                "test_code": {"type": "string"}, "task_id": {"type": "integer", "minimum": 1},
            },
            # a failing or erroring test says why
            "if": {"properties": {"status": {"enum": ["fail", "error"]}}},
            "then": {"required": ["message"], "properties": {"message": {"type": "string", "minLength": 1}}},
        }},
    },
    "if": {"properties": {"status": {"const": "error"}}},
    "then": {"required": ["message"], "properties": {"message": {"type": "string"}}},
}
CLASSROOM_RUNNER = {  # classroom-resources/autograding-grading-reporter: a runner's decoded result
    "type": "object",
    "required": ["version", "status", "max_score", "tests"],
    "properties": {
        "version": {"const": 1}, "status": {"enum": ["pass", "fail", "error"]},
        "max_score": {"type": "number", "minimum": 0},
        "tests": {"type": "array", "items": {"type": "object", "required": ["name", "status", "score"]}},
    },
}


def _mixed() -> list[TopicResult]:
    """Two topics with every status, a failure without a message, and a task that has a hidden check."""
    def task(topic, number, status, points, message="", tests=()):
        return TaskResult(topic, number, f"task {number}", points, 3, status, message, "a hint",
                          tests=list(tests))
    threads = TopicResult("threads", "Threads", "threads/", [
        task("threads", 1, "passed", 3, tests=["test_start_and_join_runs_every_index_in_its_own_thread"]),
        task("threads", 2, "failed", 0, tests=["test_counter_loses_no_update_from_four_threads",
                                               "test_the_counter_survives_many_threads_hidden"]),
        task("threads", 3, "error", 0, "MySQL is not reachable"),
        task("threads", 4, "not-run", 0, "not graded: time limit (600 s for the whole submission)"),
    ])
    queries = TopicResult("sql-queries", "SQL", "sql_queries/", [task("sql-queries", 1, "failed", 0, "wrong rows")])
    return [threads, queries]


def test_gradescope_results_follow_the_spec_and_do_not_fail_ungraded_tasks(monkeypatch):
    monkeypatch.setattr(reports, "hidden_tests",
                        lambda: {"threads": {"test_the_counter_survives_many_threads_hidden"}})
    document = reports.gradescope(_mixed())
    jsonschema.validate(document, GRADESCOPE)
    by_number = {test["number"]: test for test in document["tests"]}
    assert by_number["threads.1"]["status"] == "passed" and by_number["threads.2"]["status"] == "failed"
    for number in ("threads.3", "threads.4"):
        assert "status" not in by_number[number] and "score" not in by_number[number]
        assert by_number[number]["output"].startswith("Not graded")
    assert by_number["threads.2"]["visibility"] == "after_published"
    assert by_number["threads.1"]["visibility"] == "visible"
    assert document["score"] == 3 and "not counted as failed" in document["output"]


def test_exercism_results_follow_v3_one_file_per_topic_with_the_graders_code(tmp_path):
    results = tmp_path / "results.json"
    from graders.harness.core.results import to_json

    results.write_text(to_json(_mixed()))
    done = subprocess.run([sys.executable, "-m", "graders.harness.views.reports", "exercism", str(results), "-o",
                           str(tmp_path / "ex")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    files = sorted(path.relative_to(tmp_path / "ex").as_posix() for path in (tmp_path / "ex").rglob("*.json"))
    assert files == ["sql-queries/results.json", "threads/results.json"]
    for path in (tmp_path / "ex").rglob("results.json"):
        document = json.loads(path.read_text())
        jsonschema.validate(document, EXERCISM)
        ids = [test["task_id"] for test in document["tests"]]
        assert len(ids) == len(set(ids)), "task ids repeat within one file"
    threads = json.loads((tmp_path / "ex" / "threads" / "results.json").read_text())
    first = next(test["test_code"] for test in threads["tests"] if not test["test_code"].startswith("#"))
    assert first.lstrip().startswith(("@", "def test_")) and "(student" in first, "test_code holds the test's body"
    assert threads["tests"][1]["message"], "a fail without a message"


def test_classroom_runners_follow_the_reporters_format(tmp_path):
    for payload in reports.classroom(_mixed()).values():
        jsonschema.validate(payload, CLASSROOM_RUNNER)


def test_the_classroom_workflow_has_the_names_classroom_needs():
    text = (ROOT / ".github/workflows/classroom.yml").read_text()
    assert "\nname: Autograding Tests\n" in text
    jobs = text.split("\njobs:\n", 1)[1]
    assert [line.strip() for line in jobs.splitlines() if line.startswith("  ") and not line.startswith("   ")] \
        == ["run-autograding-tests:"]


def test_the_gradescope_zip_holds_the_course_and_hidden_graders_but_no_reference_code(tmp_path):
    target = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "graders.harness.teacher.gradescope", "build", str(target)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        for script in ("setup.sh", "run_autograder"):
            assert archive.getinfo(script).external_attr >> 16 & 0o111, f"{script} must be executable"
            (tmp_path / script).write_bytes(archive.read(script))
            assert subprocess.run(["bash", "-n", str(tmp_path / script)]).returncode == 0
    assert "course/graders/threads/test_threads_hidden.py" in names
    assert "course/graders/harness/plugin.py" in names and "course/curriculum.toml" in names
    assert not any(n.startswith(("course/solutions/", "course/tests/")) or "/mutants/" in n
                   or n.endswith("mutants.toml") for n in names)


def test_the_export_is_the_committed_tree_and_refuses_uncommitted_exercises(tmp_path):
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    (clone / "graders" / "notes_untracked.py").write_text("SECRET = 1\n")
    stub = clone / "exercises" / "threads" / "basics.py"
    exported = subprocess.run([sys.executable, "-m", "graders.harness.teacher.export", str(tmp_path / "a")],
                              cwd=clone, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert not (tmp_path / "a" / "graders" / "notes_untracked.py").exists()
    stub.write_text((ROOT / "solutions/threads/basics.py").read_text())  # the teacher tried the exercise
    refused = subprocess.run([sys.executable, "-m", "graders.harness.teacher.export", str(tmp_path / "b")],
                             cwd=clone, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "exercises/threads/basics.py" in refused.stderr
    assert "uncommitted" in refused.stderr and not (tmp_path / "b").exists()
