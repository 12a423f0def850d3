"""What can be tested here of the other platforms: the harness without POSIX-only modules, over the TCP
transport and the stack-dump timer that Windows uses, and the language and console fallbacks.

The GitHub Actions matrix (.github/workflows/course.yml) runs the self-check on macOS and Windows for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders.harness.core import curriculum, network, observe, platform
from graders.harness.core.network import exchange
from graders.harness.core.results import from_json
from graders.harness.core.student import Spares, worker_kind
from tests import boundary_probes
from tests.test_boundary import student_with

ROOT = curriculum.ROOT
POSIX_ONLY = ("pwd", "grp", "fcntl", "resource", "termios")


def grade_without_posix(tmp_path: Path, impl: str, *args: str, env: dict | None = None):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in POSIX_ONLY)
    )
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "graders/threads", "--impl", impl, "--results-json", str(results), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(blocker), "GRADE_WORKER_TRANSPORT": "tcp",
             "GRADE_STACK_DUMP": "timer", "COURSE_LANG": "en", "NO_COLOR": "1", **(env or {})},
    )
    assert results.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    (topic,) = from_json(results.read_text())
    return topic, run


def test_a_check_runs_without_posix_only_modules_over_tcp(tmp_path):
    topic, run = grade_without_posix(tmp_path, "solutions")
    assert topic.points == topic.max_points, run.stdout[-3000:]


def test_a_timeout_says_where_with_the_timer_dump(tmp_path):
    impl = tmp_path / "submission" / "threads"
    impl.parent.mkdir()
    subprocess.run(["cp", "-r", str(ROOT / "solutions" / "threads"), str(impl)], check=True)
    counter = impl / "counter.py"
    counter.write_text(counter.read_text().replace("        with self._lock:\n",
                                                   "        while True:\n            pass\n        with self._lock:\n"))
    topic, _run = grade_without_posix(tmp_path, str(impl.parent), "-k", "counter", "--timeout-scale", "0.3")
    message = topic.tasks[1].message
    assert "timed out" in message and "counter.py" in message and "while True" in message, message


def test_the_language_falls_back_to_the_systems(monkeypatch):
    for variable in ("COURSE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(curriculum, "system_locale", lambda: "zh_CN")
    assert curriculum.language() == "zh"
    monkeypatch.setattr(curriculum, "system_locale", lambda: "")
    assert curriculum.language() == "en"
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert curriculum.language() == "zh"


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_a_narrow_console_gets_replacement_characters_not_a_crash(tmp_path, encoding):
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "graders/threads", "--impl", "solutions", "--results-json", str(results)],
        cwd=ROOT, capture_output=True, timeout=300,
        env={**os.environ, "PYTHONIOENCODING": encoding, "COURSE_LANG": "zh", "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout.decode(encoding, errors="replace")[-3000:]
    assert "13/13" in run.stdout.decode(encoding, errors="replace")


# -- what a wrapper or a platform changes about the worker ---------------------------------------------------


@pytest.mark.parametrize("start", ["fork", "spawn"])  # a fork server (Linux), or spares as on macOS and Windows
def test_a_worker_whose_wrapper_dies_with_its_parent_outlives_the_grader_thread_that_started_it(tmp_path,
                                                                                                  monkeypatch, start):
    """bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that started the process ends;
    graders call the student's code, and so start workers and spares, from short-lived threads."""
    monkeypatch.setenv("GRADE_WORKER_WRAPPER", json.dumps(["setpriv", "--pdeathsig", "KILL", "--"]))
    monkeypatch.setenv("GRADE_WORKER_START", start)
    spares = Spares()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = student_with(tmp_path / "first", "def answer():\n    return 42\n", spares=spares)
    second = student_with(tmp_path / "second", "def answer():\n    return 43\n", spares=spares)
    try:
        caller = threading.Thread(target=first.run, args=(boundary_probes.call, "victim", "answer"))
        caller.start()  # starts the first worker, and the spare that the second test takes
        caller.join()
        time.sleep(0.3)  # the signal would have arrived by now
        assert first.run(boundary_probes.call, "victim", "answer") == 42
        assert second.run(boundary_probes.call, "victim", "answer") == 43
    finally:
        first.close()
        second.close()
        spares.close()


