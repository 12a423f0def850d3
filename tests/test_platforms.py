"""What can be tested here of the other platforms: the harness without POSIX-only modules, over the TCP
transport and the stack-dump timer that Windows uses, and the language and console fallbacks.

The GitHub Actions matrix (.github/workflows/course.yml) runs the self-check on macOS and Windows for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graders.harness.core import curriculum
from graders.harness.core.results import from_json

ROOT = curriculum.ROOT
POSIX_ONLY = ("pwd", "grp", "fcntl", "resource", "termios")


def grade_without_posix(tmp_path: Path, impl: str, *args: str, env: dict | None = None):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in POSIX_ONLY)
    )
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "graders/threads", "--impl", impl, "--results-json", str(results), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(blocker), "GRADE_WORKER_TRANSPORT": "tcp",
             "GRADE_STACK_DUMP": "timer", "COURSE_LANG": "en", "NO_COLOR": "1", **(env or {})},
    )
    assert results.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    (topic,) = from_json(results.read_text())
    return topic, run


def test_a_check_runs_without_posix_only_modules_over_tcp(tmp_path):
    topic, run = grade_without_posix(tmp_path, "solutions")
    assert topic.points == topic.max_points, run.stdout[-3000:]


def test_a_timeout_says_where_with_the_timer_dump(tmp_path):
    impl = tmp_path / "submission" / "threads"
    impl.parent.mkdir()
    subprocess.run(["cp", "-r", str(ROOT / "solutions" / "threads"), str(impl)], check=True)
    counter = impl / "counter.py"
    counter.write_text(counter.read_text().replace("        with self._lock:\n",
                                                   "        while True:\n            pass\n        with self._lock:\n"))
    topic, _run = grade_without_posix(tmp_path, str(impl.parent), "-k", "counter", "--timeout-scale", "0.3")
    message = topic.tasks[1].message
    assert "timed out" in message and "counter.py" in message and "while True" in message, message


def test_the_language_falls_back_to_the_systems(monkeypatch):
    for variable in ("COURSE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(curriculum, "system_locale", lambda: "zh_CN")
    assert curriculum.language() == "zh"
    monkeypatch.setattr(curriculum, "system_locale", lambda: "")
    assert curriculum.language() == "en"
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert curriculum.language() == "zh"


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_a_narrow_console_gets_replacement_characters_not_a_crash(tmp_path, encoding):
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "graders/threads", "--impl", "solutions", "--results-json", str(results)],
        cwd=ROOT, capture_output=True, timeout=300,
        env={**os.environ, "PYTHONIOENCODING": encoding, "COURSE_LANG": "zh", "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout.decode(encoding, errors="replace")[-3000:]
    assert "8/8" in run.stdout.decode(encoding, errors="replace")
