"""The student loop as a student meets it: `watch` in a real terminal (a pseudo-terminal: keys without Enter,
saves, Ctrl-C), `hint`, `progress` with the dates of results, `reset`, and the choice of language.

The watch tests run on a small course of three topics written here (alpha, beta, gamma: a function or two
each, graded in a worker like every topic), in a git repository of its own, so that each check takes a
moment and the course's own topics can change without touching these tests. Waits for what must appear are
generous (the machine may be busy); no assertion rests on how long something took.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from graders.harness.core import curriculum
from graders.harness.core.results import TaskResult, TopicResult, load_progress, save_progress

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = curriculum.ROOT
CJK = re.compile(r"[\u4e00-\u9fff]")
CLEAR = "\x1b[2J\x1b[H"
WAIT = 180  # seconds to wait for what must appear: a check on a saturated 2-core machine can take a while
POSIX_TERMINAL = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX (Windows keys: msvcrt)")

# -- a small course -----------------------------------------------------------------------------------------------

MINI_CURRICULUM = '''
[[topic]]
slug = "alpha"
title.en = "alpha: rectangles"
title.zh = "alpha：长方形"

[[topic.task]]
title.en = "the area of a rectangle"
title.zh = "长方形的面积"
points = 1
hint.en = ["alpha one: look at the outline's section on multiplication.", "alpha one: return w * h."]
hint.zh = ["alpha 一：看看大纲里关于乘法的部分。", "alpha 一：返回 w * h。"]

[[topic.task]]
title.en = "the perimeter of a rectangle"
title.zh = "长方形的周长"
points = 2
hint.en = ["alpha two: every side counts.", "alpha two: return 2 * (w + h)."]
hint.zh = ["alpha 二：每条边都要算上。", "alpha 二：返回 2 * (w + h)。"]

[[topic]]
slug = "beta"
title.en = "beta: words"
title.zh = "beta：单词"

[[topic.task]]
title.en = "shout a word"
title.zh = "大声说出一个单词"
points = 1
hint.en = ["beta one: strings have methods.", "beta one: return word.upper() + '!'."]
hint.zh = ["beta 一：字符串有方法。", "beta 一：返回 word.upper() + '!'。"]

[[topic]]
slug = "gamma"
title.en = "gamma: numbers"
title.zh = "gamma：数字"

[[topic.task]]
title.en = "double a number"
title.zh = "把一个数翻倍"
points = 1
hint.en = ["gamma one: twice as much.", "gamma one: return n * 2."]
hint.zh = ["gamma 一：两倍。", "gamma 一：返回 n * 2。"]
'''

# topic: (module, {function: (stub body, solution body, probe arguments, expected)}), in task order
MINI_TOPICS = {
    "alpha": ("shapes", {"area": ("w, h", "w * h", (2, 3), 6), "perimeter": ("w, h", "2 * (w + h)", (2, 3), 10)}),
    "beta": ("words", {"shout": ("word", "word.upper() + '!'", ("hey",), "HEY!")}),
    "gamma": ("twice", {"double": ("n", "n * 2", (21,), 42)}),
}

# A check of gamma that waits, while $LOOP_GATE is set, until the test lets it go: a check that is
# certainly still running when the test presses q or Ctrl-C.
GATE = '''
def _gate():
    gate = os.environ.get("LOOP_GATE")
    if gate:
        Path(gate + ".started").write_text(str(os.getpid()))
        deadline = time.monotonic() + 600
        while not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
'''


def stub(topic: str) -> str:
    _, functions = MINI_TOPICS[topic]
    return "".join(f"def {name}({args}):\n    # TODO(task {number}): {topic}\n    raise NotImplementedError\n\n\n"
                   for number, (name, (args, _, _, _)) in enumerate(functions.items(), start=1))


def solution(topic: str) -> str:
    _, functions = MINI_TOPICS[topic]
    return "".join(f"def {name}({args}):\n    return {body}\n\n\n" for name, (args, body, _, _) in functions.items())


def write_mini_course(root: Path) -> None:
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, root / name)
    (root / "curriculum.toml").write_text(MINI_CURRICULUM, encoding="utf-8")
    shutil.copytree(ROOT / "graders" / "harness", root / "graders" / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "graders" / "__init__.py", root / "graders" / "__init__.py")
    workflow = Path(".github/workflows/classroom.yml")
    (root / workflow).parent.mkdir(parents=True)
    shutil.copy(ROOT / workflow, root / workflow)
    (root / ".gitignore").write_text(".results/\n__pycache__/\n")
    for topic, (module, functions) in MINI_TOPICS.items():
        for tree, text in (("exercises", stub(topic)), ("solutions", solution(topic))):
            (root / tree / topic).mkdir(parents=True)
            (root / tree / topic / f"{module}.py").write_text(text)
        (root / "exercises" / topic / "README.md").write_text(f"# {topic}\n")
        graders = root / "graders" / topic
        graders.mkdir()
        (graders / "__init__.py").write_text("")
        (graders / "probes.py").write_text(
            "from graders.harness.core.probing import student_module\n\n\n"
            "def call(name, *args):\n"
            f"    return getattr(student_module({module!r}), name)(*args)\n"
        )
        tests = ["import os\nimport time\nfrom pathlib import Path\n\nimport pytest\n\n"
                 f"from graders.{topic} import probes\n", GATE]
        for number, (name, (_, _, args, expected)) in enumerate(functions.items(), start=1):
            call = f"{name}({', '.join(map(repr, args))})"
            tests.append(
                f"\n\n@pytest.mark.task({number})\ndef test_{name}(student):\n    _gate()\n"
                f"    got = student.run(probes.call, {name!r}, *{args!r})\n"
                f"    expected = {expected!r}\n"
                f"    assert got == expected, f\"{call} returned {{got!r}}; expected {{expected!r}}\"\n"
            )
        (graders / f"test_{topic}.py").write_text("".join(tests))


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=course", "-c", "user.email=course@example.invalid",
                    *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """The small course, committed: its stubs are what `r` and `nox -s reset` put back."""
    root = tmp_path / "mini"
    root.mkdir()
    write_mini_course(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the course")
    return root


def environment(course: Path, lang: str = "en", **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    return {**env, "PYTHONPATH": str(course), "COURSE_LANG": lang, "NO_COLOR": "1", **extra}


def run(course: Path, *args: str, lang: str = "en") -> str:
    done = subprocess.run([sys.executable, *args], cwd=course, env=environment(course, lang), capture_output=True,
                          text=True, timeout=WAIT)
    return done.stdout + done.stderr


def flat(text: str) -> str:
    """Output with its lines joined: texts are wrapped at the terminal's width."""
    return " ".join(text.split())


