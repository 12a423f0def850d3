"""The grader's handle on the student's code: a worker process it starts, talks to, and kills.

Student code never runs in the pytest process. A hung thread, a deadlock, `os._exit`, a gevent monkey-patch
or megabytes of output can only harm the worker, and every call into it has a timeout enforced from here.
"""

from __future__ import annotations

import contextlib
import grp
import json
import linecache
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from graders.harness.core.curriculum import ROOT

OUTPUT_LIMIT = 1024 * 1024
DEFAULT_TIMEOUT = 5.0


class StudentError(Exception):
    """A failure caused by the student's code, with a message written for the student."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line


class TimedOut(StudentError):
    pass


class WorkerDied(StudentError):
    pass


@dataclass(frozen=True)
class Implementation:
    """The folders that make up the graded code of one topic; a file in an earlier layer wins."""

    label: str
    layers: tuple[Path, ...]

    def file(self, name: str) -> Path:
        for layer in self.layers:
            if (layer / name).exists():
                return layer / name
        return self.layers[-1] / name

    def task_line(self, task: int) -> tuple[str, int] | None:
        """Where the stub says `TODO(task N)`: the line an annotation about that task points at."""
        marker = re.compile(rf"TODO\(task {task}\)")
        for layer in self.layers:
            for path in sorted(layer.glob("*")):
                if path.suffix not in {".py", ".sql"}:
                    continue
                for number, text in enumerate(
                    path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
                ):
                    if marker.search(text):
                        return display(path), number
        return None


def display(path: str | Path) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


class _OutputPump(threading.Thread):
    """Drains a worker's stdout and stderr, keeping the last lines and counting every byte; stops the worker
    (its whole process group) when it has printed more than OUTPUT_LIMIT."""

    def __init__(self, stream, group: int) -> None:
        super().__init__(name="student-output", daemon=True)
        self.stream = stream
        self.group = group
        self.total = 0
        self.tail = b""
        self.flooded = False

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            self.total += len(chunk)
            self.tail = (self.tail + chunk)[-4096:]
            if self.total > OUTPUT_LIMIT and not self.flooded:
                self.flooded = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.group, signal.SIGKILL)
        self.stream.close()

    def last_lines(self, count: int = 5) -> str:
        lines = self.tail.decode("utf-8", errors="replace").splitlines()[-count:]
        return "\n".join(line[:200] for line in lines)


def _launch(key: tuple, *, cwd: Path, dump: Path, import_hangs: dict[str, str]):
    """Start a worker process: (process, connection, output pump)."""
    layers, gevent, user = key
    ours, theirs = socket.socketpair()  # what multiprocessing.Pipe() builds too
    for end in (ours, theirs):  # a default socket timeout would make them non-blocking: big requests fail
        end.setblocking(True)
    python = os.environ.get("GRADE_WORKER_PYTHON") or sys.executable
    command = [python, "-m", "graders.harness.core.worker", "--fd", str(theirs.fileno()), "--dump", str(dump)]
    command += [*(["--gevent"] if gevent else []), *(str(layer.resolve()) for layer in layers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "GRADE_IMPORT_HANGS": json.dumps(import_hangs)}
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(theirs.fileno(),),
        start_new_session=True,  # its own process group: one killpg ends every child it made
        **({"user": user, "group": grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name, "extra_groups": []}
           if user else {}),
    )
    theirs.close()
    pump = _OutputPump(process.stdout, process.pid)
    pump.start()
    return process, Connection(ours.detach()), pump


class Spares:
    """A worker started ahead of time for the next test, so that its start-up overlaps the current test.

    Each test still gets a fresh process: the spare has run no student code, only imported the harness and
    the probe modules the previous test used (the drivers they import are the slow part of a start).
    """

    def __init__(self) -> None:
        self._spare: tuple | None = None
        self.preload: list[str] = []

    def take(self, key: tuple):
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        spare_key, launched = spare
        if spare_key == key and launched[0].poll() is None:
            return launched
        _discard(launched)
        return None

    def replenish(self, key: tuple) -> None:
        scratch = Path(tempfile.gettempdir())
        launched = _launch(key, cwd=scratch, dump=Path(os.devnull), import_hangs={})
        if self.preload:
            launched[1].send(("preload", list(self.preload)))
        self._spare = (key, launched)

    def close(self) -> None:
        if self._spare:
            _discard(self._spare[1])
            self._spare = None


def _discard(launched: tuple) -> None:
    process, connection, pump = launched
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pump.join(5)
    connection.close()


class Student:
    """One worker process running the student's code for one grader test.

    `run(probe, *args)` calls `probe(*args)` inside the worker and returns its result. A probe that raises,
    a thread of the student's that crashes, a call that outlives its timeout, or a worker that dies all
    raise a `StudentError` whose message says what happened and, where it can, in which line.
    """

    def __init__(
        self,
        implementation: Implementation,
        workdir: Path,
        *,
        gevent: bool = False,
        timeout_scale: float = 1.0,
        user: str | None = None,
        import_hangs: dict[str, str] | None = None,
        spares: Spares | None = None,
    ) -> None:
        self.implementation = implementation
        # Modules whose import never finished in an earlier test: later tests fail at once instead of
        # waiting out the same timeout again (shared by every test of one implementation).
        self.import_hangs = {} if import_hangs is None else import_hangs
        self.user = user
        self.timeout_scale = timeout_scale
        self.workdir = workdir
        self.gevent = gevent
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._pump: _OutputPump | None = None
        self.spares = spares

    # -- life cycle ------------------------------------------------------------------------------------

    def _key(self) -> tuple:
        return (self.implementation.layers, self.gevent, self.user)

    def _start(self) -> None:
        self._dump = self.workdir / "stacks.txt"
        launched = self.spares.take(self._key()) if self.spares else None
        if launched:
            self._process, self._connection, self._pump = launched
            self._connection.send(("setup", str(self.workdir), str(self._dump), json.dumps(self.import_hangs)))
            while self._connection.recv()[0] != "ready":  # a preload's answer may come first
                pass
        else:
            self._process, self._connection, self._pump = _launch(
                self._key(), cwd=self.workdir, dump=self._dump, import_hangs=self.import_hangs
            )
        if self.spares:
            self.spares.replenish(self._key())

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs, for facts the grader reads from outside (/proc, psutil)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def _flooded(self) -> bool:
        return self._pump is not None and self._pump.flooded

    def _kill(self) -> None:
        """SIGKILL the worker's process group, and any descendant that left it with setsid()."""
        if self._process is None:
            return
        strays = _descendants(self._process.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """End the worker and everything it started; report a thread that crashed since the last call."""
        if self._process is None:
            return
        late_errors: list[dict] = []
        try:
            if self._process.poll() is None and not self._flooded:
                self._connection.send(("exit",))
                if self._connection.poll(2):
                    _, late_errors = self._connection.recv()
        except (OSError, EOFError):
            pass
        finally:
            self._kill()
            self._process.wait()
            self._pump.join(5)
            self._connection.close()
            self._process = None
        if late_errors:
            raise self._thread_crash(late_errors)

    # -- calls -----------------------------------------------------------------------------------------

    def run(self, probe: Callable, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Any:
        """Call `probe(*args, **kwargs)` in the worker and return what it returns."""
        if self._process is None:
            self._start()
        name = f"{probe.__name__}()"
        timeout *= self.timeout_scale
        if self.spares and probe.__module__ not in self.spares.preload:
            self.spares.preload.append(probe.__module__)
        try:
            self._connection.send(("run", probe.__module__, probe.__qualname__, args, kwargs))
            ready = self._connection.poll(timeout)
        except (OSError, EOFError):
            raise self._died(name) from None
        if not ready:
            raise self._timed_out(name, timeout)
        try:
            reply = self._connection.recv()
        except (OSError, EOFError):
            raise self._died(name) from None
        kind, value, thread_errors = reply
        if kind == "raised":
            raise self._raised(value)
        if thread_errors:
            raise self._thread_crash(thread_errors)
        return value

    def where(self) -> str:
        """Where each thread of the student's code is right now, e.g. after a client gave up waiting."""
        stuck = self._stacks()
        return _describe_stacks(stuck) if stuck else "no thread was running your code"

    # -- turning what happened into messages -----------------------------------------------------------

    def _stacks(self) -> list[tuple[str, int, str]]:
        """The innermost student frame of every thread, from faulthandler's dump in the worker."""
        if self._process is None or self._process.poll() is not None:
            return []
        before = self._dump.stat().st_size if self._dump.exists() else 0
        os.kill(self._process.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 1.0
        size = before
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self._dump.stat().st_size if self._dump.exists() else 0
            if now > before and now == size:
                break
            size = now
        text = self._dump.read_text(errors="replace")[before:] if self._dump.exists() else ""
        return _student_frames(text, self.implementation.layers)

    def _timed_out(self, name: str, timeout: float) -> TimedOut:
        stuck = self._stacks()
        self._kill()
        message = f"timed out after {timeout:g} s in {name}"
        if stuck:
            message += "; " + _describe_stacks(stuck)
        else:
            message += "; none of your code was running: a result was never produced"
        file, line = (stuck[0][0], stuck[0][1]) if stuck else (None, None)
        for stuck_file, stuck_line, function in stuck:
            if function == "<module>":
                self.import_hangs[Path(stuck_file).stem] = f"{stuck_file}:{stuck_line}"
        return TimedOut(message + self._output_note(), file, line)

    def _died(self, name: str) -> StudentError:
        self._process.wait(5)
        self._pump.join(5)
        if self._flooded:
            return StudentError(
                f"your code printed more than {OUTPUT_LIMIT // 1024 // 1024} MiB during {name}, so it was "
                f"stopped; is a print inside a loop? It printed last:\n{self._pump.last_lines(3)}"
            )
        code = self._process.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        return WorkerDied(
            f"the process running your code ended during {name} ({how}): os._exit() or a crash?"
            + self._output_note()
        )

    def _raised(self, facts: dict) -> StudentError:
        where = f"{facts['file']}:{facts['line']}" if facts.get("file") else None
        if facts.get("student_mistake"):
            return StudentError(facts["message"], facts.get("file"), facts.get("line"))
        if facts["type"] == "NotImplementedError":
            message = f"not done yet: {facts['file'] or 'your code'}:{facts['line']} raises NotImplementedError"
            return StudentError(message + self._output_note(), facts.get("file"), facts.get("line"))
        elif facts["type"] == "SystemExit":
            message = facts["message"] + ": a function must return, not end the program"
        else:
            message = f"your code raised {facts['type']}: {facts['message']}"
        if where:
            function = f" in {facts['function']}" if facts.get("function") else ""
            message += f"\n  at {where}{function}: {_source(facts['file'], facts['line'])}"
        return StudentError(message + self._output_note(), facts.get("file"), facts.get("line"))

    def _thread_crash(self, errors: list[dict]) -> StudentError:
        """The first crash of a thread, worded like an exception in the calling thread."""
        first = self._raised(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return StudentError(f"a thread crashed{more}: {first.message}", first.file, first.line)

    def _output_note(self) -> str:
        if self._pump is None or not self._pump.total:
            return ""
        return "\n  your code printed (last lines):\n    " + self._pump.last_lines().replace("\n", "\n    ")


def _descendants(root: int) -> list[int]:
    """Every process below `root`, from /proc (empty where there is no /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])  # after "(comm)": state, then ppid
        parents.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        children = parents.get(queue.pop(), [])
        found += children
        queue += children
    return found


def _student_frames(dump: str, layers: tuple[Path, ...]) -> list[tuple[str, int, str]]:
    """Parse a faulthandler dump into (file, line, function) of each thread's innermost student frame."""
    roots = [layer.resolve() for layer in layers]
    found = []
    for block in re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump):
        for match in re.finditer(r'File "(.+?)", line (\d+) in (\S+)', block):
            path = Path(match[1])
            if any(path.resolve().is_relative_to(root) for root in roots):
                found.append((display(path), int(match[2]), match[3]))
                break
    return found


def _source(file: str, line: int) -> str:
    path = file if os.path.isabs(file) else str(ROOT / file)
    return "`" + linecache.getline(path, line).strip() + "`"


def _describe_stacks(stuck: list[tuple[str, int, str]]) -> str:
    parts = [f"{file}:{line} in {function}: {_source(file, line)}" for file, line, function in stuck]
    if len(parts) == 1:
        return "stuck at " + parts[0]
    return f"{len(parts)} threads stuck:\n    " + "\n    ".join(parts)
