"""A check in several pytest processes at once: the tasks of a slow topic shared out, their results merged.

Most of a check's time is waiting (a thread held at the grader's switchboard, a datagram that never comes,
200 clients served), not computing, so two or three processes grading different tasks finish sooner than one,
even on two cores. The pytest a student starts is the controller: it keeps one share of the tasks, starts a
pytest for each other share (`--part`), and takes those tasks' results from their JSON. A task is never split:
all its tests run in one process, which judges it as a whole.

Shares are balanced on how long each task took the last time it was graded here (`.results/durations.json`,
written by every run but a mutant's or a helper's), so a topic that is quick anyway is not split at all:
starting a pytest costs about half a second.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from graders.harness.core.results import PROGRESS_DIR

DURATIONS = PROGRESS_DIR / "durations.json"
UNKNOWN_TEST_SECONDS = 0.4  # a test never timed here yet
WORTH_SPLITTING_SECONDS = 1.5  # below this a topic's tasks run in one process
STARTING_SECONDS = 0.5  # what a second pytest costs before its first test


Task = tuple[str, int]  # (topic slug, task number)


def jobs(option: str) -> tuple[int, bool]:
    """How many processes `--jobs` asks for, and whether only if it pays: "auto" is up to three (no more than
    the CPUs) for a topic slow enough; a number is that many, always (the tests use it)."""
    if option == "auto":
        return max(1, min(3, os.cpu_count() or 1)), True
    try:
        return max(1, int(option)), False
    except ValueError:
        raise ValueError(f"--jobs {option!r}: write a number or `auto`") from None


def load_durations(path: Path = DURATIONS) -> dict[str, float]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: float(value) for key, value in found.items() if isinstance(value, (int, float))}


def save_durations(measured: dict[Task, float], path: Path = DURATIONS) -> None:
    """Remember how long each task took (only tasks that ran to the end are worth remembering). A course on a
    read-only disk just keeps its estimates."""
    known = load_durations(path)
    known.update({f"{slug}:{number}": round(seconds, 3) for (slug, number), seconds in measured.items()})
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(known, indent=0, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)


def shares(tests: dict[Task, int], wanted: int, durations: dict[str, float], *, if_it_pays: bool = True
           ) -> list[list[Task]]:
    """The tasks in at most `wanted` shares of about equal expected time, the first one the controller's
    (it starts at once); with `if_it_pays`, one share when splitting would not pay for the extra pytest."""
    cost = {task: durations.get(f"{task[0]}:{task[1]}", count * UNKNOWN_TEST_SECONDS) for task, count in tests.items()}
    total = sum(cost.values())
    if if_it_pays:
        wanted = min(wanted, max(1, int(total / (2 * STARTING_SECONDS))))  # each share worth its start
        if total < WORTH_SPLITTING_SECONDS:
            wanted = 1
    wanted = min(wanted, len(cost))
    if wanted <= 1:
        return [sorted(cost)]
    bins: list[list[Task]] = [[] for _ in range(wanted)]
    loads = [0.0] + [STARTING_SECONDS if if_it_pays else 0.0] * (wanted - 1)
    for task in sorted(cost, key=lambda task: (-cost[task], task)):
        lightest = loads.index(min(loads))
        bins[lightest].append(task)
        loads[lightest] += cost[task]
    return [sorted(share) for share in bins if share]


def part_text(share: list[Task]) -> str:
    return ",".join(f"{slug}:{number}" for slug, number in share)


def parse_part(text: str) -> set[Task]:
    """`--part sockets:1,sockets:5` as a set of tasks."""
    found = set()
    for piece in filter(None, text.split(",")):
        slug, _, number = piece.rpartition(":")
        found.add((slug, int(number)))
    return found