def check(course: Path, topic: str) -> str:
    return run(course, "-m", "pytest", f"graders/{topic}", "--timeout-scale=0.3")


# -- a terminal -------------------------------------------------------------------------------------------------


class Terminal:
    """A program in a pseudo-terminal of 120 columns that is its controlling terminal (so Ctrl-C is a signal),
    and what it has written, as a person would read it: the screen is what came after the last clear."""

    def __init__(self, course: Path, *args: str, lang: str = "en", **env: str) -> None:
        import fcntl
        import struct
        import termios

        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
        self.cooked = termios.tcgetattr(self.slave)
        # Started in a session of its own whose controlling terminal is this one, as a shell would start it.
        adopt = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                 "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
        command = [sys.executable, "-c", adopt, "-m", "graders.harness.loop.watch", *args, "--timeout-scale=0.3"]
        self.process = subprocess.Popen(command, cwd=course, env=environment(course, lang, **env), stdin=self.slave,
                                        stdout=self.slave, stderr=self.slave, start_new_session=True)
        self.output = ""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.output += data.decode(errors="replace").replace("\r\n", "\n")

    @property
    def screen(self) -> str:
        with self.lock:
            return self.output.rpartition(CLEAR)[2]

    @property
    def checks(self) -> int:
        with self.lock:
            return self.output.count(CLEAR)

    def wait_for(self, pattern: str, checks: int | None = None, count: int = 1, timeout: float = WAIT) -> re.Match:
        """Wait until the screen shows `pattern` (`count` times; after at least `checks` checks began, when
        given): the last match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if checks is None or self.checks >= checks:
                found = list(re.finditer(pattern, self.screen, re.MULTILINE))
                if len(found) >= count:
                    return found[-1]
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"the screen never showed {pattern!r}" + (f" after check {checks}" if checks else "")
                             + f"; it shows (check {self.checks}):\n{self.screen}\nall output:\n{self.output}")

    def idle(self, checks: int | None = None) -> str:
        """Wait for a check to end in the key legend (watch is waiting for a save or a key); the screen."""
        self.wait_for(r"^keys: h hint · l list · n next topic · r reset a file · q quit$", checks)
        return self.screen

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def exit_code(self, timeout: float = WAIT) -> int:
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code

    def lflags(self) -> int:
        import termios

        return termios.tcgetattr(self.slave)[3]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for fd in (self.master, self.slave):
            os.close(fd)


@pytest.fixture
def terminals():
    opened: list[Terminal] = []

    def start(course: Path, *args: str, **env: str) -> Terminal:
        opened.append(Terminal(course, *args, **env))
        return opened[-1]

    yield start
    for terminal in opened:
        terminal.close()


def save(path: Path, text: str) -> None:
    """Save as many editors do: a new file renamed over the old one, so a check never sees half of it."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text)
    os.replace(staging, path)


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


