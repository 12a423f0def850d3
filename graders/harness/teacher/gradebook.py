"""`nox -s grade -- <folder of submissions>`: grade a whole class and write a CSV gradebook.

Each subfolder of the given folder is one student's submission: a copy of `exercises/` (or a whole clone
of the student's repository, whose `exercises/` is then used). Every submission is graded on a private copy,
in a pytest run of its own with a time limit, a few at a time, inside a sandbox (`teacher/sandbox.py`): a uid
of its own, its own pid and network namespaces, a filesystem without solutions, hidden graders, the gradebook
or other submissions, and MySQL, Redis and MongoDB behind guards that keep it to its scratch space. The
results are written by the grading pytest process (root, outside the sandbox) to a folder no sandbox can see,
and only then copied to the gradebook. Before the class, solutions/ is graded the same
way: if it does not earn full marks, the sandbox (not the students) is broken, and nothing is written.

Writes `<out>/gradebook.csv` (one row per student, one column per topic, the total and a status),
`<out>/<student>.json` (each student's results, file paths relative to the submission), and a class report
`<out>/report.md` and `<out>/report.html` (score distribution per task, the most frequent failures).

`--shard K/N` grades the K-th of N slices of the class (for a matrix of machines); `--merge DIR ...` merges the
outputs of the shards into one gradebook.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from graders.harness.core import cli, curriculum, platform
from graders.harness.core.results import TopicResult, from_json, to_json
from graders.harness.services import SERVICES, ServiceUnavailable, locate
from graders.harness.teacher import sandbox as sandboxes

GRACE = 30.0  # seconds a stopped run gets to write the results of the tasks it finished
TIME_LIMIT = "not graded: time limit"


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


def parse_topics(text: str | None) -> list[curriculum.Topic]:
    """The topics named (slugs or folder names, comma-separated), or every available one."""
    available = [topic for topic in curriculum.topics() if topic.available]
    if not text:
        return available
    chosen: list[curriculum.Topic] = []
    for name in filter(None, (part.strip() for part in text.split(","))):
        try:
            topic = curriculum.topic(name)
        except (KeyError, ValueError):
            topic = None
        if topic is None or topic not in available:
            valid = ", ".join(t.slug for t in available)
            raise ValueError(f"--topics: {name!r} is not a topic of this course (choose from: {valid})")
        if topic not in chosen:
            chosen.append(topic)
    return [topic for topic in available if topic in chosen]


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 1, 1
    number, _, count = text.partition("/")
    if not (number.isdigit() and count.isdigit() and 1 <= int(number) <= int(count)):
        raise ValueError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 2/4")
    return int(number), int(count)


def relative(results: list[TopicResult], copy: Path, prefix: str) -> list[TopicResult]:
    """The results with every path into the private copy rewritten relative to the submission
    (`exercises/threads/counter.py` for a clone), so `report annotations` works in the student's checkout."""
    inside = str(copy.resolve())
    for topic in results:
        topic.graded = topic.graded.replace(inside + "/", prefix).replace(inside, prefix.rstrip("/") or ".")
        for task in topic.tasks:
            if task.file and task.file.startswith(inside + "/"):
                task.file = prefix + task.file[len(inside) + 1:]
            task.message = task.message.replace(inside + "/", prefix)
    return results


def _run(command: list[str], env: dict[str, str], limit: float, pass_fds: tuple[int, ...] = ()) -> bool:
    """Run one submission's pytest; True when it ended by itself. At the limit it gets SIGTERM (the plugin
    turns it into an interruption that still writes the results of finished tests), then SIGKILL."""
    process = subprocess.Popen(command, cwd=curriculum.ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               pass_fds=pass_fds)
    try:
        process.wait(timeout=limit)
        return True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=GRACE)
        return False
    finally:
        platform.kill_tree(process.pid)
        process.wait()


