"""The harness under bad input: every case ends in a clear message for the student, costs only its own
task, and leaves nothing running.

Each case copies a solution, breaks one file the way a student might, and grades the copy exactly as
`nox -s check-<topic>` would (a separate pytest run), then reads the results it wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders.harness.core import curriculum, platform
from graders.harness.core.results import TopicResult, from_json
from graders.harness.core.student import Implementation, Student, TimedOut

ROOT = curriculum.ROOT
FAST = "0.3"  # --timeout-scale: a 5 s limit becomes 1.5 s, so the hanging cases stay quick


def variant(tmp_path: Path, topic: str, files: dict[str, str]) -> Path:
    """A copy of solutions/<topic> with `files` replaced, laid out like exercises/."""
    impl = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions" / topic, impl / topic)
    for name, text in files.items():
        (impl / topic / name).write_text(text, encoding="utf-8")
    return impl


def grade(topic: str, impl: Path, *args: str, env: dict[str, str] | None = None) -> tuple[TopicResult, str, int]:
    results = impl.parent / "results.json"
    command = [sys.executable, "-m", "pytest", f"graders/{topic}", "--impl", str(impl), "--results-json", str(results)]
    run = subprocess.run(
        [*command, "--timeout-scale", FAST, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1", **(env or {})},
    )
    log = run.stdout + run.stderr
    assert results.exists(), f"no results written:\n{log[-3000:]}"
    (result,) = from_json(results.read_text(encoding="utf-8"))
    return result, log, run.returncode


def statuses(result: TopicResult) -> dict[int, str]:
    return {task.task: task.status for task in result.tasks}


def message(result: TopicResult, task: int) -> str:
    return result.tasks[task - 1].message


def processes_mentioning(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and str(os.getpid()) != entry.name:
                found.append(f"{entry.name}: {cmdline}")
    return found


COUNTER_OK = (ROOT / "solutions/threads/counter.py").read_text()
BASICS_OK = (ROOT / "solutions/threads/basics.py").read_text()


def test_a_syntax_error_fails_only_the_tasks_of_that_file(tmp_path):
    impl = variant(tmp_path, "threads", {"counter.py": COUNTER_OK.replace("def increment(self)", "def increment(self")})
    result, log, code = grade("threads", impl)
    assert statuses(result) == {1: "passed", 2: "failed", 3: "passed", 4: "passed", 5: "passed", 6: "passed"}, log
    task = result.tasks[1]
    line = COUNTER_OK.splitlines().index("    def increment(self) -> None:") + 1
    assert "SyntaxError" in task.message and task.file.endswith("counter.py") and task.line == line, task
    assert code == 1


def test_a_misspelt_function_is_named(tmp_path):
    impl = variant(tmp_path, "threads", {"basics.py": BASICS_OK.replace("def fetch_all(", "def fetch_al(")})
    result, _, _ = grade("threads", impl)
    assert statuses(result)[4] == "failed"
    assert "defines no `fetch_all`" in message(result, 4), message(result, 4)


def test_an_infinite_loop_times_out_and_says_where(tmp_path):
    setup = (ROOT / "solutions/logging/log_setup.py").read_text()
    looping = setup.replace("        num = 10 / a\n", "        num = 10 / a\n        while True:\n            a += 1\n")
    impl = variant(tmp_path, "logging", {"log_setup.py": looping})
    result, _, _ = grade("logging", impl)
    text = message(result, 5)
    loop = looping.splitlines().index("        while True:") + 1
    # The stack is sampled mid-loop: either line of the loop is where it was stuck.
    assert "timed out after 1.5 s" in text, text
    assert f"log_setup.py:{loop} in divide_ten_by: `while True:`" in text or (
        f"log_setup.py:{loop + 1} in divide_ten_by: `a += 1`" in text
    ), text
    assert [task.status for task in result.tasks[:4]] == ["passed"] * 4, "only the looping task may fail"


def test_a_deadlock_times_out_and_names_each_stuck_thread(tmp_path):
    deadlock = COUNTER_OK.replace("        with self._lock:\n", "        with self._lock, self._lock:\n")
    impl = variant(tmp_path, "threads", {"counter.py": deadlock})
    result, _, _ = grade("threads", impl, "-k", "counter")
    text = message(result, 2)
    assert "timed out" in text and "threads stuck" in text and "counter.py:12 in increment" in text, text


def test_a_crash_in_a_thread_fails_the_task(tmp_path):
    crashing = BASICS_OK.replace("results[index] = fetch(items[index])", "results[index] = fetch(items[index]) / 0")
    impl = variant(tmp_path, "threads", {"basics.py": crashing})
    result, _, _ = grade("threads", impl, "-k", "fetch_all")
    text = message(result, 4)
    line = next(n for n, text in enumerate(crashing.splitlines(), 1) if "/ 0" in text)
    assert "a thread crashed" in text and "TypeError" in text and f"basics.py:{line}" in text, text


def test_sys_exit_and_os_exit_each_cost_one_task(tmp_path):
    leaving = BASICS_OK.replace('    results: list[Any] = [None] * len(items)', "    raise SystemExit(3)")
    leaving = leaving.replace("    for thread in threads:\n        thread.start()", "    import os\n    os._exit(7)", 1)
    impl = variant(tmp_path, "threads", {"basics.py": leaving})
    result, log, _ = grade("threads", impl)
    assert statuses(result) == {1: "failed", 2: "passed", 3: "passed", 4: "failed", 5: "passed", 6: "passed"}, log
    assert "ended during" in message(result, 1) and "(exit code 7)" in message(result, 1), message(result, 1)
    assert "sys.exit(3) was called" in message(result, 4)


def test_megabytes_of_output_stop_the_code_with_a_message(tmp_path):
    chatty = COUNTER_OK.replace("        with self._lock:\n", "        print('x' * 5000)\n        with self._lock:\n")
    impl = variant(tmp_path, "threads", {"counter.py": chatty})
    result, log, _ = grade("threads", impl, "-k", "counter")
    text = message(result, 2)
    assert "printed more than 1 MiB" in text and "xxxxx" in text, text
    assert len(log) < 20_000, "the student's output must not flood the report"


def test_child_processes_of_student_code_do_not_survive_the_test(tmp_path):
    marker = f"{time.time():.6f}"[-9:]
    spawning = BASICS_OK.replace(
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
        f"    import subprocess\n    subprocess.Popen(['sleep', '3{marker}'])\n"
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
    )
    impl = variant(tmp_path, "threads", {"basics.py": spawning})
    result, log, _ = grade("threads", impl, "-k", "start_and_join")
    assert statuses(result)[1] == "passed", log
    assert not processes_mentioning(f"3{marker}"), "a child process of the student's code survived"
    assert not processes_mentioning(str(impl)), "a worker process survived"


def grader_threads() -> int:
    """Threads of this process, without the one that starts every worker (it lives as long as the process)."""
    return sum(1 for thread in threading.enumerate() if not thread.name.startswith("worker-launcher"))


def test_a_program_that_dies_in_a_stub_just_after_listening_is_not_done_yet(tmp_path):
    """gevent task 4 runs echo_server.py as a program; a stub's serve() raises right after listen(), and a client
    the listening socket had already taken then finds the connection reset. The message must be the stub's "not
    done yet", not "could not connect" or "never echoed", however the race between the two goes."""
    echo_server = (ROOT / "solutions/gevent/echo_server.py").read_text()
    unwritten = echo_server.replace(
        '    while True:\n        sock, _addr = server.accept()\n        gevent.spawn(worker, sock)\n',
        '    import time\n\n    time.sleep(0.3)\n    raise NotImplementedError("task 3")\n',
    )
    assert unwritten != echo_server
    impl = variant(tmp_path, "gevent", {"echo_server.py": unwritten})
    result, log, _ = grade("gevent", impl, "-k", "program_patches")
    assert message(result, 4).startswith("not done yet: `python echo_server.py` stopped where"), message(result, 4)
    assert "NotImplementedError (task 3)" in message(result, 4), log[-2000:]


