"""What students wait for, measured: `nox -s bench` prints a table.

- warm `nox -s check-<topic>` for every available topic, in a student's repository (solved, and untouched),
  and the solved topic with its hidden graders too, as Classroom CI grades it; with `--against REV`, only the
  solved checks of commit REV and of the working tree, in turns (what a change gained on a drifting machine);
- the forced race: how often the unlocked counter is rejected and the locked one accepted;
- the course's self-check for the topics of the harness issue.

Times are wall-clock medians of several runs on this machine, as a student would see them.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADING_PYTHON = ROOT / ".nox" / "grading" / "bin" / "python"
sys.path.insert(0, str(ROOT))

from graders.harness.core import curriculum, mutants  # noqa: E402
from graders.harness.core.student import Implementation, Spares, Student  # noqa: E402

ENV = {**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1"}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


# What a student should wait at most, on an idle 2-core machine: a solved topic, an untouched stub.
SOLVED_TARGET, STUB_TARGET = 1.0, 2.0


def wall(command: list[str], runs: int, cwd: Path = ROOT) -> float:
    """Median wall time of `command`, after one warm-up run."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def student_repository(folder: Path, *, solved: bool, source: Path = ROOT) -> Path:
    """The repository a student works in, exported from the working tree (or another course tree, `source`)
    without hidden graders (they run only in CI), untouched or with every exercise solved; it shares this
    checkout's grading environment."""
    from graders.harness.teacher.export import export

    export(folder, source)
    (folder / ".nox").symlink_to(ROOT / ".nox", target_is_directory=True)
    if solved:
        shutil.copytree(source / "solutions", folder / "exercises", dirs_exist_ok=True)
    return folder


def _nox() -> str:
    """The nox of this environment: what a venv's `pip install nox` gives a student (not a shim in front of it)."""
    return shutil.which("nox", path=str(Path(sys.executable).parent)) or "nox"


def _topics(only: set[str] | None) -> list[curriculum.Topic]:
    """The available topics, or those of them named in `only` (slugs)."""
    return [topic for topic in curriculum.topics() if topic.available and (not only or topic.slug in only)]


def checks(runs: int, only: set[str] | None = None) -> list[tuple[str, str]]:
    """Warm checks as a student runs them (in their own repository, with the nox a venv's `pip install nox`
    gives), and the same solved topic graded with its hidden graders too, as Classroom CI does."""
    nox = _nox()
    rows = []
    with tempfile.TemporaryDirectory(prefix="course-bench-") as scratch:
        solved_repo = student_repository(Path(scratch) / "solved", solved=True)
        stub_repo = student_repository(Path(scratch) / "stub", solved=False)
        for topic in _topics(only):
            check = [nox, "-s", f"check-{topic.slug}"]
            solved = wall(check, runs, solved_repo)
            stub = wall(check, runs, stub_repo)
            with_hidden = wall([*check, "--", "--impl", "solutions"], runs)
            verdict = "ok" if solved <= SOLVED_TARGET and stub <= STUB_TARGET else "over target"
            rows.append((f"warm nox -s check-{topic.slug}", f"{solved:.2f} s solved · {stub:.2f} s stub · "
                         f"{with_hidden:.2f} s with hidden graders · {verdict}"))
    return rows


def _committed(rev: str, into: Path) -> Path:
    """The course as commit `rev` has it, extracted into `into`."""
    from graders.harness.teacher.export import ExportError, extract_commit

    try:
        extract_commit(ROOT, rev, into)
    except ExportError as error:
        raise SystemExit(f"bench: {rev}: {error}") from None
    then, now = (curriculum.tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
                 ["dependency-groups"]["grading"] for tree in (into, ROOT))
    if then != now:
        raise SystemExit(f"bench: {rev} needs other grading dependencies; both sides share one environment")
    return into


