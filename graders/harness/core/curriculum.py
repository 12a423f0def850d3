"""The course manifest, `curriculum.toml`: topics in teaching order, their tasks, points and hints."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "curriculum.toml"
LANGUAGES = ("en", "zh")


def language() -> str:
    """The language of everything a student reads: COURSE_LANG, else LC_ALL/LC_MESSAGES/LANG, else the
    operating system's own setting (Windows sets no LANG: its user interface language decides)."""
    forced = os.environ.get("COURSE_LANG", "").lower()
    if forced in LANGUAGES:
        return forced
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "zh" if system_locale().lower().startswith("zh") else "en"


def say(en: str, zh: str) -> str:
    """A message in the student's language: every text a student reads is written in both.

    COURSE_LANG=both is the self-check's: the English text stays whole and the Chinese follows it in ⟦ ⟧, so a
    check can match English phrases and still require the Chinese (tests/test_course.py)."""
    if os.environ.get("COURSE_LANG", "").lower() == "both":
        return f"{en}⟦{zh}⟧"
    return zh if language() == "zh" else en


def system_locale() -> str:
    """The locale the operating system runs in, e.g. 'zh_CN', or '' when it cannot be told."""
    if sys.platform == "win32":
        try:
            import ctypes
            import locale

            return locale.windows_locale.get(ctypes.windll.kernel32.GetUserDefaultUILanguage(), "")
        except (AttributeError, OSError):
            return ""
    import locale

    try:
        return locale.getlocale()[0] or ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class Text:
    """One text in every language of the course."""

    en: str
    zh: str

    def __str__(self) -> str:
        return self.zh if language() == "zh" else self.en


@dataclass(frozen=True)
class Task:
    number: int
    title: Text
    points: int
    hints: tuple[Text, ...]  # a nudge first; `nox -s hint` gives the next one each time it is asked again

    @property
    def hint(self) -> Text:
        return self.hints[0]


@dataclass(frozen=True)
class Topic:
    slug: str
    title: Text
    services: tuple[str, ...]
    tasks: tuple[Task, ...]

    @property
    def dir(self) -> str:
        """The folder name under exercises/, solutions/ and graders/."""
        return self.slug.replace("-", "_")

    @property
    def points(self) -> int:
        return sum(task.points for task in self.tasks)

    @property
    def available(self) -> bool:
        """True once the topic has tasks, a stub and graders (a student's repository has no solutions/)."""
        return bool(self.tasks) and all((ROOT / tree / self.dir).is_dir() for tree in ("exercises", "graders"))

    def task(self, number: int) -> Task:
        if not 1 <= number <= len(self.tasks):
            count = len(self.tasks)
            raise NotInCourse(say(f"{self.slug} has tasks 1 to {count}, not task {number}",
                                  f"{self.slug} 的任务是 1 到 {count}，没有任务 {number}"))
        return self.tasks[number - 1]


def _hints(table: dict, where: str) -> tuple[Text, ...]:
    """`hint.en`/`hint.zh` as one string each, or as lists of levels of the same length."""
    value = table.get("hint")
    if isinstance(value, dict) and all(isinstance(value.get(lang), list) for lang in LANGUAGES):
        if len(value["en"]) != len(value["zh"]) or not value["en"]:
            counts = f"{len(value['en'])} English hints and {len(value['zh'])} Chinese ones"
            raise ValueError(f"curriculum.toml: {where} has {counts}; they go in pairs")
        return tuple(Text(en=en, zh=zh) for en, zh in zip(value["en"], value["zh"], strict=True))
    return (_text(table, "hint", where),)


def _text(table: dict, key: str, where: str) -> Text:
    value = table.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) for lang in LANGUAGES):
        raise ValueError(f"curriculum.toml: {where} needs {key}.en and {key}.zh")
    return Text(en=value["en"], zh=value["zh"])


def _manifest() -> dict:
    """curriculum.toml, parsed. Every check parses it in nox and in each pytest, 0.03 s each time for its 150 kB;
    a JSON copy of the parse, named by a hash of the text (so an edit is never missed), takes a tenth of that."""
    text = MANIFEST.read_bytes()
    copy = ROOT / ".results" / f"curriculum-{hashlib.sha256(text).hexdigest()[:16]}.json"
    try:
        return json.loads(copy.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = tomllib.loads(text.decode("utf-8"))
    temporary = copy.with_name(f".{copy.name}.{os.getpid()}")
    try:
        copy.parent.mkdir(exist_ok=True)
        for stale in copy.parent.glob("curriculum-*.json"):
            stale.unlink(missing_ok=True)
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        temporary.replace(copy)
    except OSError:  # a read-only course parses every time
        temporary.unlink(missing_ok=True)
    return data


@cache
def topics() -> tuple[Topic, ...]:
    """Every topic of the course, in teaching order."""
    data = _manifest()
    result = []
    for block in data["topic"]:
        slug = block["slug"]
        tasks = tuple(
            Task(
                number=number,
                title=_text(task, "title", f"{slug} task {number}"),
                points=int(task["points"]),
                hints=_hints(task, f"{slug} task {number}"),
            )
            for number, task in enumerate(block.get("task", []), start=1)
        )
        result.append(
            Topic(
                slug=slug,
                title=_text(block, "title", slug),
                services=tuple(block.get("services", ())),
                tasks=tasks,
            )
        )
    return tuple(result)


HIDDEN_MARK = re.compile(r"^pytestmark\s*=.*\bpytest\.mark\.hidden\b", re.MULTILINE)


def is_hidden(path: Path) -> bool:
    """A hidden grader (`pytestmark = pytest.mark.hidden`), or teacher-side code such as a reference
    counterpart a grader needs (any `*_hidden.py` file): neither reaches students."""
    if path.suffix != ".py" or not path.is_file():
        return False
    return path.name.endswith("_hidden.py") or bool(HIDDEN_MARK.search(path.read_text(encoding="utf-8")))


class NotInCourse(KeyError):
    """A topic or task the course does not have; its message names the valid choices."""

    def __str__(self) -> str:
        return str(self.args[0])


def topic(name: str) -> Topic:
    """The topic named by its slug (`sql-queries`), its folder name (`sql_queries`) or its number (`3`)."""
    course = topics()
    if name.isdigit() and 1 <= int(name) <= len(course):
        return course[int(name) - 1]
    slug = name.strip().lower().replace("_", "-")
    for candidate in course:
        if candidate.slug == slug:
            return candidate
    choices = ", ".join(candidate.slug for candidate in course)
    raise NotInCourse(say(f"no topic {name!r}; the topics are {choices} (or their numbers, 1 to {len(course)})",
                          f"没有主题 {name!r}；主题有 {choices}（也可以用编号 1 到 {len(course)}）"))


if __name__ == "__main__":
    # `python -m graders.harness.core.curriculum services`: what `docker compose up` must start for this course.
    if sys.argv[1:] == ["services"]:
        print(" ".join(sorted({name for topic in topics() if topic.available for name in topic.services})))
    else:
        raise SystemExit("usage: python -m graders.harness.core.curriculum services")
