"""`nox -s coverage`: COVERAGE.md, every teachable item of the course outline and the tasks that grade it.

`coverage.toml` (at the root of the course) lists the items of the course outline (`course-outline.zh.md`,
kept beside the course in `../shared/`) in the outline's order, under the outline's headings. Each item names
the tasks whose graders fail when a student gets that item wrong (`graded = ["threads:2"]`), or says in
English and Chinese why no task grades it (`reason.en`, `reason.zh`). A mention in a README or a hint is not
grading.

This module reads coverage.toml, says what is wrong with it (an item with neither tasks nor a reason, a task
that curriculum.toml does not have) and writes COVERAGE.md from it. `tests/test_coverage.py` runs the same
checks in `nox -s test`. `nox -s coverage` writes COVERAGE.md; `nox -s coverage -- --check` only says whether
it is up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from graders.harness.core import cli, curriculum
from graders.harness.core.curriculum import ROOT, Text, Topic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SOURCE = ROOT / "coverage.toml"
TARGET = ROOT / "COVERAGE.md"
REFERENCE = re.compile(r"^([a-z][a-z0-9-]*):([1-9][0-9]*)$")
SECTION_KEYS = {"part", "heading", "item"}
ITEM_KEYS = {"item", "gloss", "graded", "reason", "note"}


@dataclass(frozen=True)
class Item:
    """One teachable item of the outline: where it is, what it says, and what grades it (or why nothing does)."""

    number: int  # its place in the outline, counted from 1 over the whole outline
    part: str  # the outline's top heading (`# MySQL`)
    heading: str  # the heading the item sits under, as written (`## 表约束和表关系`), or the bullet that heads a list
    text: str  # the item as the outline writes it, shortened
    gloss: str  # the same in English
    graded: tuple[str, ...]  # "slug:N" of every task whose graders fail when the item is done wrong
    reason: Text | None  # why no task grades it
    note: Text | None  # what a reader should know about how it is graded

    @property
    def where(self) -> str:
        return f"item {self.number} ({self.heading}: {self.text})"


@dataclass(frozen=True)
class Coverage:
    items: tuple[Item, ...]
    problems: tuple[str, ...]  # what is wrong in coverage.toml itself, whatever the curriculum holds


def _text(value: object) -> Text | None:
    if not isinstance(value, dict):
        return None
    if all(isinstance(value.get(lang), str) and value[lang].strip() for lang in curriculum.LANGUAGES):
        return Text(en=value["en"].strip(), zh=value["zh"].strip())
    return None


def load(path: Path = SOURCE) -> Coverage:
    """The items of coverage.toml in order, and every problem found in them (none when the file is sound)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    items: list[Item] = []
    problems: list[str] = []
    for place, section in enumerate(data.get("section", []), start=1):
        part, heading = section.get("part"), section.get("heading")
        if not (isinstance(part, str) and part and isinstance(heading, str) and heading):
            problems.append(f"section {place} needs `part` and `heading` (the outline's headings, as written)")
            part, heading = str(part), str(heading)
        if unknown := set(section) - SECTION_KEYS:
            problems.append(f"section {heading}: unknown keys {sorted(unknown)} (allowed: {sorted(SECTION_KEYS)})")
        for entry in section.get("item", []):
            number = len(items) + 1
            graded = entry.get("graded", [])
            item = Item(
                number=number,
                part=part,
                heading=heading,
                text=str(entry.get("item", "")).strip(),
                gloss=str(entry.get("gloss", "")).strip(),
                graded=tuple(str(ref) for ref in graded) if isinstance(graded, list) else (),
                reason=_text(entry.get("reason")),
                note=_text(entry.get("note")),
            )
            items.append(item)
            problems.extend(_problems(item, entry))
    if not items:
        problems.append(f"{path.name} lists no items: it needs [[section]] blocks with [[section.item]] entries")
    return Coverage(items=tuple(items), problems=tuple(problems))