# -- watch in a terminal ----------------------------------------------------------------------------------------


@POSIX_TERMINAL
def test_watch_answers_keys_without_enter_and_checks_again_on_a_save(mini: Path, terminals):
    import termios

    shapes = mini / "exercises" / "alpha" / "shapes.py"
    terminal = terminals(mini)  # no topic named and nothing checked yet: the first topic of the course
    screen = terminal.idle(checks=1)
    assert "alpha: alpha: rectangles" in screen and "watching exercises/alpha/" in screen, screen
    assert "✗ task 1  the area of a rectangle" in screen and "✗ task 2" in screen, screen
    assert not terminal.lflags() & (termios.ICANON | termios.ECHO), "keys need no Enter and are not echoed"

    terminal.press("h")  # the first failing task's hint, one level deeper at each press
    terminal.wait_for(r"^alpha · task 1: the area of a rectangle\nhint 1 of 2: alpha one: look at the outline's")
    assert "(press h again for more)" in terminal.screen
    terminal.press("h")
    terminal.wait_for(r"^hint 2 of 2: alpha one: return w \* h\.\n\(that is the last hint for this task\)")

    terminal.press("l")  # the course: every topic with its score, and the date of alpha's check
    terminal.wait_for(r"^  ✗ alpha\s+0/3\s+░+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+2 tasks to go$")
    terminal.wait_for(r"^  · beta\s+not checked yet$")
    terminal.wait_for(r"^score 0/5 · topics complete: 0 of 3\nkeys: ")

    terminal.press("r")  # nothing differs from the stub yet
    terminal.wait_for(r"every file of exercises/alpha/ is as the stub \(as committed in git\): nothing to reset")

    save(shapes, solution("alpha").replace("2 * (w + h)", "w + h"))  # area right, perimeter wrong
    screen = terminal.idle(checks=2)
    assert "✓ task 1  the area of a rectangle" in screen and "✗ task 2" in screen, screen
    assert "perimeter(2, 3) returned 5; expected 10" in screen, screen

    terminal.press("h")  # the hint follows the first task that fails now
    terminal.wait_for(r"^alpha · task 2: the perimeter of a rectangle\nhint 1 of 2: alpha two: every side counts")

    terminal.press("r")
    terminal.wait_for(r"reset which file of exercises/alpha/ to the stub \(as committed in git\)\? 1 shapes\.py · "
                      r"a all ·\s+another key cancels")
    terminal.press("x")
    terminal.wait_for(r"^nothing reset\nkeys: ")
    assert "w + h" in shapes.read_text()
    terminal.press("r")
    terminal.wait_for(r"another key cancels$", count=2)
    terminal.press("1")
    screen = terminal.idle(checks=3)  # the stub is back, and checked again
    found = re.search(r"^exercises/alpha/shapes\.py is the stub again \(as committed in git\); yours is kept in\s+"
                      r"(exercises/alpha/shapes\.py\.bak-\d{8}-\d{6})$", screen, re.MULTILINE)
    assert found, screen
    assert (mini / found[1]).read_text() == solution("alpha").replace("2 * (w + h)", "w + h")
    assert shapes.read_text() == stub("alpha")
    assert "✗ task 1" in screen, screen

    terminal.press("n")  # the next topic in course order
    screen = terminal.idle(checks=4)
    assert "beta: beta: words" in screen and "watching exercises/beta/" in screen, screen

    terminal.press("q")
    assert terminal.exit_code() == 0
    assert terminal.lflags() & termios.ICANON and terminal.lflags() & termios.ECHO, "the terminal was not restored"
    assert terminal.checks == 4, f"{terminal.checks} checks for 1 start, 1 save, 1 reset and 1 next topic"


