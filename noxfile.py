"""Check your exercises: `nox -s check-<topic>` grades one topic, `nox -s check` grades them all; `nox -s watch`
checks again on every save. Run one with `nox -s NAME` (nox marks each with "-": a bare `nox` runs none).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
from pathlib import Path

import nox
import nox.virtualenv
from packaging.version import Version

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from graders.harness.core import curriculum  # noqa: E402

nox.needs_version = ">=2024.10.9"
nox.options.sessions = []  # a bare `nox` lists the sessions instead of running all of them
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


class _FailedTasksAreNoCrash(logging.Filter):
    """Hides nox's "Command … failed with exit code N" and "Session … failed." where our program has already
    said why: pytest's exit code 1 after a check means tasks failed, which the score table has just said, and
    a harness program's exit code 2 follows its one-line usage error. To a student those lines read like a
    crash. Other exit codes (an interrupted or broken run) are still reported; the exit code stays non-zero."""

    COMMAND = re.compile(
        r"Command .* -m (pytest graders/\S+.* failed with exit code 1|graders\.harness\.\S+.* failed with exit code 2)$"
    )
    SESSION = re.compile(r"Session \S+ failed\.$")

    def __init__(self) -> None:
        super().__init__()
        self.graded = False

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.COMMAND.match(text):
            self.graded = True
            return False
        if self.SESSION.match(text) and self.graded:
            self.graded = False
            return False
        return True


logging.getLogger("nox").addFilter(_FailedTasksAreNoCrash())
# Every session here has python=False, and `environment()` looks for uv itself; yet before each session nox looks
# for uv too: it runs `uv self version` (0.01 s, or 0.06 s through a pyenv shim, in every check), or says "uv
# binary not found." where there is none, which reads like an error. nox.virtualenv takes these names as found,
# if they are set, instead of looking.
nox.virtualenv.HAS_UV, nox.virtualenv.UV, nox.virtualenv.UV_VERSION = False, "uv", Version("0")
ENVIRONMENTS = ROOT / ".nox"


def environment(session: nox.Session, group: str) -> str:
    """The Python of a shared environment holding a dependency group of pyproject.toml.

    All check sessions share one environment (`.nox/grading`), built once and rebuilt only when the
    dependencies change: a warm check installs nothing, and nineteen topics do not cost nineteen installs.
    uv builds it when it is there; plain venv and pip otherwise.
    """
    requirements = nox.project.dependency_groups(PYPROJECT, group)
    fingerprint = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()
    venv = ENVIRONMENTS / group
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / ".course-fingerprint"
    if python.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return str(python)
    session.log(f"building the {group} environment in {venv.relative_to(ROOT)} (only this once)")
    uv = shutil.which("uv") or _bundled_uv()
    if uv:
        session.run(uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv), external=True)
        session.run(uv, "pip", "install", "--quiet", "--python", str(python), *requirements, external=True)
    else:
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
        session.run(str(python), "-m", "pip", "install", "--quiet", *requirements, external=True)
    stamp.write_text(fingerprint)
    return str(python)


def _bundled_uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    return find_uv_bin()


def pytest(session: nox.Session, group: str, *args: str) -> None:
    # Cached bytecode (and pytest's cached assertion rewrites) make a warm check twice as fast.
    env = {"PYTHONDONTWRITEBYTECODE": None}
    # --jobs auto: a slow topic's tests are graded in up to four pytest processes (graders/harness/core/parallel.py).
    session.run(environment(session, group), "-m", "pytest", *args, "--jobs", "auto", *session.posargs, env=env,
                external=True)


def _check(topic: curriculum.Topic):
    def check(session: nox.Session) -> None:
        if not topic.available:
            session.log(f"{topic.slug}: not available yet")
            return
        pytest(session, "grading", f"graders/{topic.dir}")

    check.__doc__ = f"{topic.title.en} · {topic.title.zh}" + ("" if topic.available else " (not available yet)")
    return check


for _topic in curriculum.topics():
    nox.session(name=f"check-{_topic.slug}", python=False, tags=["check"])(_check(_topic))
    if _topic.dir != _topic.slug:  # the folder's name works too: `nox -s check-sql_queries`
        _alias = _check(_topic)
        _alias.__doc__ = f"= check-{_topic.slug}"
        nox.session(name=f"check-{_topic.dir}", python=False)(_alias)


@nox.session(python=False)
def check(session: nox.Session) -> None:
    """Every available topic at once, with the score of each."""
    available = [f"graders/{topic.dir}" for topic in curriculum.topics() if topic.available]
    missing = [topic.slug for topic in curriculum.topics() if not topic.available]
    if missing:
        session.log(f"not available yet: {', '.join(missing)}")
    pytest(session, "grading", *available)


@nox.session(python=False)
def test(session: nox.Session) -> None:
    """The course's self-check: solutions earn full marks, stubs zero, mutants fail; the harness works.

    `-- tests/test_course.py -k threads` runs a part of it.
    """
    python = environment(session, "dev")
    session.run(python, "-m", "ruff", "check", "graders", "solutions", "tests", "noxfile.py", external=True)
    session.run(python, "-m", "pytest", *(session.posargs or ["tests"]), "-p", "no:randomly",
                env={"PYTHONDONTWRITEBYTECODE": None}, external=True)


@nox.session(python=False)
def soak(session: nox.Session) -> None:
    """The self-check N times over (`-- N [pytest args]`, default 3): every verdict that changed between rounds."""
    python = environment(session, "dev")
    session.run(python, "-m", "tests.soak", *session.posargs, env={"PYTHONDONTWRITEBYTECODE": None},
                external=True)


def harness(session: nox.Session, module: str, interrupt_timeout: float = 0.3) -> None:
    """Run one of the harness's own programs (watch, hint, progress) in the grading environment."""
    python = environment(session, "grading")
    session.run(python, "-m", f"graders.harness.{module}", *session.posargs,
                env={"PYTHONDONTWRITEBYTECODE": None}, external=True, interrupt_timeout=interrupt_timeout)


