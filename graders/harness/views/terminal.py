"""The terminal view a student reads after every check: one line per task, then what to fix and a hint."""

from __future__ import annotations

import os
import shutil
import sys

from graders.harness.core.curriculum import language, say
from graders.harness.core.results import TopicResult
from graders.harness.views.text import width as display_width
from graders.harness.views.text import wrap

PHRASES = {
    "en": {
        "grading": "grading",
        "task": "task",
        "score": "score",
        "complete": "topics complete",
        "of": "of",
        "hint": "hint",
        "not-run": "not run",
        "error": "could not be graded (not your code)",
        "next": "next",
        "all-done": "every task passes",
        "unavailable": "not available yet",
        "unchecked": "not checked yet",
        "tasks-left": "tasks to go",
        "course": "course",
        "in-ci": "+{n} more checks of this task run in Classroom CI",
        "colon": ": ",
    },
    "zh": {
        "grading": "评分对象",
        "task": "任务",
        "score": "得分",
        "complete": "已完成主题",
        "of": "/",
        "hint": "提示",
        "not-run": "未运行",
        "error": "无法评分（不是你的代码的问题）",
        "next": "下一步",
        "all-done": "所有任务都已通过",
        "unavailable": "尚未开放",
        "unchecked": "尚未检查",
        "tasks-left": "个任务未完成",
        "course": "课程",
        "in-ci": "另有 {n} 项针对本任务的检查只在 Classroom CI 中运行",
        "colon": "：",
    },
}

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "not-run": "·"}
COLOURS = {"passed": "32", "failed": "31", "error": "33", "not-run": "2"}


def phrase(key: str) -> str:
    return PHRASES[language()][key]


def _colour(text: str, code: str, enabled: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if enabled else text


def use_colour(stream=sys.stdout) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (hasattr(stream, "isatty") and stream.isatty())


def _pad(left: str, right: str, width: int) -> str:
    gap = max(2, width - display_width(left) - display_width(right))
    return left + " " * gap + right


def _points(value: float) -> str:
    return f"{value:g}"


def render_topic(result: TopicResult, colour: bool = False, width: int | None = None) -> str:
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    lines = [_pad(f"{result.topic}: {result.title}", f"{phrase('grading')} {result.graded}", width)]
    for task in result.tasks:
        mark = _colour(MARKS[task.status], COLOURS[task.status], colour)
        score = f"{_points(task.points)}/{_points(task.max_points)}"
        lines.append("  " + mark + _pad(f" {phrase('task')} {task.task}  {task.title}", score, width - 3))
        if task.checks_in_ci:
            lines.append("      " + _colour(phrase("in-ci").format(n=task.checks_in_ci), "2", colour))
        if task.status == "passed":
            continue
        if task.status == "not-run":
            lines.append("      " + phrase("not-run"))
            continue
        message = task.message if task.status == "failed" else f"{phrase('error')}{phrase('colon')}{task.message}"
        for paragraph in message.splitlines() or [""]:
            indent = "      " + " " * (len(paragraph) - len(paragraph.lstrip()))
            lines += wrap(paragraph.strip(), width, indent=indent + "  ", first=indent) or [""]
        if task.status == "failed" and task.file and task.line and f"{task.file}:{task.line}" not in message:
            lines.append(f"      → {task.file}:{task.line}")
        if task.status == "failed" and task.hint:
            hint = wrap(f"{phrase('hint')}{phrase('colon')}{task.hint}", width, indent="        ", first="      ")
            lines += [_colour(line, "36", colour) for line in hint]
    return "\n".join(lines)


def render_language(colour: bool = False) -> str:
    """The run's language, once at the top, with how to switch: a student in a zh_CN terminal who wants the
    English texts (or the other way round) learns it here."""
    line = say("in English (COURSE_LANG=zh for Chinese)", "中文显示（设置 COURSE_LANG=en 可切换为英文）")
    return _colour(line, "2", colour)


def render_score(results: list[TopicResult], complete: tuple[int, int]) -> str:
    earned = sum(result.points for result in results)
    possible = sum(result.max_points for result in results)
    done, total = complete
    return (
        f"{phrase('score')} {_points(earned)}/{_points(possible)} · "
        f"{phrase('complete')}{phrase('colon')}{done} {phrase('of')} {total}"
    )


def _bar(done: float, total: float, width: int = 16) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def render_course(results: dict[str, TopicResult], colour: bool = False, dates: bool = False) -> str:
    """One line per topic of the course, in course order: its score and a bar, or why it has none; with
    `dates`, the local date and time of its last real result too (saved progress keeps it)."""
    from graders.harness.core.curriculum import topics

    lines = []
    width = max(len(topic.slug) for topic in topics())
    for topic in topics():
        result = results.get(topic.slug)
        if not topic.available:
            status = _colour(phrase("unavailable"), "2", colour)
            lines.append(f"  {MARKS['not-run']} {topic.slug.ljust(width)}  {status}")
        elif result is None:
            lines.append(f"  {MARKS['not-run']} {topic.slug.ljust(width)}  {phrase('unchecked')}")
        else:
            state = "passed" if result.complete else result.status
            mark = _colour(MARKS[state], COLOURS[state], colour)
            score = f"{_points(result.points)}/{_points(result.max_points)}".rjust(7)
            left = sum(task.status != "passed" for task in result.tasks)
            note = phrase("all-done") if result.complete else f"{left} {phrase('tasks-left')}"
            bar = _bar(result.points, result.max_points)
            when = ""
            if dates:
                checked = result.checked
                when = (checked.astimezone().strftime("%Y-%m-%d %H:%M") if checked else "").ljust(16) + "  "
            lines.append(f"  {mark} {topic.slug.ljust(width)}  {score}  {bar}  {when}{note}")
    return "\n".join(lines)