@POSIX_TERMINAL
def test_a_complete_topic_stays_on_screen_then_the_next_in_course_order_follows(mini: Path, terminals):
    words = mini / "exercises" / "beta" / "words.py"
    terminal = terminals(mini, "beta", "--pause", "600")  # alpha, before beta, is not done: beta goes to gamma
    terminal.idle(checks=1)
    save(words, solution("beta"))
    terminal.wait_for(r"^beta is complete! next: gamma \(gamma: numbers\)\n"
                      r"press a key to go on now \(q quits\), or wait 600 s$", checks=2)
    assert "✓ task 1  shout a word" in terminal.screen
    assert terminal.checks == 2  # it stays until a key
    terminal.press(" ")
    screen = terminal.idle(checks=3)
    assert "gamma: gamma: numbers" in screen and "watching exercises/gamma/" in screen, screen
    terminal.press("q")
    assert terminal.exit_code() == 0

    # by itself after a few seconds; gamma, the last topic, goes on to the first one not complete: alpha
    (mini / "exercises" / "gamma" / "twice.py").write_text(solution("gamma"))
    terminal = terminals(mini, "gamma", "--pause", "1")
    terminal.wait_for(r"^gamma is complete! next: alpha \(alpha: rectangles\)$", checks=1)
    screen = terminal.idle(checks=2)
    assert "alpha: alpha: rectangles" in screen, screen
    terminal.press("q")
    assert terminal.exit_code() == 0


@POSIX_TERMINAL
@pytest.mark.parametrize("key", ["q", "\x03"], ids=["q", "ctrl-c"])
def test_quitting_during_a_check_stops_it_quietly_and_gives_the_terminal_back(mini: Path, terminals, key: str,
                                                                                tmp_path: Path):
    import termios

    gate = tmp_path / "gate"
    terminal = terminals(mini, "gamma", LOOP_GATE=str(gate))
    started = Path(f"{gate}.started")
    wait_until(started.exists, "the check to start")
    pid = int(started.read_text())
    terminal.press(key)
    assert terminal.exit_code() == 0
    assert "Traceback" not in terminal.output and "KeyboardInterrupt" not in terminal.output, terminal.output
    assert terminal.lflags() & termios.ICANON and terminal.lflags() & termios.ECHO, "the terminal was not restored"
    assert not Path(f"/proc/{pid}").exists() or sys.platform != "linux", "the check was left running"
    if sys.platform != "linux":
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@POSIX_TERMINAL
def test_watch_speaks_chinese_with_its_keys(mini: Path, terminals):
    terminal = terminals(mini, "alpha", COURSE_LANG="zh")
    terminal.wait_for(r"^按键：h 提示 · l 列表 · n 下一个主题 · r 恢复文件 · q 退出$", checks=1)
    assert "正在监视 exercises/alpha/" in terminal.screen
    terminal.press("h")
    terminal.wait_for(r"^alpha · 任务 1: 长方形的面积\n提示 1/2: alpha 一：看看大纲里关于乘法的部分。\n"
                      r"（再按 h 可以看到更多提示）")
    terminal.press("q")
    assert terminal.exit_code() == 0