class Grader:
    """Grades submissions one by one, in sandboxes or (trusted samples only) without."""

    def __init__(self, topics: list[curriculum.Topic], out: Path, limit: float, extra: list[str],
                 view: sandboxes.ClassView | None, scratch: Path, worker_user: str | None = None) -> None:
        self.topics, self.out, self.limit, self.extra = topics, out, limit, extra
        self.view, self.scratch = view, scratch
        self.worker_user = worker_user  # no sandbox, but student code as this user (Gradescope's container)

    def grade(self, index: int, name: str, source: Path) -> tuple[Row, list[TopicResult] | None]:
        started = time.monotonic()
        private = self.scratch / f"run-{index:04d}"  # root's, never inside a sandbox
        private.mkdir(mode=0o700, exist_ok=True)
        results_path = private / "results.json"
        env = {**os.environ, "COURSE_LANG": os.environ.get("COURSE_LANG", "en")}
        command = [sys.executable, "-m", "pytest", *(f"graders/{topic.dir}" for topic in self.topics),
                   "--results-json", str(results_path), "--view", "pytest", "-q", "--tb=no",
                   "-p", "no:cacheprovider", *self.extra,
                   "--jobs", "1"]  # one pytest per submission: its guards and scratch spaces live in that process
        box = None
        pass_fds: tuple[int, ...] = ()
        if self.view is not None:
            box = self.view.submission(index, source)
            copy = box.code
            for service in SERVICES.values():  # the run reaches the servers through its guards only
                env.pop(service.env, None)
            env.update(box.environment())
            command += ["-p", sandboxes.PLUGIN, "--basetemp", str(box.work / "checks")]
            pass_fds = (self.view.host_network,)
        else:
            copy = private / "code"
            shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".git"))
            if self.worker_user:  # the user must read the copy (and only read it)
                for folder in (self.scratch, private):
                    folder.chmod(0o755)
                for folder, _dirs, files in os.walk(copy):
                    Path(folder).chmod(0o755)
                    for name in files:
                        (Path(folder) / name).chmod(0o644)
                command += ["--worker-user", self.worker_user]
        command += ["--impl", str(copy)]
        if box is not None:
            command = box.command(command)
        try:
            finished = _run(command, env, self.limit, pass_fds)
        finally:
            if box is not None:
                box.end()
        prefix = "exercises/" if source.name == "exercises" else ""
        points = {topic.slug: 0.0 for topic in self.topics}
        results = None
        if results_path.exists():
            try:
                results = relative(from_json(results_path.read_text(encoding="utf-8")), copy, prefix)
            except (ValueError, KeyError, TypeError):
                results = None
        if results is None:
            status = ("no results: stopped at the time limit before any test ended" if not finished
                      else "no results (the grading run crashed): regrade")
        else:
            status = "graded"
            missing = 0
            for topic in results:
                points[topic.topic] = topic.points
                for task in topic.tasks:
                    if task.status == "not-run" and not finished:
                        task.message = f"{TIME_LIMIT} ({self.limit:g} s for the whole submission)"
                        missing += 1
            if any(task.status == "error" for topic in results for task in topic.tasks):
                status = "infrastructure error: regrade"
            elif not finished:
                status = f"time limit: {missing} task(s) not graded"
            graded = {topic.topic for topic in results}
            if not finished and any(topic.slug not in graded for topic in self.topics):
                status = "time limit: some topics not graded"
        shutil.rmtree(private, ignore_errors=True)
        if box is not None:
            shutil.rmtree(box.code.parent, ignore_errors=True)
        return Row(name, points, status, time.monotonic() - started), results


