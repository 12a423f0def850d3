"""A check in several pytest processes at once: the tests of a slow topic shared out, their outcomes merged.

Most of a check's time is waiting (a thread held at the grader's switchboard, a datagram that never comes,
200 clients served), not computing, so several processes grading different tests finish sooner than one,
even on two cores. The pytest a student starts is the controller: once it has collected the tests, it decides
how many processes pay and starts helpers, which write how each of their tests ended to FOLDER/outcomes.json.
The controller judges every task from the outcomes of all its tests, wherever they ran, exactly as one process
would: a test whose outcome never came (its helper died, the run was interrupted) counts as not run, so a task is
never passed on the tests that happened to come back.

On Linux a helper is the controller forked, right after collection and before any thread, fork server or service
of the run has started: it grades its first test 5 ms later, where a new pytest takes 0.3 s or more to get there
(which is most of what a quick check costs). The controller and its forked helpers take the tests one at a time,
longest first, from a queue they share (`TestQueue`), so whichever process is free takes the next test and the
estimates below only decide how many processes to use. Elsewhere (macOS, where fork is unsafe once system
libraries have threads; Windows, which has no fork) a helper is a new pytest, `--part FOLDER`, that grades the
fixed share the controller wrote to FOLDER/tests.txt; GRADE_HELPER_START=spawn starts them so on Linux too.

The estimates are how long each test took the last time it was graded here (`.results/durations.json`, written
by every run but a mutant's or a helper's). A helper's work is counted as ending later than the controller's: by
its own setup (services, fork server) where it is forked, by twice a pytest's start where it is started (its
start, measured by every run, then its setup and the CPU its start takes from the others). A topic is split into
as many processes as shorten the check by a noticeable amount, so a quick topic (the SQL topics: a few tenths of
a second of short tests) is not split at all; split, it would be slower. A test not timed here yet keeps its
topic in one process: the times measured in a split run are those of processes competing for the CPU, too long to
tell whether splitting pays.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from graders.harness.core import platform
from graders.harness.core.results import PROGRESS_DIR

DURATIONS = PROGRESS_DIR / "durations.json"
UNKNOWN_TEST_SECONDS = 0.4  # a test never timed here yet, when --jobs N asks for N processes anyway
STARTING_SECONDS = 0.5  # what a second pytest costs before its first test, until a run here has measured it
HELPER_COST = 2  # a started helper costs this many pytest starts (its start, its own setup, the CPU it takes)
FORKED_HELPER_SECONDS = 0.15  # a forked one costs only its own setup (fork server, services) and that CPU
STARTING_KEY = "(pytest start)"  # where durations.json keeps that measure
WORTH_GAINING_SECONDS = 0.1  # one more process must shorten the check by this much
# For `auto`: mostly waiting, a check gains from a third process even on two cores, and from a fourth where
# helpers are forked (threads, queues, processes: 0.1 s each); more were slower.
MOST_PROCESSES, MOST_FORKED_PROCESSES = 3, 4
TESTS_FILE, OUTCOMES_FILE = "tests.txt", "outcomes.json"  # in a helper's --part folder
T = TypeVar("T")


def jobs(option: str) -> tuple[int, bool]:
    """How many processes `--jobs` asks for, and whether only if it pays: "auto" is up to four (three where helpers are
    started, not forked) for a topic slow enough; a number is that many, always (the tests use it)."""
    if option == "auto":
        return (MOST_FORKED_PROCESSES if forks() else MOST_PROCESSES), True
    try:
        return max(1, int(option)), False
    except ValueError:
        raise ValueError(f"--jobs {option!r}: write a number or `auto`") from None


def load_durations(path: Path = DURATIONS) -> dict[str, float]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {key: float(value) for key, value in found.items() if isinstance(value, (int, float))}


def save_durations(measured: dict[str, float], path: Path = DURATIONS, *, starting: float | None = None) -> None:
    """Remember how long each test took, by node id (only tests that ran to the end are worth remembering), and,
    averaged with what was known, how long this pytest took to reach its first test. A course on a read-only disk
    just keeps its estimates."""
    known = load_durations(path)
    known.update({nodeid: round(seconds, 3) for nodeid, seconds in measured.items()})
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


def shares(tests: list[str], wanted: int, durations: dict[str, float], *, if_it_pays: bool = True,
           late: float | None = None) -> list[list[str]]:
    """The tests (node ids, in the order given) in at most `wanted` shares of about equal expected time, the first
    one the controller's (it starts at once, the helpers `late` seconds later: see `helper_seconds`); with
    `if_it_pays`, only as many shares as each shorten the check by WORTH_GAINING_SECONDS, and one while some test
    has not been timed here."""
    cost = {nodeid: durations.get(nodeid, UNKNOWN_TEST_SECONDS) for nodeid in tests}
    most = max(1, min(wanted, len(cost)))
    if not if_it_pays:
        chosen = _balanced(cost, most, starting=0.0)[0]
    elif any(nodeid not in durations for nodeid in tests):
        chosen = [list(tests)]
    else:
        starting = helper_seconds(durations, forked=False) if late is None else late
        chosen, longest = _balanced(cost, 1, starting)
        for count in range(2, most + 1):
            candidate, candidate_longest = _balanced(cost, count, starting)
            if candidate_longest > longest - WORTH_GAINING_SECONDS:
                break
            chosen, longest = candidate, candidate_longest
    order = {nodeid: index for index, nodeid in enumerate(tests)}
    return [sorted(share, key=order.__getitem__) for share in chosen]


def helper_seconds(durations: dict[str, float], *, forked: bool, spawns_workers: bool = False) -> float:
    """How much later than the controller's a helper's work ends, for the same tests: a started helper's start
    and setup (twice a pytest's start), or a forked one's own setup, which takes a whole new Python where its tests'
    workers are spawned (GRADE_WORKER_START=spawn) rather than forked by a fork server."""
    starting = durations.get(STARTING_KEY, STARTING_SECONDS)
    if not forked:
        return HELPER_COST * starting
    return FORKED_HELPER_SECONDS + (starting if spawns_workers else 0.0)


def _balanced(cost: dict[str, float], count: int, starting: float) -> tuple[list[list[str]], float]:
    """The tests in `count` shares, each longest test first into the share that would end first (the helpers'
    shares start `starting` s late), and when the last share is expected to end."""
    bins: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] + [starting] * (count - 1)
    for nodeid in sorted(cost, key=lambda nodeid: (-cost[nodeid], nodeid)):
        lightest = loads.index(min(loads))
        bins[lightest].append(nodeid)
        loads[lightest] += cost[nodeid]
    return [share for share in bins if share] or [[]], max(loads)


def write_part(folder: Path, share: list[str]) -> None:
    (folder / TESTS_FILE).write_text("".join(f"{nodeid}\n" for nodeid in share), encoding="utf-8")


def read_part(folder: Path) -> list[str]:
    """The node ids a helper grades, as its controller wrote them."""
    return (folder / TESTS_FILE).read_text(encoding="utf-8").splitlines()


def forks() -> bool:
    """Whether helpers are forked from the controller (Linux: 5 ms, where a new pytest takes 0.3 s to reach its
    first test) rather than started as new pytest processes (macOS, where fork is unsafe once system libraries
    are in use, and Windows, which has none)."""
    return platform.LINUX and os.environ.get("GRADE_HELPER_START", "fork") == "fork"


class ForkedHelper:
    """A forked helper, waited for as a `subprocess.Popen` is."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


class TestQueue:
    """The tests of a check (their indexes in the session), in the order they should start, shared by the
    controller and the helpers forked from it: a pipe that holds them all, from which each process reads one at a
    time (a read of a few bytes from a pipe is atomic), so that a process done with a test takes the next one."""

    __test__ = False  # not a test class, whatever pytest makes of its name
    RECORD = 4  # bytes per index; a pipe holds 64 KiB on Linux, thousands of times a check's tests

    def __init__(self, indexes: list[int]) -> None:
        self._read, write = os.pipe()
        os.write(write, b"".join(index.to_bytes(self.RECORD, "little") for index in indexes))
        os.close(write)

    def take(self) -> int | None:
        record = os.read(self._read, self.RECORD)
        return int.from_bytes(record, "little") if len(record) == self.RECORD else None


def stand_ins(items: list[T], chain: Callable[[T], list]) -> list[T | None]:
    """For each item, another one that shares with it only what all items share (their common ancestors, by
    `chain`): named as the next test when it is torn down, it keeps set up exactly what any next test needs."""
    chains = [chain(item) for item in items]
    if len(chains) < 2:
        return [None] * len(chains)
    depth = 0  # how many ancestors every item shares
    while all(len(other) > depth and other[depth] is chains[0][depth] for other in chains):
        depth += 1
    if any(len(mine) == depth for mine in chains):  # the same test twice: tear everything down each time
        return [None] * len(chains)
    first = chains[0][depth]
    apart = next(index for index, other in enumerate(chains) if other[depth] is not first)
    return [items[apart] if mine[depth] is first else items[0] for mine in chains]