def test_watch_runs_a_topic_of_the_course_without_a_terminal(tmp_path: Path):
    """The real threads topic once, as `nox -s watch -- threads` prints it where there are no keys to read (a
    copy of the stub, given with --impl, so that no progress is saved in the course)."""
    shutil.copytree(ROOT / "exercises" / "threads", tmp_path / "threads", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "graders.harness.loop.watch", "threads", "--runs", "1",
                           "--no-clear", "--impl", str(tmp_path), "--timeout-scale=0.3"],
                          cwd=ROOT, env=environment(ROOT), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"✗ task 1  {curriculum.topic('threads').task(1).title.en}" in done.stdout, done.stdout
    assert "keys:" not in done.stdout  # no terminal, no keys


@pytest.mark.parametrize("polling", [False, True], ids=["file-events", "polling"])
def test_a_save_is_noticed_and_caches_and_backups_are_not(tmp_path: Path, polling: bool):
    from graders.harness.loop import watch

    if not polling:
        pytest.importorskip("watchfiles", reason="watchfiles is in the grading group; without it watch polls")
    folder = tmp_path / "exercises" / "alpha"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "shapes.py").write_text("# stub\n")
    noise = threading.Timer(0.3, lambda: [(folder / "__pycache__" / "shapes.cpython.pyc").write_bytes(b"x"),
                                          (folder / "shapes.py.bak-20260101-000000").write_text("old\n"),
                                          (folder / ".shapes.py.swp").write_text("vim\n")])
    noise.start()
    assert not watch.wait_for_change(folder, timeout=3, polling=polling), "a cache, backup or swap file is no save"
    saved = threading.Timer(0.3, lambda: (folder / "shapes.py").write_text("def area(w, h):\n    return w * h\n"))
    saved.start()
    assert watch.wait_for_change(folder, timeout=WAIT, polling=polling)


# -- hint, progress, reset ------------------------------------------------------------------------------------


def test_progress_shows_the_date_of_each_result_and_reads_progress_saved_before_dates(mini: Path):
    assert "start with alpha: rectangles" in run(mini, "-m", "graders.harness.loop.progress")
    check(mini, "alpha")
    saved = json.loads((mini / ".results" / "alpha.json").read_text())
    stamp = datetime.fromisoformat(saved["topics"][0]["tasks"][0]["checked"]).astimezone()
    shown = run(mini, "-m", "graders.harness.loop.progress")
    assert re.search(rf"✗ alpha\s+0/3\s+░+\s+{stamp:%Y-%m-%d %H:%M}\s+2 tasks to go", shown), shown
    assert re.search(r"· beta\s+not checked yet", shown) and "next: task 1 of alpha" in shown, shown

    for task in saved["topics"][0]["tasks"]:  # as saved before results had dates
        del task["checked"]
    (mini / ".results" / "alpha.json").write_text(json.dumps(saved))
    old = run(mini, "-m", "graders.harness.loop.progress")
    assert re.search(r"✗ alpha\s+0/3\s+░+\s+2 tasks to go", old) and "Traceback" not in old, old


def test_a_date_moves_only_with_a_real_result(tmp_path: Path):
    def result(status: str) -> TopicResult:
        task = TaskResult(topic="threads", task=1, title="t", points=0, max_points=1, status=status)
        return TopicResult(topic="threads", title="threads", graded="exercises/threads/", tasks=[task])

    monday = datetime(2026, 3, 2, 9, 30).astimezone()
    save_progress([result("failed")], tmp_path, now=monday)
    for status in ("error", "not-run"):
        save_progress([result(status)], tmp_path, now=monday + timedelta(days=1))
        assert load_progress(tmp_path)["threads"].checked == monday
    save_progress([result("passed")], tmp_path, now=monday + timedelta(days=2))
    assert load_progress(tmp_path)["threads"].checked == monday + timedelta(days=2)


