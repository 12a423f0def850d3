"""The grading plugin: what is graded, the `student` fixture, task markers, and the results of a run.

Loaded by `-p graders.harness.plugin` (pyproject.toml). Each test under `graders/<topic>/` carries
`@pytest.mark.task(N)`; the manifest gives that task's title, points and hint. A task passes when all its
tests pass. At the end the run is written as one list of `TopicResult` (JSON with `--results-json`) and
shown to the student as a table.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from graders.harness import services
from graders.harness.core import curriculum, focus, mutants, observe, owners, parallel, platform
from graders.harness.core.curriculum import say
from graders.harness.core.results import (
    TaskResult,
    TopicResult,
    load_progress,
    save_progress,
    to_json,
    topics_complete,
)
from graders.harness.core.student import (
    Implementation,
    Spares,
    Student,
    StudentError,
    display,
    worker_kind,
)
from graders.harness.services import mongodb, mysql, redis
from graders.harness.views.terminal import render_course, render_language, render_score, render_topic, use_colour

GRADERS = curriculum.ROOT / "graders"

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grading")
    group.addoption(
        "--impl",
        default=os.environ.get("GRADE_IMPL", "exercises"),
        metavar="FOLDER",
        help="folder to grade, laid out like exercises/ (default: exercises, or $GRADE_IMPL): "
        "solutions, a student's submission, a teacher's variant",
    )
    group.addoption(
        "--mutant",
        metavar="NAME",
        help="grade --impl with the diff graders/<topic>/mutants/NAME.diff applied (the course's self-check)",
    )
    group.addoption(
        "--timeout-scale",
        type=float,
        default=float(os.environ.get("GRADE_TIMEOUT_SCALE", "1")),
        metavar="FACTOR",
        help="multiply every time limit on student code, e.g. 2 on a slow machine",
    )
    group.addoption(
        "--start-method",
        choices=("fork", "forkserver", "spawn"),
        default=os.environ.get("GRADE_START_METHOD") or None,
        help="multiprocessing start method in the worker (default: the platform's); the self-check tries all three",
    )
    group.addoption("--lang", choices=curriculum.LANGUAGES, help="language of texts and hints (default: from LANG)")
    group.addoption(
        "--worker-user",
        default=os.environ.get("GRADE_WORKER_USER") or None,
        metavar="USER",
        help="run student code as this unprivileged user (needs root): it cannot read hidden graders "
        "or touch the results",
    )
    group.addoption(
        "--limits",
        default=os.environ.get("GRADE_LIMITS", ""),
        metavar="NAME=N,...",
        help="resource limits of student code, e.g. memory_mib=2048,processes=128 (default: $GRADE_LIMITS; "
        "names: memory_mib, processes, cpu_seconds, file_mib, open_files)",
    )
    group.addoption("--results-json", metavar="PATH", help="write the results of this run as JSON to PATH")
    group.addoption(
        "--jobs",
        default=os.environ.get("GRADE_JOBS", "1"),
        metavar="N",
        help="grade the tests in up to N pytest processes at once, or `auto` (see core/parallel.py; default 1)",
    )
    group.addoption("--part", default="", help=argparse.SUPPRESS)  # a --jobs helper's folder (core/parallel.py)
    group.addoption(
        "--view",
        choices=("student", "pytest"),
        default=os.environ.get("GRADE_VIEW"),
        help="student: one line per task with messages and hints (the default when only graders run); "
        "pytest: pytest's own report",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(number): the task of curriculum.toml this test grades")
    config.addinivalue_line("markers", "gevent: run this test's worker with gevent's monkey-patching")
    config.addinivalue_line(
        "markers", "hidden: a grader kept out of students' repositories (set `pytestmark` in its file)"
    )
    for stream in (sys.stdout, sys.stderr):  # a GBK console cannot show ✓ or █: a "?" beats a crash
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(errors="replace")
    if config.getoption("lang"):
        os.environ["COURSE_LANG"] = config.getoption("lang")
    if config.getoption("start_method"):
        os.environ["GRADE_START_METHOD"] = config.getoption("start_method")  # workers inherit it
    if config.getoption("view") is None:
        config.option.view = "student" if _only_graders(config) else "pytest"
    if config.getoption("view") == "student":
        # A grader file that cannot be imported is a bug of the course: its tasks say so (status "error")
        # and the other files are graded, rather than one "1 error during collection" for the whole run.
        config.option.continue_on_collection_errors = True
        config.option.tbstyle = "no"
        config.option.reportchars = "N"
        config.option.verbose = min(config.option.verbose, -1)
    config.pluginmanager.register(services, "grading-services")
    for fixtures in (mysql, redis, mongodb):
        config.pluginmanager.register(fixtures, f"grading-services-{fixtures.__name__.rpartition('.')[2]}")
    socket.setdefaulttimeout(30)  # a grader's forgotten timeout must not hang a whole class's run
    try:
        limits = platform.Limits.parse(config.getoption("limits") or "")
    except ValueError as error:
        raise pytest.UsageError(f"--limits / GRADE_LIMITS: {error}") from None
    os.environ["GRADE_LIMITS"] = limits.as_text()  # the workers apply them
    if config.getoption("worker_user"):
        _check_worker_user(config.getoption("worker_user"))
    try:
        parallel.jobs(config.getoption("jobs"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    _remove_dead_runs_folders()
    run = config.stash[_RUN] = _Run(config)
    config.pluginmanager.register(run, "grading-run")
    _stop_on_signals(run)


def _check_worker_user(user: str) -> None:
    """Refuse the run, in one line, when `user` cannot load the harness: a course under a private folder
    (mode 0700, as `mktemp -d` makes) would otherwise fail every task of every student, blamed on them."""
    python = os.environ.get("GRADE_WORKER_PYTHON") or sys.executable
    try:
        probe = subprocess.run([python, "-c", "import graders.harness.core.worker"], cwd="/", capture_output=True,
                               text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(curriculum.ROOT)},
                               **platform.user_switch(user))
    except (OSError, KeyError, subprocess.TimeoutExpired) as error:
        raise pytest.UsageError(f"--worker-user {user}: cannot start a process as {user}: {error}") from None
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise pytest.UsageError(
            f"--worker-user {user}: {user} cannot load the course at {curriculum.ROOT} ({last}); every folder "
            f"above it must be searchable by others (chmod o+x), or run the class sandbox (nox -s grade)"
        )


def _remove_dead_runs_folders() -> None:
    """Worker folders (made for --worker-user) and --jobs helpers' folders of runs on this machine that died
    before removing them."""
    for folder in [*Path(tempfile.gettempdir()).glob("course-worker-*"),
                   *Path(tempfile.gettempdir()).glob("course-part-*")]:
        owner = owners.find(folder.name)
        if owner and owners.is_dead(owner):
            shutil.rmtree(folder, ignore_errors=True)


def _stop_on_signals(run: _Run) -> None:
    """SIGTERM and SIGHUP (nox ending a session, a closed terminal) stop the run as Ctrl-C does: the test in
    flight is not graded, its worker is ended, and the results written so far stay honest."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, _frame: object) -> None:
        run.stop_students()
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def _only_graders(config: pytest.Config) -> bool:
    paths = [Path(arg.split("::")[0]) for arg in config.args] or [GRADERS]
    return all((p if p.is_absolute() else Path(config.invocation_params.dir) / p).resolve().is_relative_to(GRADERS)
               for p in paths)