def _problems(item: Item, entry: dict) -> list[str]:
    found = []
    if unknown := set(entry) - ITEM_KEYS:
        found.append(f"{item.where}: unknown keys {sorted(unknown)} (allowed: {sorted(ITEM_KEYS)})")
    if not item.text or not item.gloss:
        found.append(f"{item.where}: needs `item` (the outline's words) and `gloss` (in English)")
    graded = entry.get("graded")
    if graded is not None and not (isinstance(graded, list) and graded):
        found.append(f'{item.where}: `graded` must be a non-empty list of "topic-slug:task-number"')
    bad = [ref for ref in item.graded if not REFERENCE.match(ref)]
    if bad:
        found.append(f'{item.where}: {bad} in `graded` should each read "topic-slug:task-number", e.g. "threads:2"')
    if len(set(item.graded)) != len(item.graded):
        found.append(f"{item.where}: `graded` names a task twice")
    if "reason" in entry and item.reason is None:
        found.append(f"{item.where}: `reason` needs both reason.en and reason.zh")
    if "note" in entry and item.note is None:
        found.append(f"{item.where}: `note` needs both note.en and note.zh")
    if item.graded and item.reason:
        found.append(f"{item.where}: has both `graded` and `reason`; an item is graded or explained, not both")
    if not item.graded and not item.reason and "graded" not in entry and "reason" not in entry:
        found.append(f"{item.where}: neither graded nor explained: name the task(s) that grade it, or give a reason")
    return found


def neither(coverage: Coverage) -> list[Item]:
    """The items with no task and no reason: what the self-check must never let through."""
    return [item for item in coverage.items if not item.graded and item.reason is None]


def task_title(topics: tuple[Topic, ...], ref: str) -> Text | None:
    """The title of the task `ref` ("slug:N") in curriculum.toml, or None when the course has no such task."""
    slug, number = ref.split(":")
    for topic in topics:
        if topic.slug == slug and 1 <= int(number) <= len(topic.tasks):
            return topic.tasks[int(number) - 1].title
    return None


