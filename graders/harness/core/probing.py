"""What a probe uses inside the worker process, next to the student's code.

A probe is a plain function in `graders/<topic>/probes.py`. The grader names it in `student.run(...)`; the
worker imports and calls it, and sends back what it returns (plain, picklable data). Probes load the
student's modules with `student_module`, start servers with `in_background`, and count what they can
observe (`thread_count`, `open_fd_count`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.harness.core.curriculum import say

_layers: tuple[Path, ...] = ()
_thread_errors: list[dict] = []


class StudentMistake(Exception):
    """Raised by a probe with a message for the student (a missing function, a wrong return type...)."""


def configure(layers: tuple[Path, ...]) -> None:
    """Make the student's folders importable, the first layer winning over the later ones."""
    global _layers
    _layers = tuple(path.resolve() for path in layers)
    sys.path[:0] = [str(path) for path in _layers]


def is_student_file(filename: str) -> bool:
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    return any(path.is_relative_to(layer) for layer in _layers)


class StudentModule:
    """A student's module whose missing names are reported as the student's mistake, not a grader crash."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            file = display_path(self._module.__file__ or self._module.__name__)
            raise StudentMistake(
                say(f"{file} defines no `{name}`: the stub has it; was it renamed or deleted?",
                    f"{file} 里没有定义 `{name}`：练习文件里本来有它，是被改名或删掉了吗？")
            ) from None


def refuse_if_hung(name: str) -> None:
    """A StudentMistake if importing the student's module `name` never finished in an earlier test."""
    hung = json.loads(os.environ.get("GRADE_IMPORT_HANGS") or "{}").get(name)
    if hung:
        raise StudentMistake(
            say(f"importing {name}.py never finished in an earlier check (stuck at {hung}): code at the top level "
                "of a module runs on import; put it inside a function",
                f"在之前的检查中导入 {name}.py 一直没有结束（卡在 {hung}）：模块顶层的代码在导入时就会运行，"
                "请把它放进函数里")
        )


class KnownHangs:
    """Refuses, at once, any import of a student's module whose import never finished in an earlier test,
    also where it is imported by another of the student's modules (`from pipeline import ...`) or in a child
    process: without it, each such import waits out a call's whole timeout again. (A finder on sys.meta_path
    needs only find_spec; importlib.abc costs every worker 0.03 s to import.)"""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if "." not in name:
            refuse_if_hung(name)


def student_module(name: str) -> StudentModule:
    """Import the student's module `name` (e.g. "counter") from the graded folder."""
    if not any((layer / f"{name}.py").is_file() or (layer / name).is_dir() for layer in _layers):
        missing = display_path(_layers[-1] / f"{name}.py")
        raise StudentMistake(say(f"{missing} is missing", f"找不到 {missing}"))
    refuse_if_hung(name)
    marker = os.environ.get("GRADE_IMPORT_MARKER")
    if name in sys.modules or not marker:
        return StudentModule(importlib.import_module(name))
    with contextlib.suppress(OSError):  # the grader sees the import begin, and stops one that does not end
        Path(marker).write_text(name)
    try:
        return StudentModule(importlib.import_module(name))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)


