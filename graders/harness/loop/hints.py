"""`nox -s hint -- [topic] [task]`: the hint for the first failing task, one level deeper each time asked.

Without a topic it hints the one you checked last (while it is not complete); watch's `h` key asks here too.
"""

from __future__ import annotations

import argparse
import json

from graders.harness.core import cli, curriculum
from graders.harness.core.results import PROGRESS_DIR, TopicResult, load_progress
from graders.harness.loop.progress import current_topic
from graders.harness.views.text import terminal_width, wrap

SHOWN = PROGRESS_DIR / "hints-shown.json"

WORDS = {
    "en": {"hint": "hint {level} of {levels}", "last": "(that is the last hint for this task)",
           "more": "(ask again for more)", "done": "every task of {slug} passes: no hint needed",
           "none": "no topic left to hint at", "task": "task"},
    "zh": {"hint": "提示 {level}/{levels}", "last": "（这是本任务的最后一条提示）",
           "more": "（再运行一次可以看到更多提示）", "done": "{slug} 的所有任务都已通过，不需要提示",
           "none": "没有需要提示的主题了", "task": "任务"},
}


def chosen_task(topic: curriculum.Topic, number: int | None,
                result: TopicResult | None = None) -> curriculum.Task | None:
    """The task named, else the first that failed in `result` (by default the saved progress), else the
    first task; None when every task passed."""
    if number is not None:
        return topic.task(number)
    if result is None:
        result = load_progress().get(topic.slug)
    if result is None:
        return topic.tasks[0]
    failing = [task.task for task in result.tasks if task.status != "passed"]
    return topic.task(failing[0]) if failing else None


def next_level(topic: curriculum.Topic, task: curriculum.Task) -> int:
    """1 the first time a task's hint is asked for, then 2, 3... up to the number of hints it has."""
    try:
        shown = json.loads(SHOWN.read_text()) if SHOWN.exists() else {}
    except ValueError:
        shown = {}
    key = f"{topic.slug}:{task.number}"
    level = min(shown.get(key, 0) + 1, len(task.hints))
    shown[key] = level
    PROGRESS_DIR.mkdir(exist_ok=True)
    (PROGRESS_DIR / ".gitignore").write_text("*\n")
    SHOWN.write_text(json.dumps(shown, indent=1))
    return level


def hint_text(topic: curriculum.Topic, number: int | None = None, result: TopicResult | None = None,
              again: str | None = None) -> str:
    """The next level of the hint for task `number` (default: the first failing one), as the student reads it.
    `again` replaces "(ask again for more)", e.g. with the key to press in watch."""
    words = WORDS[curriculum.language()]
    task = chosen_task(topic, number, result)
    if task is None:
        return words["done"].format(slug=topic.slug)
    level = next_level(topic, task)
    label = words["hint"].format(level=level, levels=len(task.hints))
    width = terminal_width()
    lines = [f"{topic.slug} · {words['task']} {task.number}: {task.title}",
             *wrap(f"{label}: {task.hints[level - 1]}", width)]
    if len(task.hints) > 1:
        lines.append(words["last"] if level == len(task.hints) else again or words["more"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", nargs="?", help="topic slug, folder name or number (default: the last checked)")
    parser.add_argument("task", nargs="?", type=int, help="task number (default: the first failing task)")
    options = parser.parse_args(argv)
    topic = curriculum.topic(options.topic) if options.topic else current_topic(load_progress())
    if topic is None:
        print(WORDS[curriculum.language()]["none"])
        return 0
    print(hint_text(topic, options.task))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "hint"))