def test_a_student_server_releases_its_port_and_threads(tmp_path):
    impl = variant(tmp_path, "threads", {})
    graded = Implementation("threads", (impl / "threads",))
    threads_before, fds_before = grader_threads(), len(os.listdir("/proc/self/fd"))
    from graders.harness.core.network import free_port
    from graders.threads import probes

    port = free_port()
    student = Student(graded, tmp_path)
    student.run(probes.start_echo_server, port)
    student.close()
    assert grader_threads() == threads_before
    assert len(os.listdir("/proc/self/fd")) == fds_before
    with pytest.raises(ConnectionRefusedError):
        __import__("socket").create_connection(("127.0.0.1", port), timeout=1)


def test_a_timeout_leaves_nothing_behind_in_the_grading_process(tmp_path):
    from tests import boundary_probes

    code = tmp_path / "code"
    code.mkdir()
    (code / "counter.py").write_text("import time\nclass Counter:\n    def __init__(self):\n        time.sleep(60)\n")
    threads_before, fds_before = grader_threads(), len(os.listdir("/proc/self/fd"))
    student = Student(Implementation("counter", (code,)), tmp_path)
    with pytest.raises(TimedOut) as timed_out:
        student.run(boundary_probes.call, "counter", "Counter", timeout=0.5)
    assert "counter.py:4 in __init__: `time.sleep(60)`" in timed_out.value.message
    student.close()
    assert grader_threads() == threads_before
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert not processes_mentioning(str(code))


