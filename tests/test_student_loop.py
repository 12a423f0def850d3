"""The student loop in a private copy of the course: watch mode driven by real file writes, hints on
demand, progress, and the choice of language."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders.harness.core import curriculum

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = curriculum.ROOT
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A copy of the course where only `threads` is available, with the stub untouched."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("curriculum.toml", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "graders", copy / "graders", ignore=shutil.ignore_patterns("__pycache__", "mutants"))
    for tree in ("exercises", "solutions"):
        shutil.copytree(ROOT / tree / "threads", copy / tree / "threads", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def run(course: Path, *args: str, lang: str = "en") -> str:
    env = {**os.environ, "PYTHONPATH": str(course), "COURSE_LANG": lang, "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, *args], cwd=course, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


class Watcher:
    """`python -m graders.harness.loop.watch` in the background, its output collected line by line."""

    def __init__(self, course: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(course), "COURSE_LANG": "en", "NO_COLOR": "1"}
        command = [sys.executable, "-m", "graders.harness.loop.watch", "--no-clear", *args, "--timeout-scale", "0.3"]
        self.process = subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(bool(re.search(pattern, line)) for line in self.lines) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"no {count}× {pattern!r} in:\n" + "\n".join(self.lines[-40:]))

    def text(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def test_watch_reruns_on_save_once_per_burst_and_moves_on_when_complete(course: Path):
    exercises, solutions = course / "exercises" / "threads", course / "solutions" / "threads"
    watcher = Watcher(course, "threads")
    try:
        watcher.wait_for(r"^watching exercises/threads/")
        assert "✗ task 1" in watcher.text()
        time.sleep(0.3)
        (exercises / "basics.py").write_text((solutions / "basics.py").read_text())
        watcher.wait_for(r"^watching exercises/threads/", count=2)
        assert re.search(r"✓ task 1", watcher.text()), watcher.text()
        for name in ("counter.py", "echo_server.py", "cpu_bound.py"):  # one burst of saves: one check
            (exercises / name).write_text((solutions / name).read_text())
            time.sleep(0.05)
        watcher.wait_for(r"threads is complete! Moving on to -")
        watcher.wait_for(r"every available topic is complete")
        checks = [line for line in watcher.lines if re.search(r"^score \d+/\d+", line)]
        assert len(checks) == 3, f"expected 3 checks (start, first save, one burst), got {len(checks)}: {checks}"
    finally:
        watcher.stop()


def test_watch_notices_a_save_without_inotify(course: Path, monkeypatch):
    sys.path.insert(0, str(course))
    try:
        from graders.harness.loop import watch

        folder = course / "exercises" / "threads"
        before = watch.snapshot(folder)
        monkeypatch.setattr(watch.Inotify, "__init__", lambda self, folder: setattr(self, "fd", -1))
        timer = threading.Timer(0.3, lambda: (folder / "counter.py").write_text("# changed\n"))
        timer.start()
        started = time.monotonic()
        after = watch.wait_for_change(folder, before)
        assert after != before and time.monotonic() - started < 5
    finally:
        sys.path.remove(str(course))


def test_progress_shows_every_topic_and_the_next_step(course: Path):
    before = run(course, "-m", "graders.harness.loop.progress")
    assert "start with threads" in before
    assert before.count("not available yet") == 18
    run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3")
    after = run(course, "-m", "graders.harness.loop.progress")
    assert re.search(r"✗ threads\s+0/13", after), after
    assert "next: task 1 of threads (start and join threads)" in after


def test_hint_follows_the_first_failing_task_and_goes_deeper_when_asked_again(course: Path):
    exercises, solutions = course / "exercises" / "threads", course / "solutions" / "threads"
    (exercises / "basics.py").write_text((solutions / "basics.py").read_text())
    run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3")
    first = run(course, "-m", "graders.harness.loop.hints")
    task = curriculum.topic("threads").task(2)
    assert "threads · task 2" in first and f"hint 1 of 2: {task.hints[0].en}" in first, first
    second = run(course, "-m", "graders.harness.loop.hints")
    assert f"hint 2 of 2: {task.hints[1].en}" in second and "last hint" in second
    named = run(course, "-m", "graders.harness.loop.hints", "threads", "3", lang="zh")
    assert curriculum.topic("threads").task(3).hint.zh in named


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "COURSE_LANG": "zh"}, "zh"),
        ({"LANG": "zh_TW.UTF-8", "COURSE_LANG": "en"}, "en"),
    ],
)
def test_language_follows_the_environment_and_can_be_forced(monkeypatch, env, expected):
    for name in ("LANG", "LC_ALL", "LC_MESSAGES", "COURSE_LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert curriculum.language() == expected


def test_the_terminal_view_speaks_chinese_when_asked(course: Path):
    output = run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3", "--lang", "zh")
    assert "任务 1" in output and "提示:" in output and "得分 0/13" in output, output
    # The view wraps the hint; a line may break at a space, which the wrapping drops: compare without whitespace.
    assert re.sub(r"\s", "", curriculum.topic("threads").task(1).hint.zh) in re.sub(r"\s", "", output), output


def test_every_task_and_hint_has_both_languages():
    for topic in curriculum.topics():
        for text in (topic.title, *(t.title for t in topic.tasks), *(h for t in topic.tasks for h in t.hints)):
            assert text.en.strip() and text.zh.strip(), f"{topic.slug}: an empty text"
            assert CJK.search(text.zh), f"{topic.slug}: {text.zh!r} is not Chinese"
            assert text.en != text.zh


def test_every_task_has_hints_in_levels_in_both_languages():
    """At least two levels (a nudge towards the outline, then the API, then perhaps the shape of the fix), as lists
    of the same length in hint.en and hint.zh, each level a different text."""
    manifest = tomllib.loads(curriculum.MANIFEST.read_text(encoding="utf-8"))
    short: list[str] = []
    for block in manifest["topic"]:
        for number, task in enumerate(block.get("task", []), start=1):
            en, zh = task["hint"]["en"], task["hint"]["zh"]
            where = f"{block['slug']} task {number}"
            assert isinstance(en, list) and isinstance(zh, list), f"{where}: hint.en and hint.zh are not both lists"
            assert len(en) == len(zh), f"{where}: {len(en)} English hint levels but {len(zh)} Chinese ones"
            if len(en) < 2:
                short.append(where)
            assert len(set(en)) == len(en) and len(set(zh)) == len(zh), f"{where}: two hint levels are the same"
    assert not short, f"tasks with fewer than 2 hint levels: {short}"


@pytest.mark.parametrize("topic", [t for t in curriculum.topics() if t.available], ids=lambda t: t.slug)
def test_every_task_of_a_readme_is_written_in_both_languages(topic: curriculum.Topic):
    readme = (ROOT / "exercises" / topic.dir / "README.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", readme, flags=re.MULTILINE)[1:]
    tasks = [section for section in sections if section.startswith("Task ")]
    assert len(tasks) == len(topic.tasks)
    for section in tasks:
        prose = re.sub(r"`[^`]*`", "", section.split("\n", 1)[1])
        assert CJK.search(prose), f"{topic.slug}: '## {section.splitlines()[0]}' has no Chinese text"
        assert re.search(r"[A-Za-z]{4,} [a-z]{2,} [a-z]{2,}", prose), f"{topic.slug}: no English text"


@pytest.mark.parametrize(("program", "args", "says"), [
    ("loop.hints", ["nosuchtopic"], "the topics are sql-basics"),
    ("loop.hints", ["threads", "9"], "threads has tasks 1 to 6, not task 9"),
    ("loop.watch", ["thread", "--no-clear"], "no topic 'thread'"),
    ("views.reports", ["summary", "/nonexistent/results.json"], "cannot read /nonexistent/results.json"),
    ("core.mutants", ["thread"], "no topic 'thread'"),
])
def test_a_mistyped_argument_is_one_line_with_the_choices(program, args, says):
    done = subprocess.run([sys.executable, "-m", f"graders.harness.{program}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_topic_may_be_named_by_slug_folder_or_number():
    from graders.harness.core import curriculum

    assert curriculum.topic("sql-queries") is not None
    assert curriculum.topic("sql_queries").slug == curriculum.topic("3").slug == "sql-queries"