def implementation(config: pytest.Config, topic: curriculum.Topic) -> Implementation:
    """The folder graded for `topic`: --impl's topic folder, with the --mutant's diff applied if one is named."""
    base = Path(config.getoption("impl"))
    base = base if base.is_absolute() else curriculum.ROOT / base
    folder = base / topic.dir
    name = config.getoption("mutant")
    if not name:
        return Implementation(label=f"{display(folder)}/", layers=(folder,))
    mutant = mutants.mutants_of(topic.dir).get(name)
    if mutant is None:
        known = ", ".join(mutants.mutants_of(topic.dir)) or "none"
        raise pytest.UsageError(f"{topic.slug} has no mutant {name!r} (it has: {known})")
    try:
        built = mutants.build(mutant, folder)
    except mutants.PatchError as error:
        raise pytest.UsageError(str(error)) from None
    return Implementation(label=f"mutant {name} of {display(folder)}/", layers=(built,))


def topic_of(node: pytest.Item | pytest.Collector) -> curriculum.Topic | None:
    path = Path(node.path)
    if not path.is_relative_to(GRADERS):
        return None
    parts = path.relative_to(GRADERS).parts
    if len(parts) < 2 or parts[0] == "harness":
        return None
    return curriculum.topic(parts[0])


@pytest.fixture
def graded(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under grading for this test's topic."""
    topic = topic_of(request.node)
    if topic is None:
        raise pytest.UsageError(f"{request.node.nodeid} is not under graders/<topic>/")
    return implementation(request.config, topic)


@pytest.fixture
def student(graded: Implementation, tmp_path: Path, request: pytest.FixtureRequest):
    """A worker process running the graded code; `student.run(probe, ...)` calls a probe inside it."""
    user = request.config.getoption("worker_user")
    workdir = Path(tempfile.mkdtemp(prefix=f"course-worker-{owners.this_run()}-")) if user else tmp_path
    if user:
        platform.chown_to(workdir, user)
    run = request.config.stash[_RUN]
    handle = Student(
        graded,
        workdir,
        gevent=request.node.get_closest_marker("gevent") is not None,
        timeout_scale=request.config.getoption("timeout_scale"),
        user=user,
        import_hangs=run.import_hangs.setdefault(graded.label, {}),
        spares=run.spares,
        limits=run.limits,
    )
    run.students.add(handle)
    try:
        yield handle
    finally:
        run.students.discard(handle)
        handle.interrupted = run.interrupted
        try:
            handle.close()
        finally:
            if user:
                shutil.rmtree(workdir, ignore_errors=True)


# -- collecting the outcome of every test into task results --------------------------------------------------


def _interrupted() -> str:
    return say("not graded: the check was interrupted before this test ended", "未评分：这项检查还没结束就被中断了")



@dataclass
class _Outcome:
    """What one test earned. It starts as not run: only a test whose call and teardown both ended, with no
    failure, counts as passed, so an interrupted or crashed run never shows a pass it did not see."""

    status: str = "not-run"
    message: str = field(default_factory=_interrupted)
    file: str | None = None
    line: int | None = None
    duration: float = 0.0
    called: bool = False
    finished: bool = False
    problem: bool = False

    def settle(self) -> _Outcome:
        if not self.problem and self.called and self.finished:
            self.status, self.message = "passed", ""
        return self

    @classmethod
    def received(cls, fields: object) -> _Outcome:
        """A test's outcome as a --jobs helper sent it; not run when it sent none that makes sense."""
        if not isinstance(fields, dict):
            return cls()
        status, message, file, line, duration = (fields.get(name) for name in
                                                 ("status", "message", "file", "line", "duration"))
        if (status not in ("passed", "failed", "error", "not-run") or not isinstance(message, str)
                or not isinstance(file, (str, type(None))) or not isinstance(line, (int, type(None)))
                or not isinstance(duration, (int, float))):
            return cls()
        return cls(status=status, message=message, file=file, line=line, duration=float(duration), called=True,
                   finished=True, problem=status != "passed")


def _explain(excinfo: pytest.ExceptionInfo) -> tuple[str, str, str | None, int | None]:
    """(status, message, file, line) for a failure, in words for the student."""
    error = excinfo.value
    if isinstance(error, services.ServiceUnavailable):
        return "error", str(error), None, None
    if isinstance(error, StudentError):
        return "failed", error.message, error.file, error.line
    if isinstance(error, AssertionError):
        text = str(error)
        message, separator, _ = text.partition("\nassert ")
        return "failed", (message if separator and message else text), None, None
    if isinstance(error, pytest.fail.Exception):
        return "failed", error.msg, None, None
    return "failed", f"{type(error).__name__}: {error}", None, None


def _elsewhere(outcomes: list[_Outcome], shown: tuple[str | None, int | None]) -> str:
    """The other places of the student's code that failed the same task (every failing SQL statement, say),
    one line each, for the end of the task's message."""
    places = {}
    for outcome in outcomes:
        where = (outcome.file, outcome.line)
        if outcome.status == "failed" and outcome.file and where != shown and where not in places:
            places[where] = outcome.message.splitlines()[0] if outcome.message else ""
    if not places:
        return ""
    lines = [f"\n  {said}" if f"{file}:{line}" in said else f"\n  {file}:{line}: {said}"
             for (file, line), said in places.items()]
    return "\n" + say("also failing:", "同一任务中失败的还有：") + "".join(lines)


class _Run:
    """Everything one pytest run graded, turned into `TopicResult`s at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.items: dict[str, tuple[curriculum.Topic, int]] = {}
        self.outcomes: dict[str, _Outcome] = {}
        self.hidden: set[str] = set()
        self.import_hangs: dict[str, dict[str, str]] = {}
        self.spares = Spares()
        self.graded: dict[str, Implementation | None] = {}  # by topic slug, for warming workers up
        self.results: list[TopicResult] = []
        self.limits = platform.Limits.parse(config.getoption("limits") or "")
        self.students: set[Student] = set()
        self.interrupted = False
        self.unloadable: dict[str, str] = {}  # grader file -> why it could not be imported (our bug, not theirs)
        self.part = Path(config.getoption("part")) if config.getoption("part") else None  # in a --jobs helper
        # Each helper, the tests it was given (None: it takes them from the queue) and its folder:
        self.helpers: list[tuple[subprocess.Popen | parallel.ForkedHelper, list[str] | None, Path]] = []
        self.queue: parallel.TestQueue | None = None  # the tests still to take, shared with forked helpers
        self.forked = False  # whether this process is a helper forked from the controller
        self.session: pytest.Session | None = None
        self.starting: float | None = None  # seconds this pytest took to reach its first test
        self.kinds: dict[str, tuple[tuple, str]] = {}  # nodeid -> its kind of worker, its probe modules' prefix
        self.early_server = False  # whether the first topic's fork server was started during collection

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
            self.unloadable[report.nodeid] = (lines[-1].removeprefix("E").strip() if lines else "") or "?"

    def pytest_report_header(self) -> str:
        return f"grading {self.config.getoption('impl')}/ (change with --impl)"

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            topic = topic_of(item)
            if topic is None:
                continue
            marker = item.get_closest_marker("task")
            if marker is None or not marker.args:
                raise pytest.UsageError(f"{item.nodeid} needs @pytest.mark.task(N)")
            number = int(marker.args[0])
            topic.task(number)  # raises KeyError for a task the manifest does not have
            self.items[item.nodeid] = (topic, number)
            if item.get_closest_marker("hidden"):
                self.hidden.add(item.nodeid)
        self.config.stash[services.NEEDED] = {
            name for topic, _ in self.items.values() for name in topic.services
        }

    def _graded(self, topic: curriculum.Topic) -> Implementation | None:
        """What this run grades for `topic`; None where --impl or --mutant is wrong (each test's fixture says so)."""
        if topic.slug not in self.graded:
            try:
                self.graded[topic.slug] = implementation(self.config, topic)
            except pytest.UsageError:
                self.graded[topic.slug] = None
        return self.graded[topic.slug]

    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        """As pytest starts collecting the first topic with workers, start their fork server (Linux), importing
        its probe modules: Python's start and the drivers' import (0.15 s for redis) then happen while pytest
        imports the graders, not while the first tests wait. It is started for as many processes as the check
        may use, since how many pay is known only once every test is collected (`Spares.share`); the fork
        servers of other kinds start when collection ends."""
        if self.early_server or self.part or not isinstance(collector, pytest.Module):
            return
        topic = topic_of(collector)
        probes = GRADERS / topic.dir / "probes.py" if topic else None
        if probes is None or not probes.exists() or (graded := self._graded(topic)) is None:
            return  # a topic without probes runs no student code in workers (the SQL topics)
        self.early_server = True
        key = worker_kind(graded, gevent=False, user=self.config.getoption("worker_user"))
        self.spares.share([key], processes=parallel.jobs(self.config.getoption("jobs"))[0])
        self.spares.used(key, f"graders.{topic.dir}.probes")

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Note the kind of worker of each test that has one: fork servers are started for these kinds only."""
        topic = topic_of(item)
        if topic is None or "student" not in item.fixturenames or (graded := self._graded(topic)) is None:
            return
        key = worker_kind(graded, gevent=item.get_closest_marker("gevent") is not None,
                          user=self.config.getoption("worker_user"))
        self.kinds[item.nodeid] = (key, f"graders.{topic.dir}.probes")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        focus.take()  # each test starts looking at nothing

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if item.nodeid not in self.items:
            return report
        outcome = self.outcomes.setdefault(item.nodeid, _Outcome())
        outcome.duration += call.duration
        if outcome.problem:
            pass
        elif report.skipped:
            outcome.problem = True
            outcome.message = str(call.excinfo.value) if call.excinfo else "skipped"
        elif report.failed:
            outcome.problem = True
            if call.excinfo is not None:
                outcome.status, outcome.message, outcome.file, outcome.line = _explain(call.excinfo)
                looked_at = focus.take()
                if outcome.status == "failed" and outcome.file is None and looked_at:
                    outcome.file, outcome.line = looked_at
            else:
                outcome.status, outcome.message = "error", say("the grader failed without saying why",
                                                             "评分程序失败了，但没有说明原因")
        elif report.when == "call":
            outcome.called = True
        elif report.when == "teardown":
            outcome.finished = True
        return report

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Share the tests out when `--jobs` says it pays (core/parallel.py): forked helpers and this process take
        them one at a time from a queue they share; started helpers each get a fixed share. A started helper keeps
        the share its controller gave it."""
        if self.part:
            keep = set(parallel.read_part(self.part))
            dropped = [item for item in session.items if item.nodeid in self.items and item.nodeid not in keep]
            self.config.hook.pytest_deselected(items=dropped)
            session.items[:] = [item for item in session.items if item not in dropped]
        elif not (self.config.option.collectonly or session.testsfailed):
            self.starting = observe.age(os.getpid())  # what each started helper will cost before its first test
            wanted, if_it_pays = parallel.jobs(self.config.getoption("jobs"))
            graded = [item.nodeid for item in session.items if item.nodeid in self.items]
            durations = parallel.load_durations()
            spawns = not all(self.spares.forks(self.kinds[nodeid][0]) for nodeid in graded if nodeid in self.kinds)
            late = parallel.helper_seconds(durations, forked=parallel.forks(), spawns_workers=spawns)
            shares = parallel.shares(graded, wanted, durations, if_it_pays=if_it_pays, late=late)
            if len(shares) > 1 and parallel.forks():
                services.find_running(self.config.stash.get(services.NEEDED, set()))
                self._fork_helpers(session, len(shares) - 1, durations)
            elif len(shares) > 1:
                for share in shares[1:]:
                    self._start_helper(share)
                session.items[:] = [item for item in session.items if item.nodeid not in self.items
                                    or item.nodeid in shares[0]]
        self.spares.keep(0)  # where no helper was forked: the fork server started during collection is this one's
        self._warm([item.nodeid for item in session.items])

    def _warm(self, nodeids: list[str]) -> None:
        """Start the fork server (or spare worker) of each kind these tests need, importing their topics' probe
        modules: it starts while pytest sets up the first test, which then forks a worker at once instead of
        waiting for Python to start. Only after the helpers are forked: each process has a spare of its own,
        and sends its preloads to the fork servers it shares (started before the fork, in `_fork_helpers`)."""
        for key, prefix in dict.fromkeys(self.kinds[nodeid] for nodeid in nodeids if nodeid in self.kinds):
            self.spares.warm(key, sorted(name for name in sys.modules if name.startswith(prefix)))

    def _fork_helpers(self, session: pytest.Session, count: int, durations: dict[str, float]) -> None:
        """Fork `count` helpers (Linux: no thread or service of this run has started yet). The longest tests go
        first into the queue: whichever process is free takes the next one, so the shares balance themselves,
        whatever the estimates said. The fork servers are started before (the first topic's during collection), to be
        shared: one per kind of worker for the whole check, not one per process."""
        items = session.items
        longest_first = sorted(range(len(items)),
                               key=lambda index: -durations.get(items[index].nodeid, parallel.UNKNOWN_TEST_SECONDS))
        self.queue = parallel.TestQueue(longest_first)
        self.spares.share(dict.fromkeys(self.kinds[item.nodeid][0] for item in items if item.nodeid in self.kinds),
                          processes=count + 1)
        for index in range(1, count + 1):
            folder = Path(tempfile.mkdtemp(prefix=f"course-part-{owners.this_run()}-"))
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            try:
                pid = os.fork()
            except OSError:  # no more processes allowed: those there are take every test from the queue
                shutil.rmtree(folder, ignore_errors=True)
                break
            if pid == 0:
                self.spares.keep(index)
                self._become_helper(folder)
                return
            self.helpers.append((parallel.ForkedHelper(pid), None, folder))
        self.spares.keep(0)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """With forked helpers: run the tests this process takes from the shared queue, until it is empty.

        pytest tears a test down as far as its next test needs, which is not known here until that test is taken.
        So each test is torn down as far as any test could need: to what every test of the run shares (the session,
        the folders above them all); pytest's own end of session tears down the rest."""
        if self.queue is None:
            return None
        stand_ins = parallel.stand_ins(session.items, lambda item: item.listchain())
        while (taken := self.queue.take()) is not None:
            item = session.items[taken]
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=stand_ins[taken])
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
        return True

    def _start_helper(self, share: list[str]) -> None:
        """Start a helper pytest grading `share` (where helpers are not forked)."""
        folder = Path(tempfile.mkdtemp(prefix=f"course-part-{owners.this_run()}-"))
        parallel.write_part(folder, share)
        params = self.config.invocation_params
        command = [sys.executable, "-m", "pytest", *params.args, "--part", str(folder), "--view", "pytest", "-q",
                   "--jobs", "1"]
        process = subprocess.Popen(command, cwd=params.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.helpers.append((process, share, folder))

    def _become_helper(self, folder: Path) -> None:
        """In a forked helper: grade the tests it takes quietly (the controller alone speaks to the student) and
        send how each ended, as a helper started with --part does."""
        self.part, self.helpers, self.starting, self.forked = folder, [], None, True
        random.seed()
        capture = self.config.pluginmanager.getplugin("capturemanager")
        if capture is not None:
            capture.stop_global_capturing()
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        os.close(quiet)
        if capture is not None:
            capture.start_global_capturing()
            capture.suspend_global_capture()

    def _collect_helpers(self) -> None:
        """Wait for the helpers (or end them, when the run is being stopped) and take how their tests ended; a
        test whose outcome did not come back was not run."""
        for process, share, folder in self.helpers:
            if self.interrupted:
                platform.kill_tree(process.pid)
            process.wait()
            received = None
            with contextlib.suppress(OSError, ValueError):
                received = json.loads((folder / parallel.OUTCOMES_FILE).read_text(encoding="utf-8"))
            if not isinstance(received, dict):
                received = {}
            for nodeid in self.items if share is None else share:  # None: it took its tests from the queue
                if share is not None or nodeid in received:
                    self.outcomes[nodeid] = _Outcome.received(received.get(nodeid))
            shutil.rmtree(folder, ignore_errors=True)

    def _send_outcomes(self) -> None:
        """In a helper: how each of its tests ended, for the controller, which judges the tasks."""
        outcomes = {nodeid: asdict(outcome.settle()) for nodeid, outcome in self.outcomes.items()}
        temporary = self.part / f".{parallel.OUTCOMES_FILE}"
        temporary.write_text(json.dumps(outcomes), encoding="utf-8")
        temporary.replace(self.part / parallel.OUTCOMES_FILE)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Tasks left out with -k or -m are not graded: they keep the result saved before."""
        for item in items:
            self.items.pop(item.nodeid, None)

    def pytest_keyboard_interrupt(self) -> None:
        self.stop_students()

    def stop_students(self) -> None:
        """The run is being stopped: workers end at once, without the usual wait for late thread errors."""
        self.interrupted = True
        for process, _share, _results in self.helpers:
            platform.kill_tree(process.pid)
        for student in list(self.students):
            student.interrupted = True

    def pytest_report_teststatus(self, report: pytest.TestReport):
        if self.config.getoption("view") == "student" and report.when == "call":
            return report.outcome, "", report.outcome.upper()
        return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.part:
            self.spares.close()
            self._send_outcomes()
            return
        self._collect_helpers()
        self.spares.close()  # only now: the helpers forked from this process use its fork servers
        if self.helpers and session.exitstatus == pytest.ExitCode.OK and not self._all_passed():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # pytest's own status counts this process's tests only
        graded = {topic.slug for topic, _ in self.items.values()}
        graded |= {topic.slug for topic in curriculum.topics() for path in self.unloadable
                   if path.startswith(f"graders/{topic.dir}/")}
        if not graded:
            return
        for topic in curriculum.topics():
            if topic.slug in graded:
                self.results.append(self._grade(topic))
        path = self.config.getoption("results_json")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(to_json(self.results), encoding="utf-8")
        if self._is_students_own_work():
            save_progress(self.results)
        if not (self.interrupted or self.config.getoption("mutant")):  # what --jobs auto reads next
            parallel.save_durations({nodeid: outcome.duration for nodeid, outcome in self.outcomes.items()
                                     if outcome.status in ("passed", "failed")}, starting=self.starting)

    def _all_passed(self) -> bool:
        """Whether every graded test passed, wherever it ran: one that failed in a helper, or never came back
        from one, did not."""
        return all(self.outcomes.get(nodeid, _Outcome()).settle().status == "passed" for nodeid in self.items)

    def _is_students_own_work(self) -> bool:
        impl = Path(self.config.getoption("impl"))
        impl = impl if impl.is_absolute() else curriculum.ROOT / impl
        return impl.resolve() == (curriculum.ROOT / "exercises").resolve() and not self.config.getoption(
            "mutant"
        )

    def _hidden_elsewhere(self, topic: curriculum.Topic) -> dict[int, int]:
        """Hidden checks that graders/hidden.toml counts for this topic but that were not collected here."""
        manifest = GRADERS / "hidden.toml"
        if not manifest.exists():
            return {}
        counts = curriculum.tomllib.loads(manifest.read_text(encoding="utf-8")).get(topic.slug, {})
        here = [n for nodeid, (t, n) in self.items.items() if t.slug == topic.slug and nodeid in self.hidden]
        return {int(task): count - here.count(int(task)) for task, count in counts.items()}

    def _grade(self, topic: curriculum.Topic) -> TopicResult:
        graded = implementation(self.config, topic)
        elsewhere = self._hidden_elsewhere(topic)
        tasks = []
        for task in topic.tasks:
            ids = [
                nodeid for nodeid, (t, n) in self.items.items() if t.slug == topic.slug and n == task.number
            ]
            outcomes = [self.outcomes.get(nodeid, _Outcome()).settle() for nodeid in ids]  # none: never started
            first_problem = next((o for o in outcomes if o.status in ("failed", "error")), None)
            broken = [f"{path}: {why}" for path, why in self.unloadable.items()
                      if path.startswith(f"graders/{topic.dir}/")]
            if not outcomes and broken:
                status, first_problem = "error", _Outcome(status="error", message=say(
                    f"the graders of this task could not be loaded: {broken[0]}",
                    f"这个任务的评分程序无法加载：{broken[0]}"))
            elif not outcomes:
                status = "not-run"
            elif any(o.status == "failed" for o in outcomes):
                status = "failed"
            elif any(o.status == "error" for o in outcomes):
                status = "error"
            elif any(o.status == "not-run" for o in outcomes):
                status = "not-run"
                first_problem = next(o for o in outcomes if o.status == "not-run")
            else:
                status = "passed"
            failure = next((o for o in outcomes if o.status == status), first_problem)
            file, line = (failure.file, failure.line) if failure else (None, None)
            message = failure.message if failure and status != "passed" else ""
            if status == "failed":
                message += _elsewhere(outcomes, (file, line))
            if status == "failed" and not file:
                file, line = graded.task_line(task.number) or (None, None)
            tasks.append(
                TaskResult(
                    topic=topic.slug,
                    task=task.number,
                    title=str(task.title),
                    points=task.points if status == "passed" else 0,
                    max_points=task.points,
                    status=status,
                    message=message,
                    hint=str(task.hint),
                    file=file,
                    line=line,
                    duration=round(sum(o.duration for o in outcomes), 3),
                    tests=[nodeid.rpartition("::")[2] for nodeid in ids],
                    checks_in_ci=max(0, elsewhere.get(task.number, 0)),
                )
            )
        return TopicResult(topic=topic.slug, title=str(topic.title), graded=graded.label, tasks=tasks)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        """End a pytest of our own (a forked helper, or one started as `python -m pytest`, as checks are; not one
        that some program runs within itself) at once, once everything of the run is torn down and said: Python's
        own clean-up of the modules a check imported takes 0.03 s, paid twice when a helper's end is waited for.
        Exit handlers still run (pytest's removes the lock of its temporary folder)."""
        main = getattr(sys.modules.get("__main__"), "__spec__", None)
        started_so = getattr(main, "name", "") == "pytest.__main__" and tuple(sys.argv[1:]) == tuple(
            self.config.invocation_params.args)
        if self.session is None or not (self.forked or started_so):
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        atexit._run_exitfuncs()
        os._exit(int(self.session.exitstatus))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.results or self.config.getoption("view") != "student":
            return
        colour = use_colour()
        terminalreporter.write_line("")
        terminalreporter.write_line(render_language(colour))
        for result in self.results:
            terminalreporter.write_line(render_topic(result, colour=colour))
        if len(self.results) > 1:
            terminalreporter.write_line("")
            terminalreporter.write_line(render_course({r.topic: r for r in self.results}, colour=colour))
        complete = topics_complete(load_progress()) if self._is_students_own_work() else (0, 0)
        line = render_score(self.results, complete)
        if not self._is_students_own_work():
            line = line.split(" · ")[0]
        terminalreporter.write_line(line)
        # The score line says it all: pytest's "6 failed in 5.5s" would count tests, not tasks.
        self.config.option.verbose = min(self.config.option.verbose, -2)


_RUN = pytest.StashKey[_Run]()