def test_a_wrong_type_is_a_student_error_not_a_grader_crash(tmp_path):
    lazy = BASICS_OK.replace("    return results", "    return (result for result in results)")
    impl = variant(tmp_path, "threads", {"basics.py": lazy})
    result, log, _ = grade("threads", impl, "-k", "fetch_all")
    assert statuses(result)[4] == "failed" and "generator" in message(result, 4), log


# -- SQL --------------------------------------------------------------------------------------------------------

QUERIES_OK = (ROOT / "solutions/sql_queries/queries.sql").read_text()


def test_an_sql_syntax_error_names_the_statement_and_the_server_message(tmp_path):
    broken = QUERIES_OK.replace("select class_id, count(*) from student", "selec class_id, count(*) from student")
    impl = variant(tmp_path, "sql_queries", {"queries.sql": broken})
    result, log, _ = grade("sql_queries", impl)
    assert statuses(result) == {1: "passed", 2: "passed", 3: "passed", 4: "failed", 5: "passed", 6: "passed"}, log
    text = message(result, 4)
    assert "`big_classes` failed on" in text and "(1064)" in text, text
    assert result.tasks[3].file.endswith("queries.sql") and result.tasks[3].line > 1


def test_wrong_rows_point_at_their_statement_and_every_failing_statement_is_listed(tmp_path):
    wrong = QUERIES_OK.replace("like '张%'", "like '张'").replace("like '李_'", "like '李%'")
    wrong = wrong.replace("where name like '李%'", "where name like '李%' and age < 0")
    impl = variant(tmp_path, "sql_queries", {"queries.sql": wrong})
    result, log, _ = grade("sql_queries", impl)
    task = result.tasks[0]
    assert task.status == "failed", log
    lines = wrong.splitlines()
    assert lines[task.line - 1] == "-- name: zhang_students", (task.file, task.line)
    other = lines.index("-- name: two_char_li") + 1
    assert "also failing:" in task.message and f"queries.sql:{other}: `two_char_li` returned" in task.message, (
        task.message
    )


def test_an_assertion_about_a_statement_points_at_it(tmp_path):
    renamed = QUERIES_OK.replace("select id 学号, name 姓名", "select id, name")
    impl = variant(tmp_path, "sql_queries", {"queries.sql": renamed})
    result, log, _ = grade("sql_queries", impl)
    task = result.tasks[0]
    assert task.status == "failed" and "学号" in task.message, log
    assert renamed.splitlines()[task.line - 1] == "-- name: zhang_students", (task.file, task.line)


def test_drop_database_in_student_sql_harms_nothing(tmp_path):
    hostile = QUERIES_OK.replace(
        "select * from student where age > (select avg(age) from student);", "drop database test;"
    )
    impl = variant(tmp_path, "sql_queries", {"queries.sql": hostile})
    result, _, _ = grade("sql_queries", impl)
    assert statuses(result)[5] == "failed" and "denied" in message(result, 5).lower(), message(result, 5)
    assert sum(status == "passed" for status in statuses(result).values()) == 5
    assert "test" in scratch_names("show databases", scratch_only=False), "`drop database test` went through"
    # Other grading runs may share this server: a name that is still there seconds later was left behind.
    databases, users = scratch_names("show databases"), scratch_names("select user from mysql.user")
    time.sleep(3)
    assert not databases & scratch_names("show databases"), "a scratch database was left behind"
    assert not users & scratch_names("select user from mysql.user"), "a scratch user was left behind"


def scratch_names(query: str, scratch_only: bool = True) -> set[str]:
    import pymysql

    with pymysql.connect(host="127.0.0.1", user="root", ssl_disabled=True) as admin, admin.cursor() as cursor:
        cursor.execute(query)
        names = {row[0] for row in cursor.fetchall()}
    return {name for name in names if name.startswith(("course_", "student_")) or not scratch_only}