@pytest.mark.parametrize("start", ["fork", "spawn"] if platform.LINUX else ["spawn"])  # fork servers: Linux only
def test_a_kind_of_worker_warmed_at_collection_serves_the_first_test(tmp_path, monkeypatch, start):
    """The plugin warms each kind of worker as soon as a test of it is collected (Spares.warm): its fork server
    (Linux), or a spare where workers are spawned, runs before any test asks, and serves the first test."""
    monkeypatch.setenv("GRADE_WORKER_START", start)
    spares = Spares()
    student = student_with(tmp_path, "def answer():\n    return 42\n", spares=spares)
    key = worker_kind(student.implementation, gevent=False, user=None)
    try:
        spares.warm(key, ["tests.boundary_probes"])
        warmed = spares._servers[key].process if start == "fork" else spares._spare[1].process
        assert warmed.poll() is None
        assert student.run(boundary_probes.call, "victim", "answer") == 42
        if start == "fork":  # forked by the server: its parent
            parent = int(Path(f"/proc/{student.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            assert parent == warmed.pid, "the first test's worker was not forked by the warmed server"
        else:
            assert student.pid == warmed.pid, "the first test started a worker of its own"
    finally:
        student.close()
        spares.close()


@pytest.mark.parametrize("start", ["fork", "spawn"] if platform.LINUX else ["spawn"])
def test_a_process_that_student_code_spawns_imports_its_targets_module_not_the_worker(tmp_path, monkeypatch, start):
    """Under spawn (macOS, Windows, and what graders try) a child imports `__main__` first; in a worker that is
    the worker, not the student's program, and it cost each child 0.1 s of CPU."""
    monkeypatch.setenv("GRADE_WORKER_START", start)
    source = """
import multiprocessing
import sys

def report(queue):
    queue.put(sorted(name for name in sys.modules if name.startswith(("graders", "victim"))))

def spawned_child_imports():
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=report, args=(queue,))
    child.start()
    seen = queue.get(timeout=30)
    child.join()
    return seen
"""
    spares = Spares()
    student = student_with(tmp_path, source, spares=spares)
    try:
        assert student.run(boundary_probes.call, "victim", "spawned_child_imports", timeout=40) == ["victim"]
    finally:
        student.close()
        spares.close()


def test_a_free_port_is_one_that_no_outgoing_connection_is_given():
    """A port is found free, then bound by the student's server: one of the ephemeral range could be given to a
    connection that a test beside it opens in between (seen: threads task 3, "Address already in use")."""
    low, high = 32768, 60999
    with contextlib.suppress(OSError):
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = {network.free_port() for _ in range(20)} | {network.free_udp_port() for _ in range(20)}
    assert not [port for port in ports if low <= port <= high], (sorted(ports), low, high)
    assert len(ports) > 10, "every check picks the same ports"


def test_the_stack_timer_does_not_change_the_workers_thread_count(tmp_path, monkeypatch):
    """Graders count the worker's threads from outside; where stacks come from the worker's own timer
    (Windows, a class's sandbox), a timer thread per call would make that count flicker."""
    monkeypatch.setenv("GRADE_STACK_DUMP", "timer")
    student = student_with(tmp_path, "import time\n\ndef nap():\n    time.sleep(0.5)\n")
    try:
        student.run(boundary_probes.call, "victim", "nap")
        idle = observe.threads(student.pid)
        caller = threading.Thread(target=student.run, args=(boundary_probes.call, "victim", "nap"))
        caller.start()
        time.sleep(0.25)
        busy = observe.threads(student.pid)
        caller.join()
        assert idle is not None and busy == idle, f"{idle} threads between calls, {busy} during one"
    finally:
        student.close()


@pytest.mark.skipif(not observe.available(), reason="observe.idle reads /proc (Linux)")
def test_idle_tells_a_blocked_process_from_one_that_wants_a_cpu_even_a_starved_one():
    """Graders stop waiting early for code that is blocked; a process only starved by a busy machine must never
    read as blocked, however little CPU it gets."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; print('asleep', flush=True); time.sleep(60)"],
                               stdout=subprocess.PIPE, text=True)
    spinners = [subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        assert sleeper.stdout.readline() == "asleep\n"
        deadline = time.monotonic() + 20  # from print() to sleep() it still wants a CPU, which may be slow to come
        while not observe.idle(sleeper.pid):
            assert time.monotonic() < deadline, "a process asleep in time.sleep never read as idle"
        for _ in range(5):
            assert not any(observe.idle(spinner.pid) for spinner in spinners), "a spinning process read as idle"
    finally:
        for process in (sleeper, *spinners):
            process.kill()
            process.wait()


def test_an_echo_that_comes_while_the_server_looks_idle_is_still_read(tmp_path):
    """exchange() gives up early only when nothing has come: a short echo costs too little CPU to show."""
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    try:
        def looks_idle() -> bool:  # as observe.idle: it takes a moment to tell, and then says "blocked"
            time.sleep(0.3)
            return True

        echo = threading.Timer(0.6, conn.sendall, args=(b"hello",))
        echo.start()
        assert exchange(client, b"hello", patience=5, waiting=looks_idle) == b"hello"
        echo.join()
        assert exchange(client, b"again", patience=5, waiting=looks_idle) == "silent"
    finally:
        for sock in (client, conn, server):
            sock.close()
