"""`nox -s watch [-- topic]`: check a topic again on every save; keys for a hint, the course, the next topic,
a reset of a file and quitting.

Saves are noticed through watchfiles (inotify, FSEvents, ReadDirectoryChangesW) a fraction of a second after
they happen; where watchfiles is missing, by comparing the files' times and sizes four times a second. A
burst of saves is one check. Keys need no Enter: the terminal is put in cbreak mode on POSIX (and restored on
every exit, Ctrl-C included), msvcrt reads them on Windows. When every task of a topic passes, its result
stays on screen with the topic that comes next in course order, which starts after a key or a few seconds.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from graders.harness.core import cli, curriculum
from graders.harness.core.results import TopicResult, from_json, load_progress
from graders.harness.loop import hints, reset
from graders.harness.loop.progress import course_table, current_topic, topic_after
from graders.harness.views.terminal import use_colour
from graders.harness.views.text import wrapped

QUIET = 0.15  # seconds without a save before the check runs
POLL = 0.25  # seconds between two looks at the files, where watchfiles is missing
PAUSE = 5.0  # seconds a complete topic stays on screen before the next one starts
CLEAR = "\x1b[2J\x1b[H"
QUIT_KEYS = ("q", "\x03", "\x04")  # q, and Ctrl-C or Ctrl-D where the terminal hands them over as keys

WORDS = {
    "en": {
        "watching": "watching {folder} — save a file to check again",
        "watching-no-keys": "watching {folder} — save a file to check again, Ctrl-C to stop",
        "keys": "keys: h hint · l list · n next topic · r reset a file · q quit",
        "complete": "{slug} is complete! next: {next}",
        "go-on": "press a key to go on now (q quits), or wait {seconds:g} s",
        "all": "every available topic is complete!",
        "no-next": "every other available topic is complete: staying on {slug}",
        "ask": "reset which file of {folder} to the stub ({source})? {choices} · a all · another key cancels",
        "cancelled": "nothing reset",
        "again": "(press h again for more)",
        "unavailable": "{slug} is not available yet",
    },
    "zh": {
        "watching": "正在监视 {folder} —— 保存文件即可重新检查",
        "watching-no-keys": "正在监视 {folder} —— 保存文件即可重新检查，按 Ctrl-C 退出",
        "keys": "按键：h 提示 · l 列表 · n 下一个主题 · r 恢复文件 · q 退出",
        "complete": "{slug} 已全部完成！下一个：{next}",
        "go-on": "按任意键立即继续（q 退出），或等待 {seconds:g} 秒",
        "all": "所有已开放的主题都完成了！",
        "no-next": "其他已开放的主题都已完成，继续留在 {slug}",
        "ask": "把 {folder} 的哪个文件恢复为初始代码（{source}）？{choices} · a 全部 · 按其他键取消",
        "cancelled": "没有恢复任何文件",
        "again": "（再按 h 可以看到更多提示）",
        "unavailable": "{slug} 尚未开放",
    },
}


def words() -> dict[str, str]:
    return WORDS[curriculum.language()]


# -- saves ------------------------------------------------------------------------------------------------------

IGNORED_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".swo", ".swx", ".tmp", ".bak")


def ignored(path: Path, folder: Path) -> bool:
    """Files no student saves: caches, editors' swap and lock files, the backups a reset leaves. (File events
    may name the folder by its real path, e.g. /private/var/... on macOS for /var/...)"""
    for base in (folder, folder.resolve()):
        with contextlib.suppress(ValueError):
            parts = path.relative_to(base).parts
            break
    else:
        parts = (path.name,)
    if any(part == "__pycache__" or part.startswith(".") for part in parts):
        return True
    name = parts[-1] if parts else ""
    return name.endswith(IGNORED_SUFFIXES) or name.startswith("#") or reset.BACKUP in name or name == "4913"


def snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    files = {}
    if folder.is_dir():
        for path in folder.rglob("*"):
            if not ignored(path, folder) and path.is_file():
                with contextlib.suppress(OSError):  # removed while we looked
                    stat = path.stat()
                    files[str(path)] = (stat.st_mtime, stat.st_size)
    return files


class FileWatcher:
    """Puts ("change", folder) on `events` once a burst of saves in `folder` has ended."""

    def __init__(self, folder: Path, events: queue.Queue, polling: bool = False) -> None:
        self.folder = folder
        self.events = events
        self.polling = polling
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="watch-files", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if not self.polling:
            try:
                import watchfiles
            except ImportError:
                watchfiles = None
            if watchfiles is not None and self.folder.is_dir():
                try:
                    for _ in watchfiles.watch(self.folder, watch_filter=self._interesting, stop_event=self.stopping,
                                              debounce=1000, step=int(QUIET * 1000), raise_interrupt=False):
                        self.events.put(("change", self.folder))
                    return
                except (OSError, RuntimeError):  # no file events here (a limit, a file system): look instead
                    pass
        self._poll()

    def _interesting(self, _change: object, path: str) -> bool:
        return not ignored(Path(path), self.folder)

    def _poll(self) -> None:
        before = snapshot(self.folder)
        while not self.stopping.wait(POLL):
            now = snapshot(self.folder)
            if now == before:
                continue
            while not self.stopping.wait(QUIET):
                later = snapshot(self.folder)
                if later == now:
                    break
                now = later
            before = now
            self.events.put(("change", self.folder))

    def stop(self) -> None:
        self.stopping.set()


def wait_for_change(folder: Path, timeout: float | None = None, polling: bool = False) -> bool:
    """Block until a burst of saves in `folder` has ended (True), or `timeout` seconds have passed (False)."""
    events: queue.Queue = queue.Queue()
    watcher = FileWatcher(folder, events, polling=polling)
    try:
        events.get(timeout=timeout)
        return True
    except queue.Empty:
        return False
    finally:
        watcher.stop()


# -- keys -------------------------------------------------------------------------------------------------------


class Keys:
    """Single key presses, without Enter, put on `events` as ("key", character) by a thread of their own."""

    def __init__(self, events: queue.Queue) -> None:
        self.events = events
        self.stopping = threading.Event()
        self.saved: list | None = None
        self.active = False
        self.fd = -1

    def start(self) -> bool:
        """True when keys can be read: standard input is a terminal."""
        if os.name == "nt":
            if not sys.stdin or not sys.stdin.isatty():
                return False
            target = self._windows
        else:
            try:
                self.fd = sys.stdin.fileno()
            except (AttributeError, ValueError, OSError):
                return False
            if not os.isatty(self.fd):
                return False
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)  # no Enter needed, no echo; Ctrl-C still interrupts
            target = self._posix
        self.active = True
        threading.Thread(target=target, name="watch-keys", daemon=True).start()
        return True

    def _posix(self) -> None:
        import select

        while not self.stopping.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                data = os.read(self.fd, 64) if ready else None
            except OSError:
                return
            if data == b"":
                return  # the terminal is gone
            for char in (data or b"").decode(errors="ignore"):
                self.events.put(("key", char))

    def _windows(self) -> None:
        import msvcrt

        while not self.stopping.is_set():
            if not msvcrt.kbhit():
                time.sleep(0.05)
                continue
            char = msvcrt.getwch()
            if char in ("\x00", "\xe0"):  # an arrow or function key: its second half says which
                msvcrt.getwch()
                continue
            self.events.put(("key", char))

    def stop(self) -> None:
        """Stop reading and give the terminal back as it was."""
        self.stopping.set()
        if self.saved is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            self.saved = None


# -- the loop ---------------------------------------------------------------------------------------------------


class Quit(Exception):
    """The student pressed q."""


class Watch:
    def __init__(self, topic: curriculum.Topic, impl: str | None, pytest_args: list[str], clear: bool,
                 pause: float, runs: int, polling: bool) -> None:
        self.topic = topic
        self.impl = impl
        self.pytest_args = pytest_args
        self.clear = clear
        self.pause = pause
        self.runs = runs
        self.polling = polling
        self.events: queue.Queue = queue.Queue()
        self.pending: list[tuple[str, object]] = []
        self.keys = Keys(self.events)
        self.watcher: FileWatcher | None = None
        self.results: dict[str, TopicResult] = {}
        self.notices: list[str] = []
        self.checks = 0
        self.scratch = Path(tempfile.mkdtemp(prefix="course-watch-"))

    # where things are

    @property
    def base(self) -> Path:
        base = Path(self.impl or os.environ.get("GRADE_IMPL") or "exercises")
        return base if base.is_absolute() else curriculum.ROOT / base

    @property
    def folder(self) -> Path:
        return self.base / self.topic.dir

    @property
    def own_work(self) -> bool:
        return self.base.resolve() == (curriculum.ROOT / "exercises").resolve()

    def progress(self) -> dict[str, TopicResult]:
        """Saved progress for the student's own exercises/ (the check has just saved its result there); for
        another folder (--impl), which saves none, this session's results."""
        return load_progress() if self.own_work else dict(self.results)

    def say(self, *lines: str) -> None:
        """Lines of ours, wrapped at the terminal's width (a Chinese character takes two columns)."""
        print(wrapped(*lines), flush=True)

    def legend(self) -> None:
        if self.keys.active:
            self.say(words()["keys"])

    # the parts

    def run(self) -> int:
        keys = self.keys.start()
        with contextlib.suppress(ValueError):  # not the main thread (tests call main() in threads)
            for name in ("SIGTERM", "SIGHUP"):
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), lambda signum, _frame: sys.exit(128 + signum))
        try:
            self.watch(self.topic)
            while True:
                result = self.check()
                if self.runs and self.checks >= self.runs:
                    return 0
                if result is not None and result.complete:
                    if not self.move_on():
                        return 0
                    continue
                self.say(words()["watching" if keys else "watching-no-keys"].format(folder=reset.shown(self.folder)
                                                                                   + "/"))
                self.legend()
                self.wait_for_action()
        except Quit:
            return 0
        except KeyboardInterrupt:
            self.keys.stop()
            print(flush=True)
            return 0
        finally:
            self.keys.stop()
            if self.watcher:
                self.watcher.stop()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def watch(self, topic: curriculum.Topic) -> None:
        if self.watcher:
            self.watcher.stop()
        self.topic = topic
        self.watcher = FileWatcher(self.folder, self.events, polling=self.polling)

    def check(self) -> TopicResult | None:
        """Grade the topic in a pytest of its own; its result, or None when it gave none.

        Its output comes through a pipe and is shown as it arrives (in colour and at this terminal's width when
        this is a terminal), so that a check stopped by q or Ctrl-C ends quietly, without pytest's lines about
        the interruption. On Ctrl-C the check stops its student code itself (it gets the same signal)."""
        self.forget_saves()  # this check reads the files as they are now
        if self.clear:
            print(CLEAR, end="", flush=True)
        results = self.scratch / "results.json"
        results.unlink(missing_ok=True)
        command = [sys.executable, "-m", "pytest", f"graders/{self.topic.dir}", "--results-json", str(results),
                   "--jobs", "auto"]
        if self.impl:
            command += ["--impl", str(self.impl)]
        colour = use_colour()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8",
               "COLUMNS": str(shutil.get_terminal_size((100, 24)).columns)}
        env.pop("FORCE_COLOR" if not colour else "NO_COLOR", None)
        env.update({"FORCE_COLOR": "1"} if colour else {"NO_COLOR": "1"})
        process = subprocess.Popen([*command, *self.pytest_args], cwd=curriculum.ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = Output(process.stdout)
        try:
            while process.poll() is None:
                try:
                    event = self.events.get(timeout=0.1)
                except queue.Empty:
                    continue
                if event[0] == "key" and str(event[1]).lower() in QUIT_KEYS:
                    raise Quit
                if event[0] == "key" or event not in self.pending:  # counted once the result has shown
                    self.pending.append(event)
        except KeyboardInterrupt:  # Ctrl-C: the check has had the signal too, and stops its student code
            output.mute()
            self.keys.stop()
            stop_check(process, interrupt=False)
            raise
        except BaseException:  # q, SIGTERM, SIGHUP
            output.mute()
            self.keys.stop()
            stop_check(process, interrupt=True)
            raise
        finally:
            output.join()
        self.checks += 1
        try:
            (result,) = from_json(results.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        stamp = datetime.now().astimezone().isoformat(timespec="milliseconds")
        for task in result.tasks:
            task.checked = stamp if task.status in ("passed", "failed") else None
        self.results[result.topic] = result
        if self.notices:
            self.say("", *self.notices)
            self.notices = []
        return result

    def forget_saves(self) -> None:
        """Drop the saves noticed so far (keeping keys): a check that starts now sees them all."""
        waiting = list(self.pending)
        with contextlib.suppress(queue.Empty):
            while True:
                waiting.append(self.events.get_nowait())
        self.pending = [event for event in waiting if event[0] != "change"]

    def next_event(self, timeout: float | None) -> tuple[str, object] | None:
        if self.pending:
            return self.pending.pop(0)
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_for_action(self) -> None:
        """Answer keys until a save asks for a check, or n has chosen the next topic to check."""
        while True:
            event = self.next_event(0.5)  # a timeout, so that Ctrl-C is noticed on every platform
            if event is None:
                continue
            kind, value = event
            if kind == "change":
                if value == self.folder:
                    return
                continue
            key = str(value).lower()
            if key in QUIT_KEYS:
                raise Quit
            if key == "n":
                following = topic_after(self.topic, self.progress())
                if following is not None:
                    self.watch(following)
                    return
                self.say("", words()["no-next"].format(slug=self.topic.slug))
                self.legend()
            elif key == "h":
                self.say("", hints.hint_text(self.topic, result=self.results.get(self.topic.slug),
                                             again=words()["again"]))
                self.legend()
            elif key == "l":
                print(f"\n{course_table(self.progress(), use_colour())}", flush=True)  # laid out already
                self.legend()
            elif key == "r":
                self.reset()
                self.legend()

    def wait_for_key(self, timeout: float | None, typed_ahead: bool = False) -> str | None:
        """The next key within `timeout` seconds (None: none came), or with `typed_ahead` one typed while a check
        ran; saves meanwhile are kept for later."""
        if typed_ahead:
            for event in self.pending:
                if event[0] == "key":
                    self.pending.remove(event)
                    return str(event[1])
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 0.5 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                kind, value = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if kind == "key":
                return str(value)
            self.pending.append((kind, value))

    def reset(self) -> None:
        """r: choose a file of the topic that differs from the stub, back it up and put the stub back."""
        try:
            stubs, source = reset.stub_files(self.topic)
        except reset.NoStub as error:
            self.say("", str(error))
            return
        changed = reset.changed_files(self.folder, stubs)
        where = reset.shown(self.folder) + "/"
        if not changed:
            self.say("", reset.words()["same"].format(folder=where, source=source))
            return
        choices = " · ".join(f"{number} {name}" for number, name in enumerate(changed[:9], start=1))
        self.say("", words()["ask"].format(folder=where, source=source, choices=choices))
        key = (self.wait_for_key(None, typed_ahead=True) or "").lower()
        if key in QUIT_KEYS[1:]:
            raise Quit
        if key == "a":
            names = changed
        elif key.isdigit() and 1 <= int(key) <= min(len(changed), 9):
            names = [changed[int(key) - 1]]
        else:
            self.say(words()["cancelled"])
            return
        lines = reset.reset(self.folder, names, stubs, source)
        self.say(*lines)
        self.notices.extend(lines)  # shown again under the check the new files start

    def move_on(self) -> bool:
        """A complete topic: show what comes next, wait for a key or a few seconds, then watch it. False when
        there is nothing left or the student quits."""
        following = topic_after(self.topic, self.progress())
        if following is None:
            self.say("", words()["all"])
            return False
        self.say("", words()["complete"].format(slug=self.topic.slug, next=f"{following.slug} ({following.title})"))
        if self.keys.active:
            self.say(words()["go-on"].format(seconds=self.pause))
            key = self.wait_for_key(self.pause)
            if key is not None and key.lower() in QUIT_KEYS:
                return False
        else:
            time.sleep(self.pause)
        self.watch(following)
        return True


def stop_check(process: subprocess.Popen, interrupt: bool) -> None:
    """End a check that is still running. It stops its student code itself on SIGINT, which it has already had
    when the student pressed Ctrl-C (`interrupt` False: a second one would cut its cleaning up short)."""
    if interrupt and process.poll() is None:
        with contextlib.suppress(OSError):
            if os.name == "nt":
                process.terminate()
            else:
                process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Output:
    """Copies a check's output to this process's standard output as it comes, until muted."""

    def __init__(self, pipe) -> None:
        self.pipe = pipe
        self.muted = False
        self.thread = threading.Thread(target=self._copy, name="watch-output", daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536):
            if not self.muted:
                sys.stdout.write(decoder.decode(chunk))
                sys.stdout.flush()
        self.pipe.close()

    def mute(self) -> None:
        self.muted = True

    def join(self) -> None:
        """Wait for the rest of the output; a process the check left behind holding the pipe is not waited for."""
        self.thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", nargs="?", help="topic slug, folder name or number (default: the one you are on)")
    parser.add_argument("--impl", help="grade this folder, laid out like exercises/ (default: exercises/); "
                                       "progress is saved only for exercises/")
    parser.add_argument("--pause", type=float, default=PAUSE, help="seconds a complete topic stays on screen")
    parser.add_argument("--runs", type=int, default=0, help="stop after this many checks (for tests)")
    parser.add_argument("--no-clear", action="store_true", help="do not clear the screen before each check")
    parser.add_argument("--polling", action="store_true", help="look at the files instead of file events")
    options, pytest_args = parser.parse_known_args(argv)
    topic = curriculum.topic(options.topic) if options.topic else current_topic(load_progress())
    if topic is None:
        print(words()["all"])
        return 0
    if not topic.available:
        raise curriculum.NotInCourse(words()["unavailable"].format(slug=topic.slug))
    watch = Watch(topic, options.impl, pytest_args, clear=not options.no_clear, pause=options.pause,
                  runs=options.runs, polling=options.polling)
    return watch.run()


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "watch"))
