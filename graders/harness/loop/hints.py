"""`nox -s hint -- [topic] [task]`: the hint for the first failing task, one level deeper each time asked."""

from __future__ import annotations

import argparse
import json

from graders.harness.core import cli, curriculum
from graders.harness.core.results import PROGRESS_DIR, load_progress
from graders.harness.loop.progress import current_topic

SHOWN = PROGRESS_DIR / "hints-shown.json"

WORDS = {
    "en": {"hint": "hint {level} of {levels}", "last": "(that is the last hint for this task)",
           "more": "(ask again for more)", "done": "every task of {slug} passes: no hint needed",
           "none": "no topic left to hint at"},
    "zh": {"hint": "提示 {level}/{levels}", "last": "（这是本任务的最后一条提示）",
           "more": "（再运行一次可以看到更多提示）", "done": "{slug} 的所有任务都已通过，不需要提示",
           "none": "没有需要提示的主题了"},
}


def chosen_task(topic: curriculum.Topic, number: int | None) -> curriculum.Task | None:
    """The task named, else the first that failed in the last check, else the first task."""
    if number is not None:
        return topic.task(number)
    result = load_progress().get(topic.slug)
    if result is None:
        return topic.tasks[0]
    failing = [task.task for task in result.tasks if task.status != "passed"]
    return topic.task(failing[0]) if failing else None


def next_level(topic: curriculum.Topic, task: curriculum.Task) -> int:
    """1 the first time a task's hint is asked for, then 2, 3... up to the number of hints it has."""
    shown = json.loads(SHOWN.read_text()) if SHOWN.exists() else {}
    key = f"{topic.slug}:{task.number}"
    level = min(shown.get(key, 0) + 1, len(task.hints))
    shown[key] = level
    PROGRESS_DIR.mkdir(exist_ok=True)
    (PROGRESS_DIR / ".gitignore").write_text("*\n")
    SHOWN.write_text(json.dumps(shown, indent=1))
    return level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("topic", nargs="?", help="topic slug (default: the topic you are working on)")
    parser.add_argument("task", nargs="?", type=int, help="task number (default: the first failing task)")
    options = parser.parse_args(argv)
    words = WORDS[curriculum.language()]
    topic = curriculum.topic(options.topic) if options.topic else current_topic(load_progress())
    if topic is None:
        print(words["none"])
        return 0
    task = chosen_task(topic, options.task)
    if task is None:
        print(words["done"].format(slug=topic.slug))
        return 0
    level = next_level(topic, task)
    label = words["hint"].format(level=level, levels=len(task.hints))
    print(f"{topic.slug} · task {task.number}: {task.title}\n{label}: {task.hints[level - 1]}")
    if len(task.hints) > 1:
        print(words["last"] if level == len(task.hints) else words["more"])
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "hint"))