def in_background(target: Any, *args: Any, name: str = "student-server") -> threading.Thread:
    """Run `target(*args)` in a daemon thread, e.g. a server loop that the grader then drives."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


class Gate:
    """Holds the first calls until `width` of them run at once, or until `patience` runs out.

    Code that really runs `width` calls at once (a pool of `width` threads, `width` consumers) reaches the
    width at once, every time; code that runs them one by one is seen to after one short wait (later calls
    no longer wait). Forcing the peak this way makes "peak in flight" deterministic.

    With `quiet`, the calls also stop waiting once the code that could still come has stopped running:
    nobody called `progress()` for `quiet` s. Where correct code cannot reach the width (a lock held by the
    call that waits here keeps the others out), it then goes on at once instead of waiting out `patience`.
    """

    def __init__(self, width: int, patience: float, quiet: float | None = None) -> None:
        self.width = width
        self.patience = patience
        self.quiet = quiet
        self.active = 0
        self.peak = 0
        self.broken = False
        self.steps = 0  # progress() calls; a lost update between threads does no harm: only a change is read
        self._condition = threading.Condition()

    def progress(self) -> None:
        self.steps += 1

    def __enter__(self) -> None:
        with self._condition:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self._condition.notify_all()
            deadline = time.monotonic() + self.patience
            steps, still_since = self.steps, time.monotonic()
            look = self.patience if self.quiet is None else self.quiet / 5  # how often to look for progress
            while self.peak < self.width and not self.broken:
                now = time.monotonic()
                if self.steps != steps:
                    steps, still_since = self.steps, now
                if now >= deadline or (self.quiet is not None and now - still_since >= self.quiet):
                    self.broken = True
                    self._condition.notify_all()
                    break
                self._condition.wait(min(deadline - now, look))

    def __exit__(self, *_exc: object) -> None:
        with self._condition:
            self.active -= 1


class Call:
    """The student's function running in a thread of its own, so that a probe can stop waiting for it.

    Not a daemon thread: a thread inherits that flag from the thread that starts it, and the threads the
    student's code starts here must be ordinary threads, as in their own program. A call that hangs does not
    hold up anything: the worker is killed at the end of every test.
    """

    def __init__(self, function: Callable, *args: Any) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        thread = threading.Thread(target=self._run, args=(function, args), name="grader-call")
        thread.start()
        self.ident = thread.ident

    def _run(self, function: Callable, args: tuple) -> None:
        try:
            self.value = function(*args)
        except BaseException as error:  # handed back to the probe, which raises it for the harness to describe
            self.error = error
        finally:
            self._done.set()

    def wait(self, timeout: float) -> bool:
        """True if the call ended within `timeout`; an exception it raised is raised here."""
        if not self._done.wait(timeout):
            return False
        if self.error is not None:
            raise self.error
        return True

    def wait_after(self, event: threading.Event, limit: float, grace: float) -> bool:
        """Wait until the call ends or `event` is set (at most `limit`), then at most `grace` more."""
        deadline = time.monotonic() + limit
        while not self._done.is_set() and not event.is_set() and time.monotonic() < deadline:
            self._done.wait(0.05)  # seldom: the waiting thread's CPU counts in idle measurements
        return self.wait(grace if event.is_set() else 0)


def thread_count() -> int:
    """Threads of this process as the kernel counts them (also those not started through `threading`)."""
    if os.path.isdir("/proc/self/task"):
        return len(os.listdir("/proc/self/task"))
    import psutil

    return psutil.Process().num_threads()


def open_fd_count() -> int:
    """Open files and sockets of this process (handles on Windows)."""
    if os.path.isdir("/proc/self/fd"):
        return len(os.listdir("/proc/self/fd"))
    import psutil

    process = psutil.Process()
    return process.num_handles() if os.name == "nt" else process.num_fds()


def display_path(filename: str | Path) -> str:
    """A path as the student knows it: relative to the repository when it is inside it."""
    from graders.harness.core.curriculum import ROOT

    path = Path(filename).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def describe(error: BaseException) -> dict:
    """The student-facing facts of an exception: type, message, and the innermost line of student code."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if is_student_file(frame.filename)]
    facts = {
        "type": type(error).__name__,
        "message": str(error),
        "file": None,
        "line": None,
        "function": None,
        "traceback": "".join(traceback.format_list(frames)),
        "student_mistake": isinstance(error, StudentMistake),
    }
    if isinstance(error, SyntaxError) and error.filename and is_student_file(error.filename):
        facts.update(file=display_path(error.filename), line=error.lineno, message=error.msg)
    elif frames:
        innermost = frames[-1]
        facts.update(file=display_path(innermost.filename), line=innermost.lineno, function=innermost.name)
    if isinstance(error, SystemExit):
        facts["message"] = say(f"sys.exit({error.code!r}) was called", f"调用了 sys.exit({error.code!r})")
    return facts


def _record_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    facts = describe(args.exc_value) if args.exc_value else {"type": args.exc_type.__name__}
    facts["thread"] = args.thread.name if args.thread else "?"
    _thread_errors.append(facts)


def install_thread_error_hook() -> None:
    threading.excepthook = _record_thread_error


def take_thread_errors() -> list[dict]:
    errors = list(_thread_errors)
    _thread_errors.clear()
    return errors