def test_hint_without_arguments_hints_the_topic_checked_last(mini: Path):
    check(mini, "beta")
    check(mini, "alpha")
    assert run(mini, "-m", "graders.harness.loop.hints").startswith("alpha · task 1: the area of a rectangle\n")
    check(mini, "beta")
    assert "beta · task 1: shout a word\nhint 1 of 2: beta one: strings have methods." in run(
        mini, "-m", "graders.harness.loop.hints")
    (mini / "exercises" / "beta" / "words.py").write_text(solution("beta"))
    check(mini, "beta")  # the last one checked is complete: the next in course order that is not
    assert run(mini, "-m", "graders.harness.loop.hints").startswith("gamma · task 1: double a number\n")
    assert "alpha · 任务 2: 长方形的周长\n提示 1/2: alpha 二：每条边都要算上。" in run(
        mini, "-m", "graders.harness.loop.hints", "alpha", "2", lang="zh")


def test_reset_puts_the_stub_back_and_keeps_the_students_file(mini: Path):
    shapes = mini / "exercises" / "alpha" / "shapes.py"
    same = flat(run(mini, "-m", "graders.harness.loop.reset", "alpha"))
    assert "every file of exercises/alpha/ is as the stub (as committed in git): nothing to reset" in same, same
    shapes.write_text("def area(w, h):\n    return w * h  # mine\n")
    listed = flat(run(mini, "-m", "graders.harness.loop.reset", "alpha"))
    assert "files of exercises/alpha/ that differ from the stub (as committed in git): shapes.py" in listed, listed
    assert "`nox -s reset -- alpha FILE`, or all of them with `nox -s reset -- alpha all`" in listed, listed
    done = flat(run(mini, "-m", "graders.harness.loop.reset", "alpha", "shapes.py"))
    found = re.search(r"^exercises/alpha/shapes\.py is the stub again \(as committed in git\); yours is kept in "
                      r"(exercises/alpha/shapes\.py\.bak-\d{8}-\d{6})$", done)
    assert found and shapes.read_text() == stub("alpha"), done
    assert "# mine" in (mini / found[1]).read_text()
    again = flat(run(mini, "-m", "graders.harness.loop.reset", "alpha", "shapes.py"))
    assert again == "exercises/alpha/shapes.py is the stub already (as committed in git): nothing to reset", again
    assert len(list(shapes.parent.glob("shapes.py.bak-*"))) == 1, "a file that is the stub needs no backup"
    nothing = run(mini, "-m", "graders.harness.loop.reset", "alpha", "nosuch.py")
    assert "exercises/alpha/ has no stub file 'nosuch.py'; its files are README.md, shapes.py" in flat(nothing)
    assert "Traceback" not in nothing


def test_reset_in_an_exported_repository_uses_the_stubs_as_exported(mini: Path, tmp_path: Path):
    from graders.harness.teacher import export

    student = export.export(tmp_path / "student", root=mini)
    assert (student / ".stubs" / "alpha" / "shapes.py").read_text() == stub("alpha")
    shapes = student / "exercises" / "alpha" / "shapes.py"
    shapes.write_text("# committed by the student\n")
    done = flat(run(student, "-m", "graders.harness.loop.reset", "alpha", "all"))
    assert "exercises/alpha/shapes.py is the stub again (as exported); yours is kept in" in done, done
    assert shapes.read_text() == stub("alpha")


def test_progress_shows_every_topic_and_the_next_step(tmp_path: Path):
    course = real_course(tmp_path)
    before = run(course, "-m", "graders.harness.loop.progress")
    assert "start with threads" in before
    assert before.count("not available yet") == len(curriculum.topics()) - 1
    run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3")
    after = run(course, "-m", "graders.harness.loop.progress")
    threads = curriculum.topic("threads")
    assert re.search(rf"✗ threads\s+0/{threads.points}", after), after
    assert f"next: task 1 of threads ({threads.task(1).title.en})" in after


