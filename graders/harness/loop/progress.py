"""`nox -s progress`: every topic in course order with its score and a bar, then the next thing to do."""

from __future__ import annotations

from graders.harness.core import curriculum
from graders.harness.core.results import TopicResult, load_progress, topics_complete
from graders.harness.views.terminal import phrase, render_course, use_colour

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


def current_topic(progress: dict[str, TopicResult]) -> curriculum.Topic | None:
    """The first available topic, in course order, that is not complete."""
    for topic in curriculum.topics():
        if topic.available and not (topic.slug in progress and progress[topic.slug].complete):
            return topic
    return None


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


def main() -> None:
    progress = load_progress()
    colour = use_colour()
    print(render_course(progress, colour=colour))
    done, total = topics_complete(progress)
    earned = sum(result.points for result in progress.values())
    possible = sum(topic.points for topic in curriculum.topics() if topic.available)
    print(f"\n{phrase('score')} {earned:g}/{possible:g} · {phrase('complete')}: {done} {phrase('of')} {total}")
    print(next_step(progress))


if __name__ == "__main__":
    main()