def write_csv(rows: list[Row], topics: list[str], possible: float, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", *topics, "total", "max", "status"])
        for row in sorted(rows, key=lambda row: row.student):
            writer.writerow([row.student, *(f"{row.points.get(t, 0):g}" for t in topics), f"{row.total:g}",
                             f"{possible:g}", row.status])


def read_csv(path: Path) -> tuple[list[str], float, list[Row]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader)
        topics = header[1:-3]
        rows, possible = [], 0.0
        for record in reader:
            values = dict(zip(header, record, strict=True))
            possible = float(values["max"])
            rows.append(Row(values["student"], {t: float(values[t]) for t in topics}, values["status"], 0.0))
    return topics, possible, rows


def write_reports(out: Path, rows: list[Row]) -> None:
    from graders.harness.views import reports

    by_student = {}
    for row in rows:
        path = out / f"{row.student}.json"
        if path.exists():
            by_student[row.student] = from_json(path.read_text(encoding="utf-8"))
    statuses = {row.student: row.status for row in rows}
    (out / "report.md").write_text(reports.class_markdown(by_student, statuses), encoding="utf-8")
    (out / "report.html").write_text(reports.class_html(by_student, statuses), encoding="utf-8")


def merge(folders: list[Path], out: Path) -> int:
    """One gradebook from the outputs of several shards."""
    rows: dict[str, Row] = {}
    topics: list[str] | None = None
    possible = 0.0
    out.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        book = folder / "gradebook.csv"
        if not book.is_file():
            print(f"{folder}: no gradebook.csv (is it a shard's --out folder?)", file=sys.stderr)
            return 2
        shard_topics, possible, shard_rows = read_csv(book)
        if topics is not None and shard_topics != topics:
            print(f"{folder}: graded {', '.join(shard_topics)}, the others {', '.join(topics)}", file=sys.stderr)
            return 2
        topics = shard_topics
        for row in shard_rows:
            if row.student in rows:
                print(f"{row.student} was graded by two shards ({folder})", file=sys.stderr)
                return 2
            rows[row.student] = row
            source = folder / f"{row.student}.json"
            if source.exists() and source.resolve() != (out / source.name).resolve():
                shutil.copy2(source, out / source.name)
    write_csv(list(rows.values()), topics or [], possible, out / "gradebook.csv")
    write_reports(out, list(rows.values()))
    print(f"merged {len(rows)} students from {len(folders)} shards → {out / 'gradebook.csv'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?", help="a folder with one subfolder per student")
    parser.add_argument("--topics", help="comma-separated topics, slugs or folder names (default: every one)")
    parser.add_argument("--out", type=Path, default=Path("gradebook"), help="where to write (default: gradebook/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: one per core: the concurrency graders time "
                        "their clients, and an oversubscribed machine can fail correct code)")
    parser.add_argument("--limit", type=float, default=600, help="seconds one submission may take (default 600)")
    parser.add_argument("--shard", metavar="K/N", help="grade only the K-th of N slices of the class")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="DIR", help="merge shards' --out folders")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without the sandbox: ONLY for samples you trust (your own)")
    parser.add_argument("--no-canary", action="store_true", help="do not grade solutions/ first")
    parser.add_argument("--no-pid-namespace", action="store_true",
                        help="sandbox without a pid namespace of its own (the machine's process list in view)")
    options, extra = parser.parse_known_args(argv)
    if options.merge:
        return merge(options.merge, options.out)
    if options.submissions is None:
        parser.error("name the folder of submissions (or --merge shard folders)")
    try:
        topics = parse_topics(options.topics)
        shard, shards = parse_shard(options.shard)
    except ValueError as error:
        parser.error(str(error))
    everyone = sorted(path for path in options.submissions.iterdir() if path.is_dir())
    chosen = [(index, path) for index, path in enumerate(everyone, 1) if (index - 1) % shards == shard - 1]
    if not chosen or not topics:
        print("nothing to grade: no submissions or no topics", file=sys.stderr)
        return 2

    if options.no_sandbox:
        print("!!! NO SANDBOX: student code runs as you, and can read solutions and change grades. "
              "Use --no-sandbox only for samples you trust. !!!", flush=True)
    else:
        missing = sandboxes.check()
        if missing:
            print(f"cannot grade in a sandbox: {missing} (for samples you trust: --no-sandbox)", file=sys.stderr)
            return 2
        busy = sandboxes.processes_of(range(sandboxes.UID_BASE, sandboxes.UID_BASE + len(everyone) + 1))
        if busy:
            print(f"processes of uids {sandboxes.UID_BASE}+ still run (pids {busy[:5]}): is another class "
                  "being graded here?", file=sys.stderr)
            return 2
        needed = sorted({service for topic in topics for service in topic.services})
        try:
            upstream = {name: locate(name) for name in needed}
        except ServiceUnavailable as error:
            print(f"cannot grade: {error}", file=sys.stderr)
            return 2
        print("sandbox: bubblewrap, a uid and a pid namespace per submission, no solutions/hidden graders/"
              "gradebook/other submissions in view; a network namespace per submission"
              + (f", {'/'.join(needed)} behind guards that let student code reach only its scratch space"
                 if needed else ""), flush=True)
    slice_note = f" (shard {shard}/{shards} of {len(everyone)})" if shards > 1 else ""
    print(f"grading {len(chosen)} submissions{slice_note}: {', '.join(t.slug for t in topics)}", flush=True)

    options.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="course-class-"))
    view = None if options.no_sandbox else sandboxes.ClassView(scratch / "view", not options.no_pid_namespace,
                                                                upstream)
    grader = Grader(topics, options.out, options.limit, extra, view, scratch)
    possible = sum(topic.points for topic in topics)
    started = time.monotonic()
    try:
        canary = curriculum.ROOT / "solutions"
        if not options.no_canary and canary.is_dir():
            row, results = grader.grade(0, "solutions", canary)
            if row.total != possible:
                print(f"solutions/ earned {row.total:g} of {possible:g} ({row.status}): grading itself is broken "
                      "here, not the students; nothing was written (--no-canary skips this check)", file=sys.stderr)
                for topic in results or []:
                    for task in topic.tasks:
                        if task.status != "passed":
                            first = task.message.splitlines()[0] if task.message else task.status
                            print(f"  {topic.topic} task {task.task}: {first[:300]}", file=sys.stderr)
                return 3
            print(f"solutions/ earn {row.total:g}/{possible:g} in {row.seconds:.0f} s: grading works", flush=True)
        rows = _grade_class(grader, chosen, options.jobs, started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_csv(rows, [topic.slug for topic in topics], possible, options.out / "gradebook.csv")
    write_reports(options.out, rows)
    elapsed = time.monotonic() - started
    for row in sorted(rows, key=lambda row: row.student):
        print(f"{row.student:<24} {row.total:>6g}  {row.status}")
    print(f"graded {len(rows)} submissions in {elapsed:.1f} s ({elapsed / len(rows):.1f} s each) → "
          f"{options.out / 'gradebook.csv'}, report.md, report.html")
    return 0


def _grade_class(grader: Grader, chosen: list[tuple[int, Path]], jobs: int, started: float) -> list[Row]:
    rows: list[Row] = []
    lock = threading.Lock()

    def one(index: int, path: Path) -> Row:
        row, results = grader.grade(index, path.name, submission_folder(path))
        if results is not None:
            (grader.out / f"{path.name}.json").write_text(to_json(results), encoding="utf-8")
        return row

    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(one, index, path) for index, path in chosen]
        for future in as_completed(futures):
            row = future.result()
            with lock:
                rows.append(row)
                done, elapsed = len(rows), time.monotonic() - started
                left = elapsed / done * (len(chosen) - done)
                print(f"[{done}/{len(chosen)}] {row.student}: {row.total:g} ({row.status}, {row.seconds:.0f} s)"
                      f" · about {left / 60:.1f} min left", flush=True)
    return rows


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "grade"))