def against(runs: int, rev: str, only: set[str] | None = None) -> list[tuple[str, str]]:
    """Warm solved checks of commit `rev` and of the working tree, taking turns run by run: on a machine whose
    speed drifts (a shared one does, by a factor of two within a day), both sides meet the same drift, so the
    difference is what the change did."""
    nox = _nox()
    rows = []
    with tempfile.TemporaryDirectory(prefix="course-bench-") as scratch:
        before = student_repository(Path(scratch) / "before", solved=True,
                                    source=_committed(rev, Path(scratch) / "tree"))
        after = student_repository(Path(scratch) / "after", solved=True)
        for topic in _topics(only):
            check = [nox, "-s", f"check-{topic.slug}"]
            times: dict[Path, list[float]] = {before: [], after: []}
            for attempt in range(runs + 1):
                for repo, seen in times.items():
                    started = time.perf_counter()
                    subprocess.run(check, cwd=repo, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    if attempt:  # the first round warms both up
                        seen.append(time.perf_counter() - started)
            old, new = (statistics.median(times[repo]) for repo in (before, after))
            rows.append((f"warm solved check-{topic.slug}", f"{old:.2f} s at {rev} · {new:.2f} s now · "
                         f"{new - old:+.2f} s"))
    return rows


def workers(repeats: int) -> list[tuple[str, str]]:
    """What a fresh worker costs a test: forked by the fork server (Linux), or spawned as on macOS and Windows
    (with a spare started during the previous test, which a busy machine pays for in CPU time)."""
    from graders.mongodb import probes

    rows = []
    for start in ("fork", "spawn"):
        os.environ["GRADE_WORKER_START"] = start
        spares = Spares()
        with tempfile.TemporaryDirectory() as workdir:
            implementation = Implementation("solutions", (ROOT / "solutions/mongodb",))
            times = []
            for _ in range(repeats + 1):
                started = time.perf_counter()
                student = Student(implementation, Path(workdir), spares=spares)
                student.run(probes.plain, 1, "bench")
                student.close()
                times.append(time.perf_counter() - started)
        spares.close()
        rows.append((f"a fresh worker per test, {start}ed", f"{statistics.median(times[1:]) * 1000:.0f} ms "
                     "(start, one call of a probe that imports pymongo, close)"))
    os.environ.pop("GRADE_WORKER_START")
    return rows


def race(repeats: int) -> list[tuple[str, str]]:
    """Task 2's check of the counter, `repeats` times against the unlocked mutant and the solution."""
    import pytest

    from graders.threads.test_threads import _hammer

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        unlocked = mutants.build(mutants.mutants_of("threads")["unlocked_counter"], ROOT / "solutions/threads")
        for label, layers, expected in [
            ("unlocked counter rejected", (unlocked,), False),
            ("locked counter accepted", (ROOT / "solutions/threads",), True),
        ]:
            student = Student(Implementation(label, layers), Path(workdir))
            hits, started = 0, time.perf_counter()
            for _ in range(repeats):
                try:
                    _hammer(student, random.sample(range(60, 140), 4))
                    accepted = True
                except (AssertionError, pytest.fail.Exception):
                    accepted = False
                hits += accepted == expected
            per_run = (time.perf_counter() - started) / repeats
            student.close()
            rows.append((f"forced race: {label}", f"{hits} of {repeats} runs · {per_run * 1000:.0f} ms per run"))
    return rows


def class_of(size: int, topics: str | None = None) -> list[tuple[str, str]]:
    """Grade a class of generated submissions (50 by default), sandboxed where the machine allows it: 40 % solved,
    40 % untouched stubs, 20 % broken (a syntax error, or an endless loop at import, in one file of every topic).
    `topics`: comma-separated, or every topic of the course."""
    chosen = [t for t in curriculum.topics() if t.available and (not topics or t.slug in topics.split(","))]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "submissions"
        for number in range(size):
            kind = "solutions" if number < size * 0.4 else "exercises"
            for topic in chosen:
                target = folder / f"student{number:02d}" / topic.dir
                shutil.copytree(ROOT / kind / topic.dir, target, ignore=shutil.ignore_patterns("__pycache__"))
                python = sorted(target.glob("*.py"))
                if number >= size * 0.8 and python:
                    python[0].write_text("def broken(:\n" if number % 2 else "while True:\n    pass\n")
        started = time.perf_counter()
        run = subprocess.run([str(GRADING_PYTHON), "-m", "graders.harness.teacher.gradebook", str(folder),
                              "--topics", ",".join(t.slug for t in chosen),
                              "--out", str(Path(scratch) / "gradebook")], cwd=ROOT, env=ENV, capture_output=True,
                             text=True)
        elapsed = time.perf_counter() - started
        book = Path(scratch) / "gradebook" / "gradebook.csv"
        totals = collections.Counter(row["total"] for row in csv.DictReader(book.open())) if book.exists() else {}
    lines = run.stdout.strip().splitlines() or [run.stderr.strip() or "?"]
    mode = "sandboxed" if lines[0].startswith("sandbox:") else "NOT sandboxed"
    what = "the whole course" if len(chosen) > 1 and not topics else ", ".join(t.slug for t in chosen)
    scores = ", ".join(f"{count} × {total}" for total, count in sorted(totals.items(), key=lambda item: -item[1]))
    return [(f"nox -s grade: {size} submissions of {what}, {mode}", f"{elapsed:.1f} s ({lines[-1].split(' → ')[0]})"),
            ("  their totals (expected: the solved ones full marks, the others 0)", scores or "no gradebook")]


def self_check(topics: list[str]) -> list[tuple[str, str]]:
    selection = " or ".join(topics)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_course.py", "-k", selection],
                         cwd=ROOT, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    summary = (run.stdout.strip().splitlines() or ["?"])[-1]
    return [(f"self-check of {', '.join(topics)}", f"{elapsed:.1f} s ({summary})")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per check (median)")
    parser.add_argument("--race", type=int, default=100, help="forced-race repetitions")
    parser.add_argument("--only", choices=["checks", "workers", "race", "class", "self-check"], action="append",
                        help="measure only this part (repeatable); default: all")
    parser.add_argument("--class-topics", metavar="SLUGS", help="the class's topics (default: the whole course)")
    parser.add_argument("--class-size", type=int, default=50, help="submissions in the class (default 50)")
    parser.add_argument("--topics", metavar="SLUGS", help="warm checks of these topics only (comma-separated)")
    parser.add_argument("--against", metavar="REV",
                        help="only this: warm solved checks of commit REV and of the working tree, in turns")
    options = parser.parse_args()
    only = set(options.topics.split(",")) if options.topics else None
    if only and (unknown := only - {topic.slug for topic in _topics(None)}):
        parser.error(f"no such topic: {', '.join(sorted(unknown))}")
    parts = {
        "checks": lambda: checks(options.runs, only),
        "workers": lambda: workers(options.runs * 4),
        "race": lambda: race(options.race),
        "class": lambda: class_of(options.class_size, options.class_topics),
        "self-check": lambda: self_check(["threads", "epoll", "sql-queries"]),
    }
    if options.against:
        rows = against(options.runs, options.against, only)
    else:
        rows = [row for name, measure in parts.items() if not options.only or name in options.only
                for row in measure()]
    width = max(len(name) for name, _ in rows)
    print(f"\n{'measure'.ljust(width)}  result   ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    if not options.against and (not options.only or "checks" in options.only):
        print(f"targets: a solved topic at most {SOLVED_TARGET} s, an untouched stub at most {STUB_TARGET} s")


if __name__ == "__main__":
    main()