def missing_tasks(coverage: Coverage, topics: tuple[Topic, ...]) -> list[tuple[Item, str, str]]:
    """(item, ref, why) for every task an item names that curriculum.toml does not have."""
    by_slug = {topic.slug: topic for topic in topics}
    found = []
    for item in coverage.items:
        for ref in item.graded:
            if not REFERENCE.match(ref):
                continue
            slug, number = ref.split(":")
            topic = by_slug.get(slug)
            if topic is None:
                found.append((item, ref, f"curriculum.toml has no topic {slug}"))
            elif int(number) > len(topic.tasks):
                found.append((item, ref, f"{slug} has tasks 1 to {len(topic.tasks)}"))
    return found


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, `|` escaped (also inside code, as GitHub wants it)."""
    return " ".join(text.split()).replace("|", "\\|")


def _graded_cell(item: Item, topics: tuple[Topic, ...]) -> str:
    if item.reason is not None:
        return _cell(f"not graded: {item.reason.en}") + "<br>" + _cell(f"不评分：{item.reason.zh}")
    if not item.graded:
        return "**neither graded nor explained** · **既没有评分也没有说明**"
    links = []
    for ref in item.graded:
        if not REFERENCE.match(ref):
            links.append(f"`{_cell(ref)}` (not a task: write topic-slug:task-number)")
            continue
        slug, number = ref.split(":")
        title = task_title(topics, ref)
        link = f"[{slug} {number}](exercises/{slug.replace('-', '_')}/README.md)"
        links.append(f"{link} {_cell(title.en)}" if title else f"{link} (not in curriculum.toml yet)")
    cell = "<br>".join(links)
    if item.note is not None:
        cell += "<br>" + _cell(f"Note: {item.note.en}") + "<br>" + _cell(f"注：{item.note.zh}")
    return cell


def render(coverage: Coverage, topics: tuple[Topic, ...]) -> str:
    """COVERAGE.md: the counts, then one table per heading of the outline, then the tasks tied to no item."""
    items = coverage.items
    graded = [item for item in items if item.graded]
    explained = [item for item in items if item.reason is not None]
    lines = [
        "# The course outline, item by item · 大纲逐条覆盖情况",
        "",
        "Written by `nox -s coverage` from `coverage.toml`: edit that file, not this one. Each teachable item of",
        "the course outline (`course-outline.zh.md`), in the outline's order, with the tasks whose graders fail",
        "when a student gets it wrong, or the reason no task grades it. A mention in a README or a hint does not",
        "count as grading. `nox -s test` fails when an item has neither.",
        "",
        "由 `nox -s coverage` 根据 `coverage.toml` 生成：请修改那个文件，不要改这里。",
        "按大纲的顺序列出大纲中每一个可以教的条目，以及学生做错这一条时会判为不通过的任务；",
        "没有任务评分的条目写明原因。README 或提示里提到过不算评分。",
        "某个条目既没有任务也没有原因时，`nox -s test` 会失败。",
        "",
        f"**{len(items)} items: {len(graded)} graded by a task, {len(explained)} explained (not graded, with the "
        f"reason).** · **共 {len(items)} 条：{len(graded)} 条有任务评分，{len(explained)} 条说明了不评分的原因。**",
        "",
    ]
    missing = missing_tasks(coverage, topics)
    if missing:
        refs = sorted({ref for _, ref, _ in missing}, key=lambda ref: (ref.split(":")[0], int(ref.split(":")[1])))
        lines += [
            f"{len({item.number for item, _, _ in missing})} items name tasks that curriculum.toml does not have "
            f"yet: {', '.join(refs)}.",
            "",
        ]
    lines += ["| part · 部分 | items · 条目 | graded · 评分 | explained · 说明 |", "|---|---|---|---|"]
    parts = list(dict.fromkeys(item.part for item in items))
    for part in parts:
        mine = [item for item in items if item.part == part]
        lines.append(
            f"| {_cell(part)} | {len(mine)} | {sum(1 for i in mine if i.graded)} | "
            f"{sum(1 for i in mine if i.reason is not None)} |"
        )
    sections = list(dict.fromkeys((item.part, item.heading) for item in items))
    for part, heading in sections:
        title = part if heading == part else f"{part} › {heading}"
        lines += ["", f"## {title}", "", "| # | outline · 大纲 | in English | graded by · 评分任务 |"]
        lines.append("|---|---|---|---|")
        for item in items:
            if (item.part, item.heading) == (part, heading):
                lines.append(
                    f"| {item.number} | {_cell(item.text)} | {_cell(item.gloss)} | {_graded_cell(item, topics)} |"
                )
    named = {ref for item in items for ref in item.graded}
    beyond = [
        f"- [{topic.slug} {task.number}](exercises/{topic.dir}/README.md) {_cell(task.title.en)}"
        for topic in topics
        for task in topic.tasks
        if f"{topic.slug}:{task.number}" not in named
    ]
    lines += [
        "",
        "## Tasks that grade no item of the outline · 不对应大纲条目的任务",
        "",
        "What the course teaches beyond the outline (or an item that should name the task).",
        "大纲之外的内容（或者某个条目漏写了这个任务）。",
        "",
        *(beyond or ["None: every task grades an item of the outline. · 无：每个任务都对应大纲中的条目。"]),
        "",
    ]
    return "\n".join(lines)


def report(coverage: Coverage, topics: tuple[Topic, ...]) -> list[str]:
    """Every problem of coverage.toml against this curriculum, one line each (empty when all is well)."""
    lines = list(coverage.problems)
    for item, ref, why in missing_tasks(coverage, topics):
        lines.append(f"{item.where} names {ref}, which does not exist: {why}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether COVERAGE.md is up to date")
    options = parser.parse_args(argv)
    coverage = load()
    topics = curriculum.topics()
    for line in report(coverage, topics):
        print(f"coverage.toml: {line}", file=sys.stderr)
    text = render(coverage, topics)
    if options.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("COVERAGE.md is out of date: run `nox -s coverage`", file=sys.stderr)
            return 1
        print("COVERAGE.md is up to date")
    else:
        TARGET.write_text(text, encoding="utf-8", newline="\n")
        items = coverage.items
        print(
            f"wrote {TARGET.name}: {len(items)} items, {sum(1 for item in items if item.graded)} graded, "
            f"{sum(1 for item in items if item.reason is not None)} explained"
        )
    return 1 if coverage.problems or neither(coverage) else 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "coverage"))
