"""`nox -s watch [-- topic]`: check the topic again whenever one of its files is saved, and move on to the
next topic once every task passes.

Saves are noticed through inotify where the system has it; a check of the files' modification times every
second catches what inotify misses (network drives, editors that replace files in odd ways) and is all
there is elsewhere. A burst of saves is one rerun: the check waits until the files have been quiet for a
moment.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from graders.harness.core import cli, curriculum
from graders.harness.core.results import load_progress
from graders.harness.loop.progress import current_topic

QUIET = 0.15  # seconds without a save before the check runs
POLL = 1.0
CLEAR = "\x1b[2J\x1b[H"

WORDS = {
    "en": {"watching": "watching exercises/{dir}/ — save a file to check again, Ctrl-C to stop",
           "complete": "{slug} is complete! Moving on to {next}.", "all": "every available topic is complete!"},
    "zh": {"watching": "正在监视 exercises/{dir}/ —— 保存文件即可重新检查，按 Ctrl-C 退出",
           "complete": "{slug} 已全部完成！接下来是 {next}。", "all": "所有已开放的主题都完成了！"},
}


def snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    files = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            files[str(path)] = (stat.st_mtime, stat.st_size)
    return files


class Inotify:
    """A file descriptor that becomes readable when a file in the watched folder is written or replaced."""

    IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x8, 0x80, 0x100, 0x200

    def __init__(self, folder: Path) -> None:
        self.fd = -1
        name = ctypes.util.find_library("c")
        if not name or not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL(name, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        mask = self.IN_CLOSE_WRITE | self.IN_MOVED_TO | self.IN_CREATE | self.IN_DELETE
        if fd >= 0 and libc.inotify_add_watch(fd, str(folder).encode(), mask) >= 0:
            self.fd = fd
        elif fd >= 0:
            os.close(fd)

    def wait(self, timeout: float) -> bool:
        """True when an event arrived within `timeout` seconds (its details do not matter)."""
        if self.fd < 0:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            while True:
                try:
                    if not os.read(self.fd, 65536):
                        break
                except BlockingIOError:
                    break
        return bool(ready)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)


def wait_for_change(folder: Path, before: dict[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """Block until the files of `folder` differ from `before` and then stay quiet for QUIET seconds."""
    events = Inotify(folder)
    try:
        while True:
            events.wait(POLL)
            now = snapshot(folder)
            if now != before:
                while events.wait(QUIET) or snapshot(folder) != now:
                    now = snapshot(folder)
                return now
    finally:
        events.close()


def check(topic: curriculum.Topic, pytest_args: list[str]) -> None:
    command = [sys.executable, "-m", "pytest", f"graders/{topic.dir}", *pytest_args]
    subprocess.run(command, cwd=curriculum.ROOT, env={**os.environ, "FORCE_COLOR": os.environ.get("FORCE_COLOR", "")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", nargs="?", help="topic slug (default: the first topic not complete)")
    parser.add_argument("--runs", type=int, default=0, help="stop after this many checks (for tests)")
    parser.add_argument("--no-clear", action="store_true", help="do not clear the screen before each check")
    options, pytest_args = parser.parse_known_args(argv)
    words = WORDS[curriculum.language()]
    topic = curriculum.topic(options.topic) if options.topic else current_topic(load_progress())
    runs = 0
    try:
        while topic is not None:
            folder = curriculum.ROOT / "exercises" / topic.dir
            before = snapshot(folder)  # taken before the check, so a save during the check is not missed
            if not options.no_clear:
                print(CLEAR, end="")
            check(topic, pytest_args)
            runs += 1
            progress = load_progress()
            finished = topic.slug in progress and progress[topic.slug].complete
            if finished:
                following = current_topic(progress)
                print(words["complete"].format(slug=topic.slug, next=following.slug if following else "-"))
                topic = following
            else:
                print(words["watching"].format(dir=topic.dir), flush=True)
            if options.runs and runs >= options.runs:
                break
            if topic is None:
                print(words["all"])
            elif not finished:
                wait_for_change(folder, before)
    except KeyboardInterrupt:
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "watch"))
