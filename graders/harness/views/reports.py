"""Renderings of a results file for the places grades go: GitHub (job summary, annotations, Classroom),
Gradescope and exercism.

    python -m graders.harness.views.reports summary      results.json   # Markdown table to $GITHUB_STEP_SUMMARY
    python -m graders.harness.views.reports annotations  results.json   # ::error lines at each failing TODO
    python -m graders.harness.views.reports classroom    results.json   # one Classroom runner per task
    python -m graders.harness.views.reports gradescope   results.json -o results/results.json
    python -m graders.harness.views.reports exercism     results.json -o results/   # <topic>/results.json each
    python -m graders.harness.views.reports class        gradebook/ -o report.html  # or .md: a class's report

GitHub Classroom's reporter computes its console table as passed/total × max_score per runner, but sends
Classroom the sum of the tests' scores; with one runner per task (one test each, worth the task's points)
both agree with the points here, partial credit included.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from graders.harness.core import cli
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


NOT_GRADED = "Not graded ({reason}): this task is not counted as failed; regrade it."


def _reason(task) -> str:
    return task.message.splitlines()[0] if task.message else (
        "a service was unavailable" if task.status == "error" else "its checks did not run")


def hidden_tests(root: Path | None = None) -> dict[str, set[str]]:
    """The names of hidden graders' tests (files that set `pytestmark = pytest.mark.hidden`), per topic."""
    from graders.harness.core.curriculum import ROOT, is_hidden

    found: dict[str, set[str]] = {}
    for path in sorted(((root or ROOT) / "graders").glob("*/test_*.py")):
        if is_hidden(path):
            names = re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)
            found.setdefault(path.parent.name.replace("_", "-"), set()).update(names)
    return found


def gradescope(results: list[TopicResult], hidden_visibility: str = "after_published") -> dict:
    """Gradescope's results.json. A task that could not be graded (a service down, a time limit, left out)
    has no status and no score, so Gradescope does not show it as failed; a task with hidden checks is
    shown only with `hidden_visibility` (after the grades are published, by default)."""
    hidden = hidden_tests()
    tests, not_graded = [], []
    for topic in results:
        for task in topic.tasks:
            entry = {
                "name": f"{topic.topic} · task {task.task}: {task.title}",
                "number": f"{topic.topic}.{task.task}",
                "max_score": task.max_points,
                "tags": [topic.topic],
                "visibility": hidden_visibility if set(task.tests) & hidden.get(topic.topic, set()) else "visible",
            }
            if task.status in ("passed", "failed"):
                entry["score"] = task.points
                entry["status"] = task.status
                entry["output"] = task.message if task.status == "passed" else \
                    f"{task.message}\n\nhint: {task.hint}".strip()
            else:
                entry["output"] = NOT_GRADED.format(reason=_reason(task))
                not_graded.append(entry["number"])
            tests.append(entry)
    output = f"graded {', '.join(topic.graded for topic in results)}"
    if not_graded:
        output += f"; not graded (not counted as failed): {', '.join(not_graded)}"
    return {
        "score": sum(topic.points for topic in results),
        "execution_time": round(sum(task.duration for topic in results for task in topic.tasks)),
        "output": output,
        "tests": tests,
    }


