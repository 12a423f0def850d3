"""A check in several pytest processes at once: the tasks of a slow topic shared out, their results merged.

Most of a check's time is waiting (a thread held at the grader's switchboard, a datagram that never comes,
200 clients served), not computing, so two or three processes grading different tasks finish sooner than one,
even on two cores. The pytest a student starts is the controller: it keeps one share of the tasks, starts a
pytest for each other share (`--part`), and takes those tasks' results from their JSON. A task is never split:
all its tests run in one process, which judges it as a whole.

Shares are balanced on how long each task took the last time it was graded here (`.results/durations.json`,
written by every run but a mutant's or a helper's), and on how long a pytest takes here to reach its first test
(measured by every such run too: 0.3 s on a fast machine, over a second on a slow one). A topic is split into as
many shares as shorten the check by a noticeable amount, so a quick topic is not split at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from graders.harness.core.results import PROGRESS_DIR

DURATIONS = PROGRESS_DIR / "durations.json"
UNKNOWN_TEST_SECONDS = 0.4  # a test never timed here yet
STARTING_SECONDS = 0.5  # what a second pytest costs before its first test, until a run here has measured it
STARTING_KEY = "(pytest start)"  # where durations.json keeps that measure
WORTH_GAINING_SECONDS = 0.1  # one more process must shorten the check by this much
MOST_PROCESSES = 3  # for `auto`: mostly waiting, a check gains from a third process even on two cores


Task = tuple[str, int]  # (topic slug, task number)


def jobs(option: str) -> tuple[int, bool]:
    """How many processes `--jobs` asks for, and whether only if it pays: "auto" is up to three for a topic slow
    enough; a number is that many, always (the tests use it)."""
    if option == "auto":
        return MOST_PROCESSES, True
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


def save_durations(measured: dict[Task, float], path: Path = DURATIONS, *, starting: float | None = None) -> None:
    """Remember how long each task took (only tasks that ran to the end are worth remembering) and, averaged with
    what was known, how long this pytest took to reach its first test. A course on a read-only disk just keeps
    its estimates."""
    known = load_durations(path)
    known.update({f"{slug}:{number}": round(seconds, 3) for (slug, number), seconds in measured.items()})
    if starting is not None:
        before = known.get(STARTING_KEY)
        known[STARTING_KEY] = round(starting if before is None else (before + starting) / 2, 3)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(known, indent=0, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)


def shares(tests: dict[Task, int], wanted: int, durations: dict[str, float], *, if_it_pays: bool = True
           ) -> list[list[Task]]:
    """The tasks in at most `wanted` shares of about equal expected time, the first one the controller's (it
    starts at once, the others a pytest start later); with `if_it_pays`, only as many shares as each shorten the
    check by WORTH_GAINING_SECONDS."""
    cost = {task: durations.get(f"{task[0]}:{task[1]}", count * UNKNOWN_TEST_SECONDS) for task, count in tests.items()}
    most = max(1, min(wanted, len(cost)))
    if not if_it_pays:
        return _balanced(cost, most, starting=0.0)[0]
    starting = durations.get(STARTING_KEY, STARTING_SECONDS)
    chosen, longest = _balanced(cost, 1, starting)
    for count in range(2, most + 1):
        candidate, candidate_longest = _balanced(cost, count, starting)
        if candidate_longest > longest - WORTH_GAINING_SECONDS:
            break
        chosen, longest = candidate, candidate_longest
    return chosen


def _balanced(cost: dict[Task, float], count: int, starting: float) -> tuple[list[list[Task]], float]:
    """The tasks in `count` shares, each longest task first into the share that would end first (the helpers'
    shares start `starting` s late), and when the last share is expected to end."""
    bins: list[list[Task]] = [[] for _ in range(count)]
    loads = [0.0] + [starting] * (count - 1)
    for task in sorted(cost, key=lambda task: (-cost[task], task)):
        lightest = loads.index(min(loads))
        bins[lightest].append(task)
        loads[lightest] += cost[task]
    return [sorted(share) for share in bins if share] or [[]], max(loads)


def part_text(share: list[Task]) -> str:
    return ",".join(f"{slug}:{number}" for slug, number in share)


def parse_part(text: str) -> set[Task]:
    """`--part sockets:1,sockets:5` as a set of tasks."""
    found = set()
    for piece in filter(None, text.split(",")):
        slug, _, number = piece.rpartition(":")
        found.add((slug, int(number)))
    return found
