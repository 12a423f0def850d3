"""coverage.toml: every teachable item of the course outline is graded by a task or says why not.

The item list and COVERAGE.md are described in `graders/harness/teacher/coverage.py`. These checks fail when an
item has neither tasks nor a reason, when an item names a task that curriculum.toml does not have, and when
COVERAGE.md is not what `nox -s coverage` would write now.
"""

from __future__ import annotations

import pytest

from graders.harness.core import curriculum
from graders.harness.teacher import coverage

COVERAGE = coverage.load()


def _in_order(entry: tuple[str, list[str]]) -> tuple[str, int]:
    slug, number = entry[0].split(":")
    return slug, int(number)


def test_coverage_toml_is_well_formed() -> None:
    assert not COVERAGE.problems, "coverage.toml has problems:\n" + "\n".join(COVERAGE.problems)


def test_every_item_is_graded_or_explained() -> None:
    unexplained = coverage.neither(COVERAGE)
    if unexplained:
        pytest.fail(
            f"{len(unexplained)} items of the outline are neither graded nor explained; give each the task(s) that "
            'grade it (`graded = ["topic-slug:N"]`) or a reason (`reason.en`, `reason.zh`) in coverage.toml:\n'
            + "\n".join(f"  {item.where}" for item in unexplained),
            pytrace=False,
        )


def test_every_task_named_exists_in_the_curriculum() -> None:
    missing = coverage.missing_tasks(COVERAGE, curriculum.topics())
    by_ref: dict[str, list[str]] = {}
    reasons: dict[str, str] = {}
    for item, ref, why in missing:
        by_ref.setdefault(ref, []).append(f"#{item.number} {item.text}")
        reasons[ref] = why
    if missing:
        pytest.fail(
            f"coverage.toml names {len(by_ref)} tasks that curriculum.toml does not have (a task planned but not "
            "added yet, a typo, or a task renumbered): add the task, or change the items that name it\n"
            + "\n".join(
                f"  {ref} ({reasons[ref]}), named by items " + "; ".join(items)
                for ref, items in sorted(by_ref.items(), key=_in_order)
            ),
            pytrace=False,
        )


def test_coverage_md_is_up_to_date() -> None:
    expected = coverage.render(COVERAGE, curriculum.topics())
    current = coverage.TARGET.read_text(encoding="utf-8") if coverage.TARGET.exists() else ""
    old, new = current.splitlines(), expected.splitlines()
    first = next((n for n, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    assert current == expected, (
        f"COVERAGE.md is not what coverage.toml and curriculum.toml give now (first difference at line "
        f"{first + 1}): run `nox -s coverage` and commit COVERAGE.md"
    )


def test_the_items_are_the_outline_read_once() -> None:
    seen: dict[tuple[str, str], int] = {}
    repeated = []
    for item in COVERAGE.items:
        key = (item.heading, item.text)
        if key in seen:
            repeated.append(f"  item {item.number} repeats item {seen[key]}: {item.heading}: {item.text}")
        seen.setdefault(key, item.number)
    assert not repeated, "coverage.toml lists an item twice under the same heading:\n" + "\n".join(repeated)


def test_the_checks_catch_an_item_with_neither_tasks_nor_a_reason(tmp_path) -> None:
    """The self-check itself: a file with a bare item, a half reason and a task out of range is refused."""
    bad = tmp_path / "coverage.toml"
    bad.write_text(
        '[[section]]\npart = "MySQL"\nheading = "MySQL基础命令"\n\n'
        '[[section.item]]\nitem = "查看当前用户 `select user()`"\ngloss = "the current user"\n\n'
        '[[section.item]]\nitem = "`flush privileges`"\ngloss = "reload rights"\nreason.en = "not needed"\n\n'
        '[[section.item]]\nitem = "`use db_name`"\ngloss = "switch"\ngraded = ["sql-basics:99", "threads"]\n',
        encoding="utf-8",
    )
    found = coverage.load(bad)
    assert [item.number for item in coverage.neither(found)] == [1, 2]
    said = "\n".join(found.problems)
    assert "item 1 " in said and "neither graded nor explained" in said
    assert "item 2 " in said and "reason.en and reason.zh" in said
    assert "'threads'" in said and "topic-slug:task-number" in said
    missing = coverage.missing_tasks(found, curriculum.topics())
    assert [(item.number, ref) for item, ref, _ in missing] == [(3, "sql-basics:99")]
    shown = coverage.render(found, curriculum.topics())
    assert shown.count("**neither graded nor explained**") == 2 and "sql-basics:99" in shown
