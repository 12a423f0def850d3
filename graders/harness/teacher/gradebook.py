"""`nox -s grade -- <folder of submissions>`: grade a whole class and write a CSV gradebook.

Each subfolder of the given folder is one student's submission: a copy of `exercises/` (or a whole clone
of the student's repository, whose `exercises/` is then used). Every submission is graded on a copy of
its own, in a separate pytest run with a time limit, a few at a time: a submission that crashes, hangs
or deletes files costs only its own row. Databases, ports and processes are per test already.

Writes `<out>/gradebook.csv` (one row per student, one column per topic, the total and a status) and
`<out>/<student>.json`, each student's full results.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from graders.harness.core import curriculum
from graders.harness.core.results import from_json


@dataclass
class Row:
    student: str
    points: dict[str, float]
    status: str
    seconds: float

    @property
    def total(self) -> float:
        return sum(self.points.values())


def submission_folder(path: Path) -> Path:
    return path / "exercises" if (path / "exercises").is_dir() else path


def grade_one(submission: Path, topics: list[curriculum.Topic], out: Path, limit: float, extra: list[str]) -> Row:
    started = time.monotonic()
    results = out / f"{submission.name}.json"
    with tempfile.TemporaryDirectory(prefix="course-grade-") as scratch:
        copy = Path(scratch) / "submission"
        shutil.copytree(submission_folder(submission), copy, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".git"))
        command = [sys.executable, "-m", "pytest", *(f"graders/{topic.dir}" for topic in topics),
                   "--impl", str(copy), "--results-json", str(results), "--view", "pytest", "-q", "--tb=no",
                   "-p", "no:cacheprovider", *extra]
        env = {**os.environ, "COURSE_LANG": os.environ.get("COURSE_LANG", "en")}
        try:
            subprocess.run(command, cwd=curriculum.ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=limit, start_new_session=True)
            status = "graded"
        except subprocess.TimeoutExpired:
            status = f"stopped after {limit:g} s"
    points = {topic.slug: 0.0 for topic in topics}
    if results.exists() and status == "graded":
        for topic in from_json(results.read_text(encoding="utf-8")):
            points[topic.topic] = topic.points
            if topic.status == "error":
                status = "infrastructure error: regrade"
    elif status == "graded":
        status = "no results (the grading run crashed)"
    return Row(submission.name, points, status, time.monotonic() - started)


def write_csv(rows: list[Row], topics: list[curriculum.Topic], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", *(topic.slug for topic in topics), "total", "max", "status"])
        possible = sum(topic.points for topic in topics)
        for row in sorted(rows, key=lambda row: row.student):
            writer.writerow([row.student, *(f"{row.points[t.slug]:g}" for t in topics), f"{row.total:g}",
                             possible, row.status])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="a folder with one subfolder per student")
    parser.add_argument("--topics", help="comma-separated slugs (default: every available topic)")
    parser.add_argument("--out", type=Path, default=Path("gradebook"), help="where to write (default: gradebook/)")
    parser.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2),
                        help="submissions graded at once (default: twice the cores: runs mostly wait)")
    parser.add_argument("--limit", type=float, default=600, help="seconds one submission may take (default 600)")
    options, extra = parser.parse_known_args(argv)

    topics = [topic for topic in curriculum.topics() if topic.available]
    if options.topics:
        wanted = set(options.topics.split(","))
        topics = [topic for topic in topics if topic.slug in wanted]
    submissions = sorted(path for path in options.submissions.iterdir() if path.is_dir())
    if not submissions or not topics:
        print("nothing to grade: no submissions or no topics", file=sys.stderr)
        return 2
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ThreadPoolExecutor(options.jobs) as pool:
        rows = list(pool.map(lambda s: grade_one(s, topics, options.out, options.limit, extra), submissions))
    write_csv(rows, topics, options.out / "gradebook.csv")
    elapsed = time.monotonic() - started
    for row in sorted(rows, key=lambda row: row.student):
        print(f"{row.student:<24} {row.total:>6g}  {row.status}")
    print(f"graded {len(rows)} submissions in {elapsed:.1f} s → {options.out / 'gradebook.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
