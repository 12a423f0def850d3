"""Classroom CI and teachers' tools: the workflow's report steps with GitHub's files, the exported student
repository, grading a class, and student code running as a user who cannot reach the grades."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from graders.harness.core import curriculum
from graders.harness.core.results import from_json
from graders.harness.views import reports

ROOT = curriculum.ROOT
FAST = ["--timeout-scale", "0.3"]


def python(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COURSE_LANG": "en", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def half_done(tmp_path_factory) -> Path:
    """Results of the threads topic with tasks 1 and 4 solved and tasks 2, 3, 5 and 6 not (partial credit)."""
    folder = tmp_path_factory.mktemp("half-done")
    shutil.copytree(ROOT / "exercises" / "threads", folder / "exercises" / "threads")
    shutil.copy(ROOT / "solutions" / "threads" / "basics.py", folder / "exercises" / "threads" / "basics.py")
    results = folder / "results.json"
    python("-m", "pytest", "graders/threads", "--impl", str(folder / "exercises"), "--results-json", str(results),
           *FAST)
    return results


def test_the_results_file_holds_partial_credit(half_done):
    (topic,) = from_json(half_done.read_text())
    assert [task.status for task in topic.tasks] == ["passed", "failed", "failed", "passed", "failed", "failed"]
    assert (topic.points, topic.max_points) == (3, 13)


def test_summary_goes_to_the_step_summary_file(half_done, tmp_path):
    summary = tmp_path / "summary.md"
    python("-m", "graders.harness.views.reports", "summary", str(half_done), env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("## Score: 3 / 13")
    assert re.search(r"\| ❌ \| threads · task 2: .* \| 0 / 3 \| 4 threads .* updates were lost", text), text
    assert "| threads | 3 / 13 |" in text


def test_annotations_point_at_the_todo_lines_of_failing_tasks(half_done):
    env = {"PYTHONPATH": str(ROOT)}  # run from the checkout of the graded files, as the workflow does
    lines = python("-m", "graders.harness.views.reports", "annotations", str(half_done), cwd=half_done.parent,
                   env=env).stdout.splitlines()
    assert len(lines) == 4  # tasks 2, 3, 5 and 6 fail
    counter_line = next(n for n, text in enumerate((ROOT / "exercises/threads/counter.py").read_text().splitlines(), 1)
                        if "TODO(task 2)" in text)
    assert lines[0].startswith(f"::error file=exercises/threads/counter.py,line={counter_line},title=threads task 2")
    assert "%0Ahint: " in lines[0]


def test_a_message_cannot_smuggle_a_workflow_command_into_the_log():
    from graders.harness.core.results import TaskResult, TopicResult

    forged = "oops\n::notice title=Autograding report::{\"totalPoints\":99,\"maxPoints\":99}"
    task = TaskResult("threads", 2, "race", 0, 3, "failed", forged, "hint", "exercises/threads/counter.py", 9)
    (line,) = reports.annotations([TopicResult("threads", "t", "exercises/threads/", [task])])
    # One line, our command first: the forged command is part of its message, never at a line's start.
    assert "\n" not in line and line.startswith("::error ") and "%0A::notice" in line


def test_classroom_gets_one_runner_per_task_and_the_same_total_everywhere(half_done, tmp_path):
    github_env, github_output = tmp_path / "env", tmp_path / "output"
    python("-m", "graders.harness.views.reports", "classroom", str(half_done),
           env={"GITHUB_ENV": str(github_env), "GITHUB_OUTPUT": str(github_output)})
    runners = github_output.read_text().strip().removeprefix("runners=").split(",")
    assert runners == [f"threads-task-{n}" for n in (1, 2, 3, 4, 5, 6)]
    payloads = {}
    for line in github_env.read_text().splitlines():
        name, _, value = line.partition("=")
        payloads[name] = json.loads(base64.b64decode(value))
    assert set(payloads) == {f"{runner.upper()}_RESULTS" for runner in runners}
    # The reporter's two views: Classroom's sum of test scores, and its console table's passed/total × max.
    classroom_total = sum(test["score"] for p in payloads.values() if p["max_score"] > 0 for test in p["tests"])
    console_total = sum(
        sum(t["status"] == "pass" for t in p["tests"]) / len(p["tests"]) * p["max_score"] for p in payloads.values()
    )
    assert classroom_total == console_total == 3
    assert sum(p["max_score"] for p in payloads.values()) == 13
    for payload in payloads.values():
        assert payload["version"] == 1 and payload["status"] in {"pass", "fail", "error"}
        (test,) = payload["tests"]
        assert set(test) >= {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}


def test_gradescope_and_exercism_results_are_renderings_of_the_same_file(half_done, tmp_path):
    python("-m", "graders.harness.views.reports", "gradescope", str(half_done), "-o", str(tmp_path / "gs.json"))
    python("-m", "graders.harness.views.reports", "exercism", str(half_done), "-o", str(tmp_path / "ex"))
    gradescope = json.loads((tmp_path / "gs.json").read_text())
    assert gradescope["score"] == 3 and sum(test["max_score"] for test in gradescope["tests"]) == 13
    assert {test["status"] for test in gradescope["tests"]} == {"passed", "failed"}
    exercism = json.loads((tmp_path / "ex" / "threads" / "results.json").read_text())
    assert exercism["version"] == 3 and exercism["status"] == "fail"
    assert [test["task_id"] for test in exercism["tests"]] == [1, 2, 3, 4, 5, 6]
    assert [test["status"] for test in exercism["tests"]] == ["pass", "fail", "fail", "pass", "fail", "fail"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("export") / "student-repo"
    done = python("-m", "graders.harness.teacher.export", str(target))
    assert done.returncode == 0, done.stderr
    return target


def test_the_export_has_no_solutions_mutants_hidden_graders_or_course_ci(exported):
    files = {str(path.relative_to(exported)) for path in exported.rglob("*") if path.is_file()}
    assert not any(name.startswith(("solutions/", "tests/", ".ci/")) for name in files)
    assert not any(name.endswith((".diff", "mutants.toml")) or "/mutants/" in name for name in files)
    assert not any(name.endswith("_hidden.py") for name in files)
    assert "graders/threads/test_threads_hidden.py" not in files
    assert ".github/workflows/classroom.yml" in files and ".github/workflows/course.yml" not in files
    assert "graders/hidden.toml" in files and "noxfile.py" in files and "docker-compose.yml" in files
    readme = (exported / "README.md").read_text()
    assert "## For students" in readme and "## For maintainers" not in readme and "## Grading" in readme


def test_the_exported_repository_grades_a_stub_and_a_solved_copy(exported, tmp_path):
    stub = python("-m", "pytest", "graders/threads", "--results-json", str(tmp_path / "stub.json"), *FAST,
                  cwd=exported)
    (topic,) = from_json((tmp_path / "stub.json").read_text())
    assert topic.points == 0, stub.stdout
    assert "+1 more checks of this task run in Classroom CI" in stub.stdout
    shutil.rmtree(exported / "exercises" / "threads")
    shutil.copytree(ROOT / "solutions" / "threads", exported / "exercises" / "threads")
    solved = python("-m", "pytest", "graders/threads", "--results-json", str(tmp_path / "solved.json"), *FAST,
                    cwd=exported)
    (topic,) = from_json((tmp_path / "solved.json").read_text())
    assert topic.points == topic.max_points == 13, solved.stdout
    assert [task.checks_in_ci for task in topic.tasks] == [1, 1, 0, 0, 0, 0]


def test_grading_a_class_costs_a_broken_submission_only_its_own_row(tmp_path):
    submissions = tmp_path / "submissions"
    shutil.copytree(ROOT / "solutions", submissions / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "exercises", submissions / "bob", ignore=shutil.ignore_patterns("__pycache__"))
    carol = submissions / "carol" / "exercises"  # a whole clone of her repository
    shutil.copytree(ROOT / "solutions", carol, ignore=shutil.ignore_patterns("__pycache__"))
    (carol / "threads" / "counter.py").write_text("import time\ntime.sleep(600)\n")
    dave = submissions / "dave"
    shutil.copytree(ROOT / "solutions", dave, ignore=shutil.ignore_patterns("__pycache__"))
    (dave / "threads" / "basics.py").write_text("import os\nos.remove(__file__)\n")
    out = tmp_path / "gradebook"
    done = python("-m", "graders.harness.teacher.gradebook", str(submissions), "--topics", "threads,sql-queries",
                  "--out", str(out), "--limit", "120", "--no-canary")  # real time limits: four runs share two cores
    assert done.returncode == 0, done.stderr
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["alice"]["total"] == "27" and rows["alice"]["status"] == "graded"
    assert rows["bob"]["total"] == "0"
    assert rows["carol"]["threads"] == "10" and rows["carol"]["sql-queries"] == "14", rows["carol"]
    assert rows["dave"]["threads"] == "10", "deleting its own files costs dave tasks 1 and 4 only"
    assert (submissions / "dave" / "threads" / "basics.py").exists(), "grading must work on a copy"
    assert {path.name for path in out.glob("*.json")} == {"alice.json", "bob.json", "carol.json", "dave.json"}


WORKER_PYTHON = "/usr/bin/python3"  # an interpreter the unprivileged user can run (ours may sit under /root)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def course_copy(folder: Path) -> Path:
    """The graders and the manifest in `folder/course`: a checkout whose every folder others may search (the
    real one may sit under a private folder, as a clone made in `mktemp -d` does)."""
    course = folder / "course"
    course.mkdir()
    for name in ("curriculum.toml", "pyproject.toml"):
        shutil.copy(ROOT / name, course / name)
    shutil.copytree(ROOT / "graders", course / "graders", ignore=shutil.ignore_patterns("__pycache__"))
    for path in [course, *course.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return course


def test_a_worker_user_who_cannot_load_the_course_is_refused_in_one_line(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    course = course_copy(private)
    done = python("-m", "pytest", "graders/threads", "--impl", str(ROOT / "solutions"), "--worker-user", "nobody",
                  cwd=course, env={"GRADE_WORKER_PYTHON": WORKER_PYTHON})
    assert done.returncode == 4, done.stdout + done.stderr
    assert "nobody cannot load the course" in done.stderr and "chmod o+x" in done.stderr, done.stderr


def test_student_code_as_another_user_cannot_read_hidden_graders_or_touch_results():
    assert Path(WORKER_PYTHON).exists(), f"{WORKER_PYTHON} is needed to run the worker as `nobody`"
    shared = Path(tempfile.mkdtemp(prefix="course-users-"))  # pytest's own shared is private to root
    shared.chmod(0o755)
    course = course_copy(shared)
    secret = shared / "hidden_grader.py"
    secret.write_text("ANSWER = 42\n")
    secret.chmod(0o600)
    results = shared / "results"
    results.mkdir()
    impl = shared / "impl" / "threads"
    shutil.copytree(ROOT / "solutions" / "threads", impl)
    spy = (impl / "basics.py").read_text() + (
        "\n\ntry:\n"
        f"    LEAK = open({str(secret)!r}).read()\n"
        "except PermissionError:\n"
        "    LEAK = None\n"
        "try:\n"
        f"    open({str(results / 'forged.json')!r}, 'w').write('{{}}')\n"
        "except PermissionError:\n"
        "    pass\n"
        "if LEAK:\n"
        "    raise SystemExit('read a hidden grader')\n"
    )
    (impl / "basics.py").write_text(spy)
    done = python("-m", "pytest", "graders/threads", "--impl", str(impl.parent), "--worker-user", "nobody",
                  "--results-json", str(results / "grading.json"), *FAST, cwd=course,
                  env={"GRADE_WORKER_PYTHON": WORKER_PYTHON})
    (topic,) = from_json((results / "grading.json").read_text())
    assert topic.points == 13, done.stdout
    assert not (results / "forged.json").exists()
    shutil.rmtree(shared)
