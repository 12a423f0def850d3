"""What students wait for, measured: `nox -s bench` prints a table.

- warm `nox -s check-<topic>` for every available topic (graded solution and untouched stub), and a bare
  `pytest` run of the same graders, so the cost of nox and of the harness can be seen;
- the forced race: how often the unlocked counter is rejected and the locked one accepted;
- the course's self-check for the topics of the harness issue.

Times are wall-clock medians of several runs on this machine, as a student would see them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graders.harness import curriculum  # noqa: E402
from graders.harness.student import Implementation, Student  # noqa: E402

GRADING_PYTHON = ROOT / ".nox" / "grading" / "bin" / "python"
ENV = {**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1"}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


def wall(command: list[str], runs: int) -> float:
    """Median wall time of `command`, after one warm-up run."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def checks(runs: int) -> list[tuple[str, str]]:
    rows = []
    for topic in curriculum.topics():
        if not topic.available:
            continue
        solved = wall(["nox", "-s", f"check-{topic.slug}", "--", "--impl", "solutions"], runs)
        stub = wall(["nox", "-s", f"check-{topic.slug}"], runs)
        bare = wall([str(GRADING_PYTHON), "-m", "pytest", "-q", f"graders/{topic.dir}", "--impl", "solutions"], runs)
        rows.append((f"warm nox -s check-{topic.slug}", f"{solved:.2f} s solved · {stub:.2f} s stub · "
                     f"bare pytest {bare:.2f} s (×{solved / bare:.2f})"))
    return rows


def race(repeats: int) -> list[tuple[str, str]]:
    from graders.threads import probes

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for label, layers, expected in [
            ("unlocked counter rejected", (ROOT / "graders/threads/mutants/unlocked_counter",
                                           ROOT / "solutions/threads"), False),
            ("locked counter accepted", (ROOT / "solutions/threads",), True),
        ]:
            student = Student(Implementation(label, layers), Path(workdir))
            hits, started = 0, time.perf_counter()
            for _ in range(repeats):
                total = student.run(probes.hammer_counter, threads=4, increments=100, timeout=20)
                hits += (total == 400) == expected
            per_run = (time.perf_counter() - started) / repeats
            student.close()
            rows.append((f"forced race: {label}", f"{hits} of {repeats} runs · {per_run * 1000:.0f} ms per run"))
    return rows


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
    options = parser.parse_args()

    rows = [*checks(options.runs), *race(options.race), *self_check(["threads", "epoll", "sql-queries"])]
    width = max(len(name) for name, _ in rows)
    print(f"\n{'measure'.ljust(width)}  result   ({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