@nox.session(python=False)
def watch(session: nox.Session) -> None:
    """Check again on every save; keys h hint, l list, n next topic, r reset a file, q quit (`-- <topic>`)."""
    harness(session, "loop.watch", interrupt_timeout=20)  # on Ctrl-C, time for the check in flight to stop


@nox.session(python=False)
def hint(session: nox.Session) -> None:
    """The hint for the first failing task of the topic you checked last (`-- <topic> [task]`); again for more."""
    harness(session, "loop.hints")


@nox.session(python=False)
def progress(session: nox.Session) -> None:
    """Every topic with its score and the date of its last check, and what to do next."""
    harness(session, "loop.progress")


@nox.session(python=False)
def reset(session: nox.Session) -> None:
    """Put an exercise file back as the stub, keeping yours as a backup: `-- <topic> [file|all]`."""
    harness(session, "loop.reset")


@nox.session(python=False)
def export(session: nox.Session) -> None:
    """Write the students' repository, from the last commit, to a new folder: no solutions or hidden graders."""
    harness(session, "teacher.export")


@nox.session(python=False)
def grade(session: nox.Session) -> None:
    """Grade a class (a sandbox per submission) into gradebook/; `-- --shard K/N`, `-- --merge DIR...`."""
    harness(session, "teacher.gradebook")


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Render results: summary, annotations, classroom, gradescope, exercism, or a gradebook's class report."""
    harness(session, "views.reports")


@nox.session(python=False)
def gradescope(session: nox.Session) -> None:
    """Build Gradescope's autograder zip (setup.sh, run_autograder, the course with its hidden graders)."""
    python = environment(session, "grading")
    session.run(python, "-m", "graders.harness.teacher.gradescope", "build", *session.posargs,
                env={"PYTHONDONTWRITEBYTECODE": None}, external=True)


@nox.session(python=False)
def coverage(session: nox.Session) -> None:
    """Write COVERAGE.md from coverage.toml: every item of the course outline and the tasks that grade it."""
    harness(session, "teacher.coverage")


@nox.session(python=False)
def mutant(session: nox.Session) -> None:
    """A known-wrong variant as a teacher reads it: `-- TOPIC` lists them, `-- TOPIC NAME` shows one's diff."""
    harness(session, "core.mutants")


@nox.session(name="services-down", python=False)
def services_down(session: nox.Session) -> None:
    """Stop the services the checks started (docker compose, the embedded MongoDB)."""
    harness(session, "services.down")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Measure what students wait for: warm checks, the forced race, the self-check. Prints a table."""
    python = environment(session, "dev")
    environment(session, "grading")
    session.run(python, "-m", "tests.bench", *session.posargs, env={"PYTHONDONTWRITEBYTECODE": None},
                external=True)


if __name__ == "__main__":
    nox.main()