def test_code(topic: str, names: list[str], root: Path | None = None) -> str:
    """The source of the grader tests of a task (exercism's `test_code`); a hidden test's code stays hidden."""
    import ast

    from graders.harness.core.curriculum import ROOT, is_hidden

    folder = (root or ROOT) / "graders" / topic.replace("-", "_")
    bodies: dict[str, str] = {}
    for path in sorted(folder.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        secret = is_hidden(path)
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                bodies[node.name] = (f"# {node.name}: a hidden check, its code is not shown" if secret
                                     else ast.get_source_segment(text, node) or node.name)
    return "\n\n".join(bodies.get(name, f"# {name}") for name in names)


def exercism(results: list[TopicResult]) -> dict[str, dict]:
    """exercism's results.json, version 3, one document per topic (an exercise): one test per task, in the
    order of the README, `task_id` linking it to `## Task N`, the graders' code in `test_code`."""
    documents = {}
    for topic in results:
        tests = []
        for task in topic.tasks:
            status = STATUS[task.status] if task.status != "not-run" else "error"
            message = task.message or None
            if status == "fail" and not message:
                message = f"task {task.task} failed: run `nox -s check-{topic.topic}` to see why"
            if status == "error":
                message = NOT_GRADED.format(reason=_reason(task))
            tests.append({
                "name": f"task {task.task}: {task.title}",
                "status": status,
                "message": message,
                "test_code": test_code(topic.topic, task.tests),
                "task_id": task.task,
            })
        statuses = {test["status"] for test in tests}
        status = "error" if statuses == {"error"} else ("pass" if statuses == {"pass"} else "fail")
        document = {"version": 3, "status": status, "tests": tests}
        if status == "error":
            document["message"] = tests[0]["message"] if tests else "nothing was graded"
        documents[topic.topic] = document
    return documents


def _first_line(message: str) -> str:
    """A failure message reduced to what repeats across students: its first line, numbers kept."""
    return " ".join((message.strip().splitlines() or [""])[0].split())[:200]


def class_summary(by_student: dict[str, list[TopicResult]]) -> list[dict]:
    """Per task of the class: how many students earned each score, and the most frequent failures."""
    tasks: dict[tuple[str, int], dict] = {}
    for results in by_student.values():
        for topic in results:
            for task in topic.tasks:
                entry = tasks.setdefault((topic.topic, task.task), {
                    "topic": topic.topic, "task": task.task, "title": task.title, "max_points": task.max_points,
                    "scores": Counter(), "statuses": Counter(), "failures": Counter()})
                entry["scores"][task.points] += 1
                entry["statuses"][task.status] += 1
                if task.status != "passed":
                    entry["failures"][_first_line(task.message) or f"({task.status}, no message)"] += 1
    return [tasks[key] for key in sorted(tasks, key=lambda key: (_topic_order(key[0]), key[1]))]


def _topic_order(slug: str) -> int:
    from graders.harness.core.curriculum import topics

    order = [topic.slug for topic in topics()]
    return order.index(slug) if slug in order else len(order)


def class_markdown(by_student: dict[str, list[TopicResult]], statuses: dict[str, str] | None = None) -> str:
    """The class report for the teacher: totals, then per task the score distribution and top failures."""
    statuses = statuses or {}
    totals = sorted((sum(t.points for t in r), sum(t.max_points for t in r), s) for s, r in by_student.items())
    lines = [f"# Class report: {len(statuses or by_student)} students", ""]
    if totals:
        possible = totals[0][1]
        scores = [total for total, _, _ in totals]
        median = scores[len(scores) // 2]
        lines += [f"Total out of {_points(possible)}: lowest {_points(scores[0])}, median {_points(median)}, "
                  f"highest {_points(scores[-1])}.", ""]
    not_graded = {s: st for s, st in statuses.items() if st != "graded"}
    if not_graded:
        lines += ["## Not fully graded", "", "| student | status |", "|---|---|"]
        lines += [f"| {_cell(s)} | {_cell(st)} |" for s, st in sorted(not_graded.items())]
        lines.append("")
    lines += ["## Tasks", "", "| topic · task | students per score | passed | most frequent failures |",
              "|---|---|---:|---|"]
    for entry in class_summary(by_student):
        spread = ", ".join(f"{_points(score)}: {count}" for score, count in sorted(entry["scores"].items()))
        failures = "<br>".join(f"{count}× {_cell(text)}" for text, count in entry["failures"].most_common(3))
        lines.append(f"| {entry['topic']} · {entry['task']}: {_cell(entry['title'])} | {spread} "
                     f"| {entry['statuses']['passed']}/{sum(entry['statuses'].values())} | {failures} |")
    return "\n".join(lines) + "\n"


def class_html(by_student: dict[str, list[TopicResult]], statuses: dict[str, str] | None = None) -> str:
    """The class report as one self-contained HTML file (no scripts, no external resources)."""
    statuses = statuses or {}
    rows = []
    for entry in class_summary(by_student):
        count = sum(entry["scores"].values())
        bars = "".join(
            f'<div class="bar"><span style="width:{100 * n / count:.0f}%"></span>'
            f"<em>{_points(score)} / {_points(entry['max_points'])}: {n}</em></div>"
            for score, n in sorted(entry["scores"].items()))
        failures = "".join(f"<li>{n}× {html.escape(text)}</li>" for text, n in entry["failures"].most_common(5))
        rows.append(f"<tr><td>{html.escape(entry['topic'])} · {entry['task']}<br><small>"
                    f"{html.escape(entry['title'])}</small></td><td>{bars}</td>"
                    f"<td>{entry['statuses']['passed']}/{count}</td><td><ul>{failures}</ul></td></tr>")
    students = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{_points(sum(t.points for t in r))} / "
        f"{_points(sum(t.max_points for t in r))}</td><td>{html.escape(statuses.get(s, 'graded'))}</td></tr>"
        for s, r in sorted(by_student.items()))
    missing = "".join(f"<tr><td>{html.escape(s)}</td><td>–</td><td>{html.escape(st)}</td></tr>"
                      for s, st in sorted(statuses.items()) if s not in by_student)
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.bar{position:relative;"
             "width:16em;height:1.3em;background:#eee;margin:2px 0}.bar span{position:absolute;left:0;top:0;"
             "bottom:0;background:#7ab}.bar em{position:relative;font-size:80%;font-style:normal;padding-left:4px}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Class report</title>'
            f"<style>{style}</style></head><body><h1>Class report: {len(statuses or by_student)} students</h1>"
            "<h2>Tasks</h2><table><tr><th>task</th><th>students per score</th><th>passed</th>"
            f"<th>most frequent failures</th></tr>{''.join(rows)}</table>"
            f"<h2>Students</h2><table><tr><th>student</th><th>total</th><th>status</th></tr>{students}{missing}"
            "</table></body></html>\n")


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
    parser.add_argument("format", choices=("summary", "annotations", "classroom", "gradescope", "exercism", "class"))
    parser.add_argument("results", type=Path,
                        help="a results file written with --results-json (class: a gradebook folder)")
    parser.add_argument("-o", "--output", type=Path,
                        help="write here instead of stdout (exercism: a folder, one <topic>/results.json each; "
                        "class: .md or .html)")
    parser.add_argument("--hidden-visibility", default="after_published",
                        choices=("hidden", "after_due_date", "after_published", "visible"),
                        help="gradescope: when students see tasks that have hidden checks (default after_published)")
    options = parser.parse_args(argv)
    results = [] if options.format == "class" else from_json(options.results.read_text(encoding="utf-8"))

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
    elif options.format == "exercism":
        documents = exercism(results)
        if options.output is None and len(documents) != 1:
            parser.error("exercism writes one results.json per topic: name a folder with -o")
        for topic, document in documents.items():
            text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            if options.output is None:
                sys.stdout.write(text)
            else:
                (options.output / topic).mkdir(parents=True, exist_ok=True)
                (options.output / topic / "results.json").write_text(text, encoding="utf-8")
    elif options.format == "class":
        return _class(options)
    else:
        text = json.dumps(gradescope(results, options.hidden_visibility), ensure_ascii=False, indent=2) + "\n"
        if options.output:
            options.output.parent.mkdir(parents=True, exist_ok=True)
            options.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return 0


def _class(options: argparse.Namespace) -> int:
    """`report class GRADEBOOK_DIR [-o report.html]`: the class report from a gradebook folder."""
    import csv

    folder = options.results
    statuses = {}
    book = folder / "gradebook.csv"
    if book.is_file():
        with book.open(newline="", encoding="utf-8") as file:
            statuses = {row["student"]: row["status"] for row in csv.DictReader(file)}
    by_student = {path.stem: from_json(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}
    html_wanted = options.output is not None and options.output.suffix == ".html"
    text = class_html(by_student, statuses) if html_wanted else class_markdown(by_student, statuses)
    if options.output:
        options.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "report"))