def test_a_service_that_is_down_is_an_infrastructure_error_not_a_lost_point(tmp_path):
    impl = variant(tmp_path, "sql_queries", {})
    result, log, code = grade("sql_queries", impl, env={"MYSQL_URL": "mysql://root@127.0.0.1:9"})
    assert set(statuses(result).values()) == {"error"}, log
    assert "mysql does not answer at MYSQL_URL=mysql://root@127.0.0.1:9" in message(result, 1)
    assert "docker compose up -d --wait mysql" in message(result, 1)
    assert code != 0


def test_a_megabyte_argument_reaches_the_worker_whatever_the_default_socket_timeout(tmp_path):
    import socket

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # as the plugin sets it for graders
    try:
        student = Student(Implementation("threads", (ROOT / "solutions" / "threads",)), tmp_path)
        payload = "数据" * 500_000
        assert student.run(len, payload) == len(payload)
        student.close()
    finally:
        socket.setdefaulttimeout(previous)


def test_a_child_that_leaves_the_process_group_is_killed_too(tmp_path):
    marker = f"{time.time():.6f}"[-9:]
    escaping = BASICS_OK.replace(
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
        f"    import subprocess\n    subprocess.Popen(['sleep', '4{marker}'], start_new_session=True)\n"
        "    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]",
    )
    impl = variant(tmp_path, "threads", {"basics.py": escaping})
    result, log, _ = grade("threads", impl, "-k", "start_and_join")
    assert statuses(result)[1] == "passed", log
    deadline = time.monotonic() + 1.0  # a SIGKILLed process may take a moment to leave /proc on a busy machine
    while processes_mentioning(f"4{marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_mentioning(f"4{marker}"), "a child in a session of its own survived"


def test_a_grader_that_cannot_be_imported_makes_its_tasks_errors_not_a_silent_run(tmp_path):
    """A broken grader file is the course's bug: its tasks say so and the student is not blamed."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ("curriculum.toml", "pyproject.toml"):
        shutil.copy(ROOT / name, course / name)
    shutil.copytree(ROOT / "graders", course / "graders", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "exercises" / "coroutines", course / "exercises" / "coroutines")
    grader = course / "graders" / "coroutines" / "test_coroutines.py"
    grader.write_text(grader.read_text(encoding="utf-8") + "\nimport a_module_nobody_has\n", encoding="utf-8")
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "graders/coroutines", "--results-json", str(results)],
                         cwd=course, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1"})
    (result,) = from_json(results.read_text(encoding="utf-8"))
    assert {task.status for task in result.tasks} == {"error"}, run.stdout
    assert "a_module_nobody_has" in result.tasks[0].message
    assert run.returncode != 0 and "error during collection" not in run.stdout


@pytest.mark.parametrize("start", ["fork", "spawn"] if platform.LINUX else ["spawn"])
def test_a_check_in_several_processes_grades_every_task_as_one_process_does(tmp_path, start):
    """--jobs 2: the tests are shared out between this pytest and a helper (forked from it on Linux, a pytest of
    its own elsewhere); the result is the same, and only the controller speaks."""
    helpers = {"GRADE_HELPER_START": start}
    stub = tmp_path / "stub" / "submission"
    shutil.copytree(ROOT / "exercises" / "coroutines", stub / "coroutines")
    alone, alone_log, _ = grade("coroutines", stub)
    shared, log, _ = grade("coroutines", stub, "--jobs", "2", env=helpers)
    assert [(t.task, t.status, t.message) for t in shared.tasks] == [(t.task, t.status, t.message) for t in alone.tasks]
    assert log.count("score ") == alone_log.count("score ") == 1, log
    solved, log, _ = grade("coroutines", variant(tmp_path, "coroutines", {}), "--jobs", "3", env=helpers)
    assert solved.points == solved.max_points, log
    assert not processes_mentioning(str(tmp_path)), "a helper outlived the check"


@pytest.mark.parametrize("mutant", ["", "threads_without_threads", "results_in_the_parents_list"])
def test_a_task_split_between_processes_is_judged_on_all_its_tests(tmp_path, mutant):
    """Task 5's two tests (run_in_threads, run_in_processes), with --jobs 2: one runs in this pytest, the other
    in a helper. The task passes only when both do, and fails with the message of the one that failed, in
    whichever process it ran (the first mutant fails run_in_threads, the second run_in_processes). The check's
    exit code says so too, wherever the failure was: it is what nox, and so the student, calls success."""
    impl = variant(tmp_path, "threads", {})
    chosen = ["--mutant", mutant] if mutant else []
    result, log, code = grade("threads", impl, "-k", "run_in_threads or run_in_processes", "--jobs", "2",
                              "--view", "pytest", *chosen)
    task = result.tasks[4]
    assert len(task.tests) == 2 and re.search(r"(?<!\d)1 (passed|failed)", log), log  # one of the two ran here
    if not mutant:
        assert task.status == "passed" and code == 0, task.message
    else:
        assert task.status == "failed", log
        assert code == 1, f"a failed task, and the check exits with {code}: nox would call it successful"
        from graders.harness.core import mutants

        assert mutants.mutants_of("threads")[mutant].says in task.message, task.message


@pytest.mark.skipif(not hasattr(os, "fork"), reason="helpers are forked only where there is fork")
def test_forked_processes_take_every_test_from_the_queue_once(tmp_path):
    from graders.harness.core import parallel

    queue = parallel.TestQueue(list(range(300)))
    children = []
    for number in range(2):
        pid = os.fork()
        if pid == 0:
            taken = []
            while (index := queue.take()) is not None:
                taken.append(index)
                time.sleep(0.001)
            (tmp_path / f"{number}.txt").write_text(" ".join(map(str, taken)))
            os._exit(0)
        children.append(pid)
    mine = []
    while (index := queue.take()) is not None:
        mine.append(index)
        time.sleep(0.001)
    for pid in children:
        os.waitpid(pid, 0)
    theirs = [int(word) for number in range(2) for word in (tmp_path / f"{number}.txt").read_text().split()]
    assert sorted(mine + theirs) == list(range(300)) and mine and theirs, (len(mine), len(theirs))


def test_a_test_taken_from_the_queue_is_torn_down_as_far_as_any_next_test_needs():
    """stand_ins: each test names one that shares only what every test shares, so that whatever test comes next
    finds what it needs set up, and nothing of the test before."""
    from graders.harness.core import parallel

    session, folder, first, second = object(), object(), object(), object()
    chains = {"a1": [session, folder, first], "a2": [session, folder, first], "b1": [session, folder, second]}
    found = dict(zip(chains, parallel.stand_ins(list(chains), lambda name: [*chains[name], name]), strict=True))
    assert found == {"a1": "b1", "a2": "b1", "b1": "a1"}
    assert parallel.stand_ins(["a1", "a2"], lambda name: [*chains[name], name]) == ["a2", "a1"]
    assert parallel.stand_ins(["a1"], lambda name: [*chains[name], name]) == [None]
    assert parallel.stand_ins(["a1", "a1"], lambda name: [*chains[name], name]) == [None, None]


def test_a_task_is_not_passed_on_the_tests_that_ran_when_one_never_started(tmp_path):
    """-x stops the run at the first failure, task 2's first test: task 1's other test (its property test, later in
    the run) never starts. Task 1 is then not run, not passed on its first test alone; the same holds when Ctrl-C
    stops a run between two tests of a task."""
    result, log, _ = grade("stdlib_time", variant(tmp_path, "stdlib_time", {}), "--mutant", "hour_only_closing", "-x",
                           "-p", "no:randomly", "--jobs", "1")
    assert statuses(result)[2] == "failed", log
    assert len(result.tasks[0].tests) == 2 and statuses(result)[1] == "not-run", (result.tasks[0], log)


def test_a_test_whose_outcome_a_helper_did_not_send_was_not_run():
    """What the controller makes of a helper's outcomes: a test it did not send (the helper died, or was stopped)
    or sent in a form that makes no sense counts as not run, never as passed."""
    from graders.harness.plugin import _Outcome

    sent = {"status": "passed", "message": "", "file": None, "line": None, "duration": 0.2}
    assert _Outcome.received(sent).settle().status == "passed"
    failed = {**sent, "status": "failed", "message": "no", "file": "basics.py", "line": 3}
    assert (_Outcome.received(failed).settle().status, _Outcome.received(failed).line) == ("failed", 3)
    for nonsense in (None, [], {}, {**sent, "status": "great"}, {**sent, "duration": "long"}, {**sent, "line": "3"}):
        outcome = _Outcome.received(nonsense).settle()
        assert outcome.status == "not-run" and "interrupted" in outcome.message, nonsense


def test_a_check_run_inside_another_program_returns_to_it():
    """A check's pytest ends with os._exit once all is done (`_Run.pytest_unconfigure`), but not a pytest that some
    program runs within itself: the program goes on, with the check's exit code."""
    program = ("import sys, pytest; code = pytest.main(['graders/coroutines', '-q', '-k', 'nothing_matches']); "
               "print('back with', int(code))")
    run = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "back with 5" in run.stdout, run.stdout + run.stderr


def test_jobs_must_be_a_number_or_auto():
    run = subprocess.run([sys.executable, "-m", "pytest", "graders/coroutines", "--jobs", "many"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 4 and "--jobs 'many'" in run.stderr, run.stderr


def test_shares_balance_the_tests_and_a_quick_topic_is_not_split(tmp_path):
    from graders.harness.core import parallel

    tests = [f"graders/threads/test_threads.py::test_{number}" for number in range(1, 7)]
    durations = dict(zip(tests, [1.6, 0.6, 0.2, 0.9, 3.0, 0.7], strict=True))
    shares = parallel.shares(tests, 3, durations)
    assert sorted(test for share in shares for test in share) == sorted(tests)  # every test once
    assert len(shares) == 3 and tests[4] in shares[0]
    assert all(share == sorted(share, key=tests.index) for share in shares)  # each in the order collected
    assert parallel.shares(tests, 3, {key: 0.05 for key in durations}) == [sorted(tests)]  # 0.3 s: not worth it
    assert len(parallel.shares(tests, 2, {key: 0.05 for key in durations}, if_it_pays=False)) == 2
    halved = {key: seconds / 2 for key, seconds in durations.items()}  # 3.5 s in all
    forked = parallel.helper_seconds(durations, forked=True)
    # a forked helper whose workers are spawned (GRADE_WORKER_START=spawn) starts later, a started helper later still
    spawning = parallel.helper_seconds({parallel.STARTING_KEY: 0.3}, forked=True, spawns_workers=True)
    assert forked < spawning < parallel.helper_seconds({parallel.STARTING_KEY: 0.3}, forked=False)
    assert len(parallel.shares(tests, 3, {**halved, parallel.STARTING_KEY: 1.5})) == 2  # pytest starts in 1.5 s
    assert len(parallel.shares(tests, 3, {**halved, parallel.STARTING_KEY: 2.0})) == 1
    assert len(parallel.shares(tests, 3, {**halved, parallel.STARTING_KEY: 2.0}, late=forked)) == 3  # starts at once
    quick = dict(zip(tests, [0.17, 0.05, 0.04, 0.04, 0.03, 0.03], strict=True))  # mongodb's, say
    assert len(parallel.shares(tests, 3, {**quick, parallel.STARTING_KEY: 0.1})) == 1
    assert len(parallel.shares(tests, 3, quick, late=forked)) == 1  # its own setup costs more than it would gain
    assert parallel.shares(tests, 3, {tests[4]: 3.0}) == [tests]  # the others not timed yet: one process times them
    parallel.save_durations({tests[0]: 1.25}, tmp_path / "d.json", starting=0.4)
    parallel.save_durations({}, tmp_path / "d.json", starting=0.2)  # averaged with what was measured before
    assert parallel.load_durations(tmp_path / "d.json") == {tests[0]: 1.25, parallel.STARTING_KEY: 0.3}
    parallel.save_durations({tests[1]: 1.0}, tmp_path / "missing" / "deeper" / "d.json")  # fine
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    parallel.save_durations({tests[0]: 1.0}, readonly / "d.json")  # no error: estimates stay


def test_the_parsed_manifest_copy_follows_every_edit(tmp_path, monkeypatch):
    manifest = tmp_path / "curriculum.toml"
    monkeypatch.setattr(curriculum, "ROOT", tmp_path)
    monkeypatch.setattr(curriculum, "MANIFEST", manifest)
    manifest.write_text('[[topic]]\nslug = "one"\n', encoding="utf-8")
    assert curriculum._manifest() == {"topic": [{"slug": "one"}]}
    assert len(list((tmp_path / ".results").glob("curriculum-*.json"))) == 1
    assert curriculum._manifest() == {"topic": [{"slug": "one"}]}  # from the copy
    manifest.write_text('[[topic]]\nslug = "two"\n', encoding="utf-8")
    assert curriculum._manifest() == {"topic": [{"slug": "two"}]}
    assert len(list((tmp_path / ".results").glob("curriculum-*.json"))) == 1  # the stale copy is gone
