"""The worker process: runs probes against the student's code, at arm's length from pytest.

Started by `graders.harness.core.student.Student` as

    python -m graders.harness.core.worker --fd N --lifeline M --dump FILE [--gevent] LAYER [LAYER ...]

or, on Linux, forked by a fork server started as `worker --forkserver FD[,FD...] ...` (forkserver.py). It reads
requests from its channel (the inherited socket `--fd`), calls the probe named in each, and answers with the
result or with what went wrong, as plain-data frames (`protocol`). It never decides a grade: the grader
validates every reply, and the student's code, which shares this process, may have rewritten anything here.

Nothing of the student's may outlive the check, however the grader ends. The worker therefore
- becomes a child subreaper (Linux), so processes that the student's code double-forks stay its descendants;
- watches `--lifeline`, a pipe whose other end only the grader holds: when the grader dies (even by SIGKILL)
  the pipe reads end-of-file and the watchdog kills every descendant, then the worker itself;
- applies the limits of `GRADE_LIMITS` (`platform.Limits`) before the student's code loads.
On SIGUSR1 it writes every thread's stack to `--dump`, so a grader that gave up waiting can tell the student
where their code was stuck.
"""

import sys
import types

if __name__ == "__main__" and "--gevent" in sys.argv:
    # gevent must patch before anything else imports socket, threading or select.
    from gevent import monkey

    monkey.patch_all()

import argparse
import contextlib
import faulthandler
import importlib
import os
import socket
import time
from pathlib import Path

from graders.harness.core import platform, probing, protocol
from graders.harness.core.curriculum import say


def _define(module: str, source: str) -> types.ModuleType:
    """A probe module from the source the grader sent: hidden probes (`*_hidden.py`) are not files the
    student's code can read or import, in a class's sandbox or in Classroom CI, until the test that needs them."""
    defined = types.ModuleType(module)
    defined.__file__ = f"<{module.replace('.', '/')}.py>"
    sys.modules[module] = defined
    exec(compile(source, defined.__file__, "exec"), defined.__dict__)
    return defined


def _mark_imports_next_to(dump: Path) -> None:
    """Where `probing.student_module` says which of the student's modules it is importing: next to the stack
    file, in the test's own folder (no marker for a worker without one, such as a spare warming up)."""
    if str(dump) == os.devnull:
        os.environ.pop("GRADE_IMPORT_MARKER", None)
    else:
        os.environ["GRADE_IMPORT_MARKER"] = str(dump.parent / protocol.IMPORT_MARKER)


def call(module: str, qualname: str, args: list, kwargs: dict, source: str | None = None) -> list:
    """Call one probe; every outcome, even SystemExit, becomes a reply."""
    try:
        target = _define(module, source) if source is not None else importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        value = target(*args, **kwargs)
    except BaseException as error:  # the student's code may raise anything, SystemExit included
        return ["raised", probing.describe(error), probing.take_thread_errors()]
    try:
        protocol.encode(value)
    except (TypeError, RecursionError) as error:
        facts = {
            "type": "TypeError",
            "message": say(
                f"your code returned something the grader cannot read back ({error}): "
                "return plain values such as lists, tuples, dicts, numbers and strings, not generators, "
                "open files or objects of your own classes",
                f"你的代码返回了评分程序无法读回的东西（{error}）：请返回列表、元组、字典、数字、字符串这样的普通值，"
                "而不是生成器、打开的文件或你自己定义的类的对象",
            ),
            "student_mistake": True,
        }
        return ["raised", facts, probing.take_thread_errors()]
    return ["ok", value, probing.take_thread_errors()]


class _NotTheStudents:
    """Refuses `import solutions...` from student code: the repository root is on sys.path for the probes,
    and the reference solution must not be one import away. (A class's sandbox hides the folder altogether.)
    A plain class, as `probing.KnownHangs` is."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] == "solutions":
            raise ImportError(f"`import {name}`: the course's reference code is not part of your exercise")
        return None


def _watch_lifeline(lifeline: int | socket.socket) -> None:
    """Block until the grader's end of the lifeline closes, then end everything this worker started."""
    read = lifeline.recv if isinstance(lifeline, socket.socket) else lambda size: os.read(lifeline, size)
    with contextlib.suppress(OSError):
        while read(1):
            pass
    platform.kill_tree(os.getpid(), include_root=False)
    os._exit(70)


def _os_thread(target, *args) -> None:
    """Start `target` in an operating-system thread, also under gevent (whose patched threads are greenlets
    that a blocking read would stall, together with every other greenlet)."""
    if "gevent" in sys.modules:
        from gevent import monkey

        start = monkey.get_original("_thread", "start_new_thread")
    else:
        import _thread

        start = _thread.start_new_thread
    start(target, args)


