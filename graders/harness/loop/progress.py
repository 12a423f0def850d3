"""`nox -s progress`: every topic in course order with its score, a bar and the date of its last result, then
the next thing to do.

Also which topic a student is working on, for `hint` and `watch` without arguments: the one they checked last
(by the times saved progress keeps), while it is not complete; after that the next one in course order.
"""

from __future__ import annotations

from graders.harness.core import cli, curriculum
from graders.harness.core.results import TopicResult, load_progress, topics_complete
from graders.harness.views.terminal import phrase, render_course, use_colour
from graders.harness.views.text import wrapped

NEXT = {
    "en": {
        "start": "start with {topic}: read exercises/{dir}/README.md, then run `nox -s check-{slug}`",
        "continue": "next: task {task} of {slug} ({title}); run `nox -s check-{slug}` or `nox -s watch`",
        "check": "next: check {slug} with `nox -s check-{slug}`",
        "done": "every available topic is complete. Well done!",
    },
    "zh": {
        "start": "从 {topic} 开始：先读 exercises/{dir}/README.md，再运行 `nox -s check-{slug}`",
        "continue": "下一步：{slug} 的任务 {task}（{title}）；运行 `nox -s check-{slug}` 或 `nox -s watch`",
        "check": "下一步：用 `nox -s check-{slug}` 检查 {slug}",
        "done": "所有已开放的主题都完成了，做得好！",
    },
}


def _complete(topic: curriculum.Topic, progress: dict[str, TopicResult]) -> bool:
    return topic.slug in progress and progress[topic.slug].complete


def last_checked(progress: dict[str, TopicResult]) -> curriculum.Topic | None:
    """The available topic whose latest saved result is the newest; None before any check saved a time."""
    dated = [(result.checked, slug) for slug, result in progress.items() if result.checked is not None]
    for _, slug in sorted(dated, reverse=True):
        topic = curriculum.topic(slug)
        if topic.available:
            return topic
    return None


def topic_after(topic: curriculum.Topic | None, progress: dict[str, TopicResult]) -> curriculum.Topic | None:
    """The first available topic that is not complete, looking from the one after `topic` in course order to
    the end of the course and then from its start; None when every available topic is complete."""
    course = list(curriculum.topics())
    start = course.index(topic) + 1 if topic in course else 0
    for candidate in course[start:] + course[:start]:
        if candidate.available and candidate != topic and not _complete(candidate, progress):
            return candidate
    return None


def current_topic(progress: dict[str, TopicResult]) -> curriculum.Topic | None:
    """The topic the student is working on: the one checked last while it is not complete, else the next one
    in course order after it that is not; before any dated check, the first topic not complete."""
    last = last_checked(progress)
    if last is not None and not _complete(last, progress):
        return last
    return topic_after(last, progress)


def next_step(progress: dict[str, TopicResult]) -> str:
    words = NEXT[curriculum.language()]
    topic = current_topic(progress)
    if topic is None:
        return words["done"]
    result = progress.get(topic.slug)
    if result is None:
        key = "start" if not progress else "check"
        return words[key].format(topic=str(topic.title), dir=topic.dir, slug=topic.slug)
    task = next(task for task in result.tasks if task.status != "passed")
    return words["continue"].format(task=task.task, slug=topic.slug, title=topic.task(task.task).title)


def course_table(progress: dict[str, TopicResult], colour: bool) -> str:
    """The course with scores and dates, then the total score: `nox -s progress` and watch's `l` key."""
    done, total = topics_complete(progress)
    earned = sum(result.points for result in progress.values())
    possible = sum(topic.points for topic in curriculum.topics() if topic.available)
    return (f"{render_course(progress, colour=colour, dates=True)}\n\n"
            f"{phrase('score')} {earned:g}/{possible:g} · "
            f"{phrase('complete')}{phrase('colon')}{done} {phrase('of')} {total}")


def main() -> None:
    progress = load_progress()
    print(course_table(progress, use_colour()))
    print(wrapped(next_step(progress)))


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "progress"))