def real_course(tmp_path: Path) -> Path:
    """A copy of the course where only `threads` is available, with the stub untouched."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("curriculum.toml", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "graders", copy / "graders", ignore=shutil.ignore_patterns("__pycache__", "mutants"))
    for tree in ("exercises", "solutions"):
        shutil.copytree(ROOT / tree / "threads", copy / tree / "threads", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_hint_follows_the_first_failing_task_and_goes_deeper_when_asked_again(tmp_path: Path):
    course = real_course(tmp_path)
    exercises, solutions = course / "exercises" / "threads", course / "solutions" / "threads"
    (exercises / "basics.py").write_text((solutions / "basics.py").read_text())
    run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3")
    first = run(course, "-m", "graders.harness.loop.hints")
    task = curriculum.topic("threads").task(2)
    levels = len(task.hints)
    assert "threads · task 2" in first and f"hint 1 of {levels}: " in first, first
    assert " ".join(task.hints[0].en.split()[:5]) in " ".join(first.split()), first
    for _ in range(levels - 1):
        again = run(course, "-m", "graders.harness.loop.hints")
    if levels > 1:
        assert f"hint {levels} of {levels}: " in again and "last hint" in again, again
    named = run(course, "-m", "graders.harness.loop.hints", "threads", "3", lang="zh")
    assert "".join(curriculum.topic("threads").task(3).hint.zh.split()) in "".join(named.split()).replace(
        "threads·任务3:", ""), named


# -- languages, texts, arguments ----------------------------------------------------------------------------


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


def test_the_terminal_view_speaks_chinese_when_asked(tmp_path: Path):
    course = real_course(tmp_path)
    output = run(course, "-m", "pytest", "graders/threads", "--timeout-scale", "0.3", "--lang", "zh")
    assert "任务 1" in output and "提示：" in output and "得分 0/13" in output, output
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


def test_the_check_table_wraps_mixed_chinese_and_english_by_display_width(monkeypatch):
    from graders.harness.views.terminal import render_course, render_topic
    from graders.harness.views.text import width

    monkeypatch.setenv("COURSE_LANG", "zh")
    message = "`zhang_students` 返回了 0 行，应当是 5 行；" * 4 + "see `select id 学号, name 姓名 from student` " * 3
    hint = "看大纲「单表查询」里的「模糊查询」：like 的模式里有两个通配符 (wildcards)，查清楚它们各代表什么。" * 3
    task = TaskResult("sql-queries", 1, "模糊查询", 0, 2, "failed", message=message, hint=hint)
    result = TopicResult("sql-queries", "查询", "exercises/sql_queries/", [task])
    lines = render_topic(result, width=60).splitlines()
    assert all(width(line) <= 60 for line in lines), [line for line in lines if width(line) > 60]
    assert "通配符" in "".join(line.strip() for line in lines)
    bar_line = render_course({"sql-queries": result}).splitlines()
    row = next(line for line in bar_line if "sql-queries" in line)
    assert width("█░") == 2 and "░" * 16 in row


@pytest.mark.parametrize("program", ["progress", "hints"])
def test_a_reader_that_stops_early_gets_no_error(program: str) -> None:
    """`nox -s hint | head`: the pipe closes before the program is done writing."""
    read, write = os.pipe()
    os.close(read)
    try:
        run = subprocess.run([sys.executable, "-m", f"graders.harness.loop.{program}"], stdout=write,
                             stderr=subprocess.PIPE, cwd=ROOT, text=True, timeout=60)
    finally:
        os.close(write)
    assert (run.returncode, run.stderr) == (0, "")


def test_the_noxfile_loads_where_nox_has_no_pytest() -> None:
    """`pipx install nox` gives nox a Python of its own without pytest: the noxfile must load there, and every
    session that needs the harness runs it in the grading environment (services-down once crashed here)."""
    code = "import sys; sys.modules['pytest'] = None; import noxfile; print(len(noxfile.curriculum.topics()))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "19", run.stderr[-2000:]
    import ast

    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    harness = {name for name in imported if name and name.startswith("graders")}
    assert harness == {"graders.harness.core"}, f"the noxfile imports {harness}: run those in the environment"