class _StackTimer:
    """Writes every thread's stack to the dump shortly before the grader gives up on a call, where the grader
    cannot signal the worker (Windows, or a pid namespace the grader is outside of).

    One operating-system thread for the worker's whole life, waiting on a lock with a timeout: graders count
    the worker's threads from outside (/proc/<pid>/task), and `faulthandler.dump_traceback_later` would start
    and end a thread of its own with every call, changing that count while they read it.
    """

    def __init__(self, dump) -> None:
        self.dump = dump
        self._deadline: float | None = None
        self._wake = _original_lock()
        self._wake.acquire()
        _os_thread(self._watch)

    def arm(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self._poke()

    def cancel(self) -> None:
        self._deadline = None
        self._poke()

    def _poke(self) -> None:
        with contextlib.suppress(RuntimeError):  # already woken
            self._wake.release()

    def _watch(self) -> None:
        while True:
            deadline = self._deadline
            left = -1 if deadline is None else max(0.0, deadline - time.monotonic())
            if self._wake.acquire(timeout=left):
                continue
            if self._deadline is not None and self._deadline == deadline:
                self._deadline = None
                with contextlib.suppress(Exception):
                    faulthandler.dump_traceback(self.dump, all_threads=True)
                    self.dump.flush()


def _original_lock():
    """A lock that blocks the operating-system thread, also under gevent (whose patched locks are greenlets')."""
    if "gevent" in sys.modules:
        from gevent import monkey

        return monkey.get_original("_thread", "allocate_lock")()
    import _thread

    return _thread.allocate_lock()


def _hide_main_from_spawned_children() -> None:
    """A process that the student's code starts with spawn or forkserver (macOS's and Windows' default, Linux's
    from Python 3.14, and what graders try) imports `__main__` before its target, as a student's own program is
    imported again by its children. Here `__main__` is this worker, not the student's: importing it again gave
    each such child 0.1 s of CPU and nothing of theirs. Without a name or file for `__main__` (as in an
    interactive session), a child imports only what its target needs: the student's module."""
    main = sys.modules["__main__"]
    main.__spec__ = None
    main.__dict__.pop("__file__", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, help="the inherited channel socket (POSIX)")
    parser.add_argument("--lifeline", type=int, help="the inherited end of the grader's lifeline pipe (POSIX)")
    parser.add_argument("--connect", metavar="HOST:PORT", help="the grader's listener (Windows); key in "
                        "GRADE_CHANNEL_KEY")
    parser.add_argument("--forkserver", metavar="FD,FD", help="fork a worker for each request on these "
                        "control sockets (forkserver.py) instead of serving one")
    parser.add_argument("--dump", type=Path, required=True)
    parser.add_argument("--gevent", action="store_true")
    parser.add_argument("layers", nargs="+", type=Path)
    options = parser.parse_args()

    if options.forkserver is not None:
        from graders.harness.core import forkserver

        def become_worker(request: dict, fds: list[int]) -> None:
            channel_fd, lifeline, output = fds
            os.setsid()
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(output)
            os.chdir(request["workdir"])
            os.environ["GRADE_IMPORT_HANGS"] = request["import_hangs"]
            serve(protocol.Channel(socket.socket(fileno=channel_fd)), lifeline, Path(request["dump"]),
                  options.layers)
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(0)

        forkserver.serve([int(fd) for fd in options.forkserver.split(",")], become_worker,
                         importlib.import_module)
    if options.connect:
        channel, lifeline = protocol.connect_to_grader(options.connect, os.environ.pop("GRADE_CHANNEL_KEY", ""))
    else:
        channel, lifeline = protocol.Channel(socket.socket(fileno=options.fd)), options.lifeline
    serve(channel, lifeline, options.dump, options.layers)


def serve(channel: protocol.Channel, lifeline: int | socket.socket | None, dump_path: Path, layers: list[Path]
          ) -> None:
    """Answer the grader's requests until it says "exit"."""
    platform.become_subreaper()
    if lifeline is not None:
        _os_thread(_watch_lifeline, lifeline)
    platform.Limits.from_environment().apply_to_this_process()

    sys.meta_path[:0] = [_NotTheStudents(), probing.KnownHangs()]
    dump = dump_path.open("w")
    _mark_imports_next_to(dump_path)
    platform.register_stack_dump(dump)
    probing.configure(tuple(layers))
    probing.install_thread_error_hook()
    _hide_main_from_spawned_children()
    start_method = os.environ.get("GRADE_START_METHOD")
    if start_method:  # as on macOS (spawn) or Linux from Python 3.14 (forkserver): set before student code runs
        import multiprocessing

        multiprocessing.set_start_method(start_method, force=True)

    timer = None if platform.can_ask_for_stacks() else _StackTimer(dump)
    while True:
        # poll first: under gevent it yields to the student's greenlets while we wait.
        channel.poll(None)
        try:
            request = channel.recv()
        except (EOFError, OSError, protocol.ProtocolError):
            # The grader is gone (killed, or timed out as a whole): take every thread and child with us.
            platform.kill_tree(os.getpid(), include_root=False)
            os._exit(70)
        kind = request[0]
        if kind == "exit":
            channel.send(["bye", probing.take_thread_errors()])
            return
        if kind == "preload":  # a spare worker, warming up while it waits for a test
            for module in request[1]:
                with contextlib.suppress(Exception):
                    importlib.import_module(module)
            channel.send(["preloaded"])
            continue
        if kind == "setup":  # a spare worker adopted by a test: its folder, its stack file
            _, workdir, dump_path, import_hangs = request
            os.chdir(workdir)
            dump = open(dump_path, "w")  # noqa: SIM115 - kept open for the stack dump, like the first one
            _mark_imports_next_to(Path(dump_path))
            platform.register_stack_dump(dump)
            if timer:
                timer.dump = dump
            os.environ["GRADE_IMPORT_HANGS"] = import_hangs
            channel.send(["ready"])
            continue
        _, module, qualname, args, kwargs, timeout, source = request
        if timer:  # no SIGUSR1 here: leave the stacks behind just before the grader gives up
            timer.arm(max(0.05, timeout - 0.3))
        reply = call(module, qualname, args, kwargs, source)
        if timer:
            timer.cancel()
        channel.send(reply)


if __name__ == "__main__":
    main()
