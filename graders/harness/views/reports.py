"""Renderings of a results file for the places grades go: GitHub (job summary, annotations, Classroom),
Gradescope and exercism.

    python -m graders.harness.views.reports summary      results.json   # Markdown table to $GITHUB_STEP_SUMMARY
    python -m graders.harness.views.reports annotations  results.json   # ::error lines at each failing TODO
    python -m graders.harness.views.reports classroom    results.json   # one Classroom runner per task
    python -m graders.harness.views.reports gradescope   results.json -o results/results.json
    python -m graders.harness.views.reports exercism     results.json -o results.json

GitHub Classroom's reporter computes its console table as passed/total × max_score per runner, but sends
Classroom the sum of the tests' scores; with one runner per task (one test each, worth the task's points)
both agree with the points here, partial credit included.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
from pathlib import Path

from graders.harness.core.results import TopicResult, from_json

STATUS = {"passed": "pass", "failed": "fail", "error": "error", "not-run": "fail"}
ANNOTATION_LIMIT = 10  # GitHub shows at most 10 error annotations per step


def _points(value: float) -> str:
    return f"{value:g}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks, no HTML."""
    text = text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())[:300]


def summary(results: list[TopicResult]) -> str:
    earned = sum(topic.points for topic in results)
    possible = sum(topic.max_points for topic in results)
    lines = [f"## Score: {_points(earned)} / {_points(possible)}", "", "| topic | score |", "|---|---:|"]
    lines += [f"| {topic.topic} | {_points(topic.points)} / {_points(topic.max_points)} |" for topic in results]
    lines += ["", "| | task | points | what to fix |", "|---|---|---:|---|"]
    marks = {"passed": "✅", "failed": "❌", "error": "⚠️", "not-run": "➖"}
    for topic in results:
        for task in topic.tasks:
            fix = "" if task.status == "passed" else _cell(task.message.splitlines()[0] if task.message else "")
            lines.append(
                f"| {marks[task.status]} | {topic.topic} · task {task.task}: {_cell(task.title)} "
                f"| {_points(task.points)} / {_points(task.max_points)} | {fix} |"
            )
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _in_repository(file: str | None) -> str | None:
    """The path GitHub wants, relative to the checkout (the working directory); None for files outside it."""
    if not file:
        return None
    path = Path(file)
    if not path.is_absolute():
        return file
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else None


def annotations(results: list[TopicResult]) -> list[str]:
    """`::error` workflow commands at the line each failing task points to (its TODO, or where it broke)."""
    lines = []
    for topic in results:
        for task in topic.tasks:
            file = _in_repository(task.file)
            if task.status != "failed" or not file:
                continue
            title = _escape_property(f"{topic.topic} task {task.task}: {task.title}")
            where = f"file={_escape_property(file)},line={task.line or 1}"
            text = _escape_data(f"{task.message}\nhint: {task.hint}")
            lines.append(f"::error {where},title={title}::{text}")
    return lines[:ANNOTATION_LIMIT]


def classroom(results: list[TopicResult]) -> dict[str, dict]:
    """One autograding-grading-reporter runner per task: {runner id: the command-grader result}."""
    runners = {}
    for topic in results:
        for task in topic.tasks:
            runner = f"{topic.topic}-task-{task.task}"
            status = STATUS[task.status]
            runners[runner] = {
                "version": 1,
                "status": status,
                "max_score": task.max_points,
                "tests": [{
                    "name": f"{topic.topic} task {task.task}: {task.title}",
                    "status": status,
                    "score": task.points,
                    "message": task.message,
                    "test_code": f"nox -s check-{topic.topic}",
                    "filename": task.file or "",
                    "line_no": task.line or 0,
                    "duration": round(task.duration * 1000),
                }],
            }
    return runners


def gradescope(results: list[TopicResult]) -> dict:
    tests = []
    for topic in results:
        for task in topic.tasks:
            output = task.message if task.status == "passed" else f"{task.message}\n\nhint: {task.hint}".strip()
            tests.append({
                "name": f"{topic.topic} · task {task.task}: {task.title}",
                "number": f"{topic.topic}.{task.task}",
                "score": task.points,
                "max_score": task.max_points,
                "status": "passed" if task.status == "passed" else "failed",
                "output": output,
                "tags": [topic.topic],
                "visibility": "visible",
            })
    return {
        "score": sum(topic.points for topic in results),
        "execution_time": round(sum(task.duration for topic in results for task in topic.tasks)),
        "output": f"graded {', '.join(topic.graded for topic in results)}",
        "tests": tests,
    }


def exercism(results: list[TopicResult]) -> dict:
    """exercism's results.json, version 3: one test per task, `task_id` linking it to `## Task N`."""
    tests = []
    for topic in results:
        for task in topic.tasks:
            tests.append({
                "name": f"{topic.topic} > task {task.task}: {task.title}",
                "status": STATUS[task.status],
                "message": task.message or None,
                "test_code": ", ".join(task.tests),
                "task_id": task.task,
            })
    statuses = {test["status"] for test in tests}
    status = "error" if statuses == {"error"} else ("pass" if statuses == {"pass"} else "fail")
    document = {"version": 3, "status": status, "tests": tests}
    if status == "error":
        document["message"] = next(test["message"] for test in tests)
    return document


def _runner_env_name(runner: str) -> str:
    if not re.fullmatch(r"[a-z0-9-]+", runner):
        raise ValueError(f"runner id {runner!r} must be lower-case letters, digits and dashes")
    return f"{runner.upper()}_RESULTS"


def _append(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if target:
        with open(target, "a", encoding="utf-8") as file:
            file.write(text)
    else:
        sys.stdout.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=("summary", "annotations", "classroom", "gradescope", "exercism"))
    parser.add_argument("results", type=Path, help="a results file written with --results-json")
    parser.add_argument("-o", "--output", type=Path, help="write here (gradescope, exercism) instead of stdout")
    options = parser.parse_args(argv)
    results = from_json(options.results.read_text(encoding="utf-8"))

    if options.format == "summary":
        _append("GITHUB_STEP_SUMMARY", summary(results))
    elif options.format == "annotations":
        for line in annotations(results):
            print(line)
    elif options.format == "classroom":
        runners = classroom(results)
        for runner, payload in runners.items():
            encoded = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
            _append("GITHUB_ENV", f"{_runner_env_name(runner)}={encoded}\n")
        _append("GITHUB_OUTPUT", f"runners={','.join(runners)}\n")
    else:
        document = gradescope(results) if options.format == "gradescope" else exercism(results)
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if options.output:
            options.output.parent.mkdir(parents=True, exist_ok=True)
            options.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
