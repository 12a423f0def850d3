"""One result model for every view: the terminal, the JSON files, Classroom, Gradescope and exercism.

A grading run produces a list of `TopicResult`, each holding one `TaskResult` per task of the manifest.
Everything a student, a teacher or a CI step is shown is rendered from these records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from graders.harness.core.curriculum import ROOT, Topic, topics

SCHEMA_VERSION = 1

# passed: earned its points. failed: the student's code is wrong (or not written yet).
# error: grading could not happen (a service is down); never the student's fault. not-run: deselected.
Status = Literal["passed", "failed", "error", "not-run"]


@dataclass
class TaskResult:
    topic: str
    task: int
    title: str
    points: float
    max_points: float
    status: Status
    message: str = ""
    hint: str = ""
    file: str | None = None
    line: int | None = None
    duration: float = 0.0
    tests: list[str] = field(default_factory=list)
    checks_in_ci: int = 0  # hidden checks of this task that did not run here (they run in Classroom CI)
    checked: str | None = None  # in saved progress: when this result was graded (ISO 8601, local time)


@dataclass
class TopicResult:
    topic: str
    title: str
    graded: str  # the folder that was graded, e.g. "exercises/threads/"
    tasks: list[TaskResult]

    @property
    def points(self) -> float:
        return sum(task.points for task in self.tasks)

    @property
    def max_points(self) -> float:
        return sum(task.max_points for task in self.tasks)

    @property
    def complete(self) -> bool:
        return bool(self.tasks) and all(task.status == "passed" for task in self.tasks)

    @property
    def checked(self) -> datetime | None:
        """When the latest of its saved results was graded; None for a run's own results and old progress."""
        times = [_parse_time(task.checked) for task in self.tasks]
        return max((time for time in times if time is not None), default=None)

    @property
    def status(self) -> Status:
        statuses = {task.status for task in self.tasks}
        for status in ("error", "failed", "not-run"):
            if status in statuses:
                return status  # type: ignore[return-value]
        return "passed"


def to_json(results: list[TopicResult]) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "points": sum(result.points for result in results),
        "max_points": sum(result.max_points for result in results),
        "topics": [asdict(result) for result in results],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def from_json(text: str) -> list[TopicResult]:
    document = json.loads(text)
    if document.get("version") != SCHEMA_VERSION:
        raise ValueError(f"results file version {document.get('version')}, expected {SCHEMA_VERSION}")
    return [
        TopicResult(
            topic=topic["topic"],
            title=topic["title"],
            graded=topic["graded"],
            tasks=[TaskResult(**task) for task in topic["tasks"]],
        )
        for topic in document["topics"]
    ]


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.astimezone()  # a naive time is taken as local time


PROGRESS_DIR = ROOT / ".results"


def save_progress(results: list[TopicResult], directory: Path = PROGRESS_DIR, now: datetime | None = None) -> None:
    """Keep each task's latest real result, for the next run's 'topics complete' and for `nox -s progress`.

    Only a task that was graded to its end (passed or failed) replaces what was saved, stamped with the time
    of this save (`checked`): an infrastructure error, an interrupted run or a task left out with -k keeps
    the earlier result and its time. Progress saved before times were kept loads with none.
    """
    stamp = (now or datetime.now()).astimezone().isoformat(timespec="milliseconds")
    directory.mkdir(exist_ok=True)
    (directory / ".gitignore").write_text("*\n")
    saved = load_progress(directory)
    for result in results:
        before = {task.task: task for task in saved[result.topic].tasks} if result.topic in saved else {}
        tasks = [
            replace(task, checked=stamp) if task.status in ("passed", "failed")
            else before.get(task.task, task)
            for task in result.tasks
        ]
        merged = TopicResult(topic=result.topic, title=result.title, graded=result.graded, tasks=tasks)
        path = directory / f"{result.topic}.json"
        staging = path.with_suffix(".json.tmp")
        staging.write_text(to_json([merged]), encoding="utf-8")
        staging.replace(path)


def load_progress(directory: Path = PROGRESS_DIR) -> dict[str, TopicResult]:
    progress = {}
    for topic in topics():
        path = directory / f"{topic.slug}.json"
        if path.is_file():
            try:
                progress[topic.slug] = from_json(path.read_text(encoding="utf-8"))[0]
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # an old or damaged file only means "not checked yet"
    return progress


def topics_complete(progress: dict[str, TopicResult]) -> tuple[int, int]:
    course: tuple[Topic, ...] = topics()
    done = sum(1 for topic in course if topic.slug in progress and progress[topic.slug].complete)
    return done, len(course)
