"""The course checks itself: every solution earns full marks, every stub earns nothing, every mutant is caught.

Each case grades one topic in a separate `pytest graders/<topic> --jobs auto` run, exactly as a student's check
would (a slow topic's tests shared out between two or three pytest processes), and reads the JSON results it
writes. The runs of all cases start together in a small pool (they mostly wait on sleeps, sockets and servers),
and each test then judges its own run.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from graders.harness.core import curriculum, mutants
from graders.harness.core.results import TopicResult, from_json

ROOT = curriculum.ROOT
PARALLEL_RUNS = int(os.environ.get("COURSE_CHECK_JOBS", "3"))
# Topics whose students start processes: graded under every start method, as on Linux up to Python 3.13
# (fork), Linux from 3.14 (forkserver) and macOS and Windows (spawn).
# COURSE_START_METHODS=fork narrows them for a quick local run.
START_METHODS = tuple(
    (os.environ.get("COURSE_START_METHODS") or ",".join(multiprocessing.get_all_start_methods())).split(",")
)
MULTIPROCESSING_TOPICS = {"processes", "queues", "pools"}
# Topics where only some tasks start processes: under every start method their solution, their stub and the
# mutants that fail one of these tasks; their other mutants once, under the first start method.
MULTIPROCESSING_TASKS = {"threads": {5}}
# The services this machine runs (default: all). A topic that needs another is graded once, as a solution, and
# must end as an infrastructure error on every task: what a student without the service sees (macOS and
# Windows runners in CI set COURSE_SERVICES="" and point the URLs at closed ports).
SERVICES = set(filter(None, os.environ.get("COURSE_SERVICES", "mysql,redis,mongodb").split(",")))


CHINESE = re.compile(r"⟦[^⟧]*[\u4e00-\u9fff][^⟧]*⟧")


def english(message: str) -> str:
    """A message graded with COURSE_LANG=both, without its Chinese (see curriculum.say), nested ones too."""
    while True:
        shorter = re.sub(r"⟦[^⟦⟧]*⟧", "", message)
        if shorter == message:
            return message
        message = shorter


@dataclass(frozen=True)
class Case:
    topic: curriculum.Topic
    kind: str  # "solution", "stub", "mutant", or "unserved" (a solution whose services are not here)
    mutant: str = ""
    start_method: str = ""  # the worker's multiprocessing start method; "" leaves the platform's

    @property
    def id(self) -> str:
        method = f"{self.start_method}:" if self.start_method else ""
        return f"{self.topic.slug}:{method}{self.mutant or self.kind}"

    @property
    def expectation(self) -> mutants.Mutant:
        return mutants_of(self.topic)[self.mutant]


def mutants_of(topic: curriculum.Topic) -> dict[str, mutants.Mutant]:
    return mutants.mutants_of(topic.dir)


def cases() -> list[Case]:
    found = []
    for topic in curriculum.topics():
        if not topic.available:
            continue
        if not set(topic.services) <= SERVICES:
            found.append(Case(topic, "unserved"))
            continue
        methods = START_METHODS if topic.slug in MULTIPROCESSING_TOPICS | set(MULTIPROCESSING_TASKS) else ("",)
        some = MULTIPROCESSING_TASKS.get(topic.slug)
        for method in methods:
            found += [Case(topic, "solution", start_method=method), Case(topic, "stub", start_method=method)]
            found += [
                Case(topic, "mutant", name, start_method=method)
                for name, mutant in mutants_of(topic).items()
                if some is None or method == methods[0] or set(mutant.fails) & some
            ]
    return found


CASES = cases()


def grade(case: Case, out: Path) -> tuple[list[TopicResult], str]:
    results = out / f"{case.id.replace(':', '-')}.json"
    command = [sys.executable, "-m", "pytest", f"graders/{case.topic.dir}", f"--results-json={results}"]
    command += ["--jobs", "auto"]
    command += ["--impl", "exercises" if case.kind == "stub" else "solutions"]
    if case.mutant:
        command += ["--mutant", case.mutant]
    if case.start_method:
        command += ["--start-method", case.start_method]
    env = {**os.environ, "COURSE_LANG": "both", "NO_COLOR": "1"}
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    log = run.stdout + run.stderr
    if not results.exists():
        return [], log
    return from_json(results.read_text(encoding="utf-8")), log


@pytest.fixture(scope="session")
def gradings(request, tmp_path_factory) -> dict[str, tuple[list[TopicResult], str]]:
    """Grade every selected case up front, a few at a time: each run mostly waits on sleeps and sockets."""
    selected = [item.callspec.params["case"] for item in request.session.items if hasattr(item, "callspec")
                and "case" in item.callspec.params]
    out = tmp_path_factory.mktemp("gradings")
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        futures = {case.id: pool.submit(grade, case, out) for case in selected}
        return {case_id: future.result() for case_id, future in futures.items()}


def test_every_topic_of_course_md_is_in_the_manifest():
    assert len(curriculum.topics()) == 19
    assert len({topic.slug for topic in curriculum.topics()}) == 19


def test_some_topics_are_available():
    assert CASES, "no topic has exercises/, solutions/ and graders/ folders yet"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_course(case: Case, gradings) -> None:
    results, log = gradings[case.id]
    assert results, f"grading {case.id} wrote no results:\n{log[-3000:]}"
    (topic,) = results
    statuses = {task.task: task.status for task in topic.tasks}
    if case.kind == "unserved":
        wrong = {task.task: f"{task.status}: {task.message}" for task in topic.tasks if task.status != "error"}
        assert not wrong, f"{case.topic.slug} without its services must end as errors, not {wrong}"
        assert all("start" in english(task.message) or "set " in english(task.message) for task in topic.tasks), (
            topic.tasks[0].message
        )
        assert topic.points == 0
        return
    assert "error" not in statuses.values(), f"infrastructure error while grading {case.id}:\n{log[-3000:]}"
    if case.kind == "solution":
        assert (ROOT / "solutions" / case.topic.dir).is_dir(), f"{case.topic.slug} has no solutions/ folder"
        failed = {task.task: task.message for task in topic.tasks if task.status != "passed"}
        assert not failed, f"the solution of {case.topic.slug} fails tasks {failed}"
        assert topic.points == topic.max_points == case.topic.points
    elif case.kind == "stub":
        passed = [task.task for task in topic.tasks if task.status == "passed"]
        assert not passed, f"the untouched stub of {case.topic.slug} already passes tasks {passed}"
        assert topic.points == 0
        english_only = [task.message for task in topic.tasks if not CHINESE.search(task.message)]
        assert not english_only, f"messages without Chinese (write them with say(en, zh)): {english_only}"
    else:
        expected = set(case.expectation.fails)
        failed = {number for number, status in statuses.items() if status == "failed"}
        assert failed == expected, (
            f"mutant {case.mutant} ({case.expectation.mistake}) should fail tasks {sorted(expected)}, "
            f"but failed {sorted(failed)}:\n{log[-3000:]}"
        )
        messages = [task.message for task in topic.tasks if task.status == "failed"]
        assert any(case.expectation.says in english(message) for message in messages), (
            f"mutant {case.mutant}: no message says {case.expectation.says!r}; they say {messages}"
        )
        assert all(message.strip() for message in messages), "every failed task needs a message"
        english_only = [message for message in messages if not CHINESE.search(message)]
        assert not english_only, f"messages without Chinese (write them with say(en, zh)): {english_only}"


@pytest.mark.parametrize("topic", [t for t in curriculum.topics() if t.available], ids=lambda t: t.slug)
def test_task_numbers_agree_in_stub_readme_and_graders(topic: curriculum.Topic) -> None:
    """`TODO(task N)` in the stub, `## Task N` in its README and task(N) in the graders name the same tasks."""
    import re

    expected = set(range(1, len(topic.tasks) + 1))
    stub_files = [p for p in (ROOT / "exercises" / topic.dir).rglob("*") if p.suffix in {".py", ".sql"}]
    in_stub = {int(n) for p in stub_files for n in re.findall(r"TODO\(task (\d+)\)", p.read_text(encoding="utf-8"))}
    readme = (ROOT / "exercises" / topic.dir / "README.md").read_text(encoding="utf-8")
    in_readme = {int(n) for n in re.findall(r"^## Task (\d+)", readme, flags=re.MULTILINE)}
    grader_files = (ROOT / "graders" / topic.dir).glob("test_*.py")
    in_graders = {
        int(n) for p in grader_files for n in re.findall(r"@pytest\.mark\.task\((\d+)\)", p.read_text(encoding="utf-8"))
    }
    for where, found in (("the stub marks", in_stub), ("the README has", in_readme), ("the graders mark", in_graders)):
        assert found == expected, f"{topic.slug}: {where} tasks {sorted(found)}, curriculum.toml {sorted(expected)}"


def test_every_topic_has_at_least_ten_mutants() -> None:
    few = {t.slug: len(mutants_of(t)) for t in curriculum.topics() if t.available and len(mutants_of(t)) < 10}
    assert not few, f"topics with fewer than ten mutants (realistic mistakes the graders must catch): {few}"


@pytest.mark.parametrize("topic", [t for t in curriculum.topics() if t.available], ids=lambda t: t.slug)
def test_every_mutant_is_a_diff_that_applies_to_the_solution(topic: curriculum.Topic) -> None:
    """A mutant is the one change a student might make; when the solution moves on, its diff must follow."""
    folder = ROOT / "graders" / topic.dir / "mutants"
    listed = set(mutants_of(topic))
    on_disk = {path.stem for path in folder.glob("*.diff")} if folder.is_dir() else set()
    assert on_disk == listed, f"{topic.slug}: diffs without an entry {sorted(on_disk - listed)}, " \
        f"entries without a diff {sorted(listed - on_disk)}"
    for mutant in mutants_of(topic).values():
        changed = mutants.apply(mutant.diff, ROOT / "solutions" / topic.dir, mutant.name)  # PatchError says where
        assert changed, f"{mutant.name} changes nothing"
