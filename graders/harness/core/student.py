"""The grader's handle on the student's code: a worker process it starts, talks to, and kills.

Student code never runs in the pytest process. A hung thread, a deadlock, `os._exit`, a gevent monkey-patch
or megabytes of output can only harm the worker, and every call into it has a timeout enforced from here.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import linecache
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.harness.core import forkserver, observe, platform, protocol
from graders.harness.core.curriculum import ROOT, say

OUTPUT_LIMIT = 1024 * 1024
DEFAULT_TIMEOUT = 5.0
RECEIVE_TIMEOUT = 10.0  # seconds for a frame to arrive whole once it has begun, or for a spare to answer
WATCH_EVERY = 0.25  # seconds between two looks at the worker's memory and processes while a call runs
IMPORT_PATIENCE = 5.0  # seconds an import of a student's module may take (more with --timeout-scale > 1)
IMPORT_CPU = 1.0  # seconds of CPU an import may use: a loop at a module's top level is stopped after 1 s of it
TEXT_LIMIT = 2000  # characters of a message from the worker that reach the student


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


class OverLimit(StudentError):
    """The student's code used more of a resource than one check may (`platform.Limits`)."""


@dataclass(frozen=True)
class Implementation:
    """The folders that make up the graded code of one topic; a file in an earlier layer wins."""

    label: str
    layers: tuple[Path, ...]

    def file(self, name: str) -> Path:
        for layer in self.layers:
            if os.path.lexists(layer / name):
                return layer / name
        return self.layers[-1] / name

    def task_line(self, task: int) -> tuple[str, int] | None:
        """Where the stub says `TODO(task N)`: the line an annotation about that task points at."""
        marker = re.compile(rf"TODO\(task {task}\)")
        for layer in self.layers:
            for path in sorted(layer.glob("*")):
                if path.suffix not in {".py", ".sql"}:
                    continue
                try:
                    text = read_student_text(path)
                except StudentError:
                    continue  # a directory, a broken link, a huge file: its own test says so
                for number, line in enumerate(text.splitlines(), 1):
                    if marker.search(line):
                        return display(path), number
        return None

    def contains(self, file: str) -> bool:
        """True when `file` (as a probe reported it) is a regular file inside the graded folders."""
        path = Path(file) if os.path.isabs(file) else ROOT / file
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return False
        return resolved.is_file() and any(resolved.is_relative_to(layer.resolve()) for layer in self.layers)


STUDENT_FILE_LIMIT = 1024 * 1024


def read_student_text(path: Path) -> str:
    """The text of one of the student's files, or a StudentError that says why it cannot be read."""
    shown = display(path)
    if path.is_symlink() and not path.exists():
        raise StudentError(say(f"{shown} is a link to a file that does not exist (or a loop of links)",
                               f"{shown} 是一个指向不存在文件的链接（或链接成环）"), shown)
    if path.is_dir():
        raise StudentError(say(f"{shown} is a folder, not a file: the exercise expects a file there",
                               f"{shown} 是文件夹而不是文件：练习要求这里是一个文件"), shown)
    if not path.exists():
        raise StudentError(say(f"{shown} is missing", f"找不到 {shown}"), shown)
    try:
        size = path.stat().st_size
        if size > STUDENT_FILE_LIMIT:
            raise StudentError(say(
                f"{shown} is {size // 1024 // 1024} MiB; an exercise file is a few KiB: was something pasted or "
                "generated into it?",
                f"{shown} 有 {size // 1024 // 1024} MiB，而练习文件只有几 KiB：是不是粘贴或生成了大量内容？"), shown)
        data = path.read_bytes()
    except PermissionError:
        raise StudentError(say(f"{shown} cannot be read (permission denied): check its file mode",
                               f"无法读取 {shown}（没有权限）：检查文件的权限"), shown) from None
    except OSError as error:
        raise StudentError(say(f"{shown} cannot be read: {error.strerror}", f"无法读取 {shown}：{error.strerror}"),
                           shown) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StudentError(say(f"{shown} is not UTF-8 text (line {line}): save it as UTF-8 in your editor",
                               f"{shown} 不是 UTF-8 文本（第 {line} 行）：请在编辑器里以 UTF-8 编码保存"),
                           shown, line) from None


def display(path: str | Path) -> str:
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):  # a loop of links: show it as it was named
        resolved = Path(os.path.abspath(path))
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


class _OutputPump(threading.Thread):
    """Drains a worker's stdout and stderr, keeping the last lines and counting every byte; ends the worker's
    tree when it has printed more than OUTPUT_LIMIT."""

    def __init__(self, stream, pid: int) -> None:
        super().__init__(name="student-output", daemon=True)
        self.stream = stream
        self.pid = pid
        self.total = 0
        self.tail = b""
        self.flooded = False

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            self.total += len(chunk)
            self.tail = (self.tail + chunk)[-4096:]
            if self.total > OUTPUT_LIMIT and not self.flooded:
                self.flooded = True
                platform.kill_tree(self.pid)
        self.stream.close()

    def last_lines(self, count: int = 5) -> str:
        lines = self.tail.decode("utf-8", errors="replace").splitlines()[-count:]
        return "\n".join(line[:200] for line in lines)


@dataclass
class _Worker:
    process: subprocess.Popen
    channel: protocol.Channel
    pump: _OutputPump
    lifeline: int | socket.socket  # the grader's end of what the worker's watchdog reads: closing it ends the worker
    defined: set[str] = field(default_factory=set)  # hidden probe modules sent to it as source


def _transport() -> str:
    """How a worker gets its channel: an inherited socket and pipe (POSIX), or loopback TCP connections
    proven by a secret key (Windows, where a child inherits no socket; GRADE_WORKER_TRANSPORT=tcp tries it)."""
    return os.environ.get("GRADE_WORKER_TRANSPORT") or ("inherit" if platform.POSIX else "tcp")


SECRET_NAMES = re.compile(r"URL|PASS|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|^GITHUB_|^ACTIONS_|^RUNNER_", re.IGNORECASE)


def worker_environment() -> dict[str, str]:
    """The grader's environment without what student code must not hold: service URLs (with the admin's
    password), tokens and keys, and GitHub's step files (writing GITHUB_ENV or GITHUB_STEP_SUMMARY would
    change the workflow's later steps or its report). Probes get their scratch URLs as arguments."""
    return {name: value for name, value in os.environ.items()
            if not SECRET_NAMES.search(name) and name != "PYTEST_CURRENT_TEST"}  # that one changes at every test


_LAUNCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker-launcher")


def _popen(command: list[str], **options: Any) -> subprocess.Popen:
    """`subprocess.Popen`, always from one thread that lives as long as the grader.

    A wrapper that asks to die with its parent (bubblewrap's `--die-with-parent`, i.e. PR_SET_PDEATHSIG) is
    killed when the *thread* that started it ends, not the process; graders make calls, and so start workers
    and their spares, from short-lived threads of their own.
    """
    return _LAUNCHER.submit(subprocess.Popen, command, **options).result()


def _worker_command(key: tuple, import_hangs: dict[str, str]) -> tuple[list[str], list[str], dict]:
    """How to start a worker of this kind: the command up to its options, its layers, and Popen's options."""
    layers, gevent, user = key
    python = os.environ.get("GRADE_WORKER_PYTHON") or sys.executable
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**worker_environment(), "PYTHONPATH": path, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "GRADE_IMPORT_HANGS": json.dumps(import_hangs)}
    options: dict = {"env": env, "stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE,
                     "stderr": subprocess.STDOUT, **(platform.user_switch(user) if user else {})}
    if platform.POSIX:
        options["start_new_session"] = True  # its own process group, and no terminal to read Ctrl-C from
    else:
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    # A class's sandbox (teacher/sandbox.py) wraps the worker: e.g. bubblewrap and a uid of the submission's own.
    wrapper = json.loads(os.environ.get("GRADE_WORKER_WRAPPER") or "[]")
    module = [*wrapper, python, "-m", "graders.harness.core.worker"]
    return module, [*(["--gevent"] if gevent else []), *(str(layer.resolve()) for layer in layers)], options


def _launch(key: tuple, *, cwd: Path, dump: Path, import_hangs: dict[str, str]) -> _Worker:
    module, layers, options = _worker_command(key, import_hangs)
    options["cwd"] = cwd
    env = options["env"]
    tail = ["--dump", str(dump), *layers]
    if _transport() == "inherit":
        ours, theirs = socket.socketpair()
        life_read, life_write = os.pipe()
        process = _popen(
            [*module, "--fd", str(theirs.fileno()), "--lifeline", str(life_read), *tail],
            pass_fds=(theirs.fileno(), life_read),
            **options,
        )
        theirs.close()
        os.close(life_read)
        channel, lifeline = protocol.Channel(ours), life_write
    else:
        secret = secrets.token_hex(16)
        env["GRADE_CHANNEL_KEY"] = secret  # not on the command line, which other users can list
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.settimeout(RECEIVE_TIMEOUT * 3)
            address = f"127.0.0.1:{listener.getsockname()[1]}"
            process = _popen([*module, "--connect", address, *tail], **options)
            try:
                channel, lifeline = protocol.accept_worker(listener, secret)
            except (OSError, protocol.ProtocolError):
                platform.kill_tree(process.pid)
                raise WorkerDied("the worker started for your code never connected: is the machine very busy?"
                                 ) from None
    pump = _OutputPump(process.stdout, process.pid)
    pump.start()
    return _Worker(process, channel, pump, lifeline)


def _discard(worker: _Worker) -> None:
    platform.kill_tree(worker.process.pid)
    worker.process.wait()
    worker.pump.join(5)
    worker.channel.close()
    _close_quietly(worker.lifeline)


def _close_quietly(lifeline: int | socket.socket) -> None:
    with contextlib.suppress(OSError):
        if isinstance(lifeline, socket.socket):
            lifeline.close()
        else:
            os.close(lifeline)


def worker_kind(implementation: Implementation, *, gevent: bool, user: str | None) -> tuple:
    """What sets workers apart (their code, gevent, their user): workers of one kind share a fork server."""
    return (implementation.layers, gevent, user)


class Spares:
    """Workers ready before a test asks for one, so that a test does not wait for Python to start.

    On Linux, a fork server for each kind of worker (`forkserver.py`): it imports the probe modules that tests
    of its kind have used (the drivers they import are the slow part of a start) and forks a fresh worker for
    each test in milliseconds. Only its own kind's: a class's run keeps a server per topic alive, and each one
    importing every topic's drivers cost more than the forks saved. A check split between forked processes shares
    each server (`share`, then `keep`). Elsewhere, a spare started while the current test runs. Either way each test
    gets a fresh process that has run no student code.
    """

    def __init__(self) -> None:
        self._spare: tuple[tuple, _Worker] | None = None
        self._servers: dict[tuple, forkserver.Forkserver] = {}
        self._shared: dict[tuple, list[forkserver.Forkserver]] = {}  # each process's handle, until the fork
        self.preload: dict[tuple, list[str]] = {}  # by kind: the probe modules its tests have used

    @staticmethod
    def forks(key: tuple) -> bool:
        """Whether workers of this kind come from a fork server (their channel must be inherited)."""
        return forkserver.usable() and _transport() == "inherit"

    def warm(self, key: tuple, modules: list[str]) -> None:
        """Start this kind's fork server, or a spare of this kind where there is none, now, importing these probe
        modules, while pytest still collects and sets up: the first test then gets its worker at once instead of
        waiting for Python and the drivers to start."""
        for module in modules:
            self.used(key, module)
        if self.forks(key):
            self._server(key)
        elif self._spare is None:
            self.replenish(key)

    def _server(self, key: tuple) -> forkserver.Forkserver:
        """This kind's fork server, started if there is none, or none that is alive and current."""
        server = self._servers.get(key)
        if server is None or not server.alive or server.environment != _worker_command(key, {})[2]["env"]:
            if server is not None:  # gone, or the environment changed (a test's monkeypatch, the language)
                server.close()
            server = self._servers[key] = self._start_server(key, clients=1, popen=_popen)[0]
            server.preload(self.preload.get(key, []))
        return server

    def _start_server(self, key: tuple, *, clients: int, popen: Callable[..., subprocess.Popen]
                      ) -> list[forkserver.Forkserver]:
        module, layers, options = _worker_command(key, {})
        options["cwd"] = tempfile.gettempdir()
        options["stdout"] = options["stderr"] = subprocess.DEVNULL

        def start(extra: list[str], fds: tuple[int, ...]) -> subprocess.Popen:
            return popen([*module, *extra, "--dump", os.devnull, *layers], pass_fds=fds, **options)

        return forkserver.Forkserver.start(start, options["env"], clients)

    def share(self, keys: Iterable[tuple], processes: int) -> None:
        """Before a check forks its helpers: start the fork server of each of these kinds once for all
        `processes` (this one and the helpers to come), instead of one per process, each importing the harness
        and the drivers again. Started from this thread, which lives as long as the check: `_popen`'s thread
        would not exist in the helpers. Each process then keeps its own handle (`keep`)."""
        for key in keys:
            if self.forks(key) and key not in self._servers and key not in self._shared:
                self._shared[key] = self._start_server(key, clients=processes, popen=subprocess.Popen)

    def keep(self, index: int) -> None:
        """After the fork: the `index`th process of a check keeps its handle on each shared fork server (0: the
        process that started them, which ends them) and lets go of the others'."""
        for key, handles in self._shared.items():
            self._servers[key] = handles[index]
            for other in handles[:index] + handles[index + 1:]:
                other.drop()
        self._shared.clear()

    def fork(self, key: tuple, *, cwd: Path, dump: Path, import_hangs: dict[str, str]) -> _Worker | None:
        """A worker forked by this kind's fork server (started on first use); None where there is none."""
        if not self.forks(key):
            return None
        server = self._server(key)
        ours, theirs = socket.socketpair()
        life_read, life_write = os.pipe()
        output_read, output_write = os.pipe()
        request = {"workdir": str(cwd), "dump": str(dump), "import_hangs": json.dumps(import_hangs)}
        try:
            process = server.fork(request, [theirs.fileno(), life_read, output_write, output_read])
        finally:
            theirs.close()
            os.close(life_read)
            os.close(output_write)
        if process is None:
            ours.close()
            os.close(life_write)
            os.close(output_read)
            return None
        pump = _OutputPump(process.stdout, process.pid)
        pump.start()
        return _Worker(process, protocol.Channel(ours), pump, life_write)

    def used(self, key: tuple, module: str) -> None:
        """A test called a probe of `module`: the next workers of its kind import it before they are needed."""
        modules = self.preload.setdefault(key, [])
        if module not in modules:
            modules.append(module)
            server = self._servers.get(key) or next(iter(self._shared.get(key, [])), None)
            if server is not None:
                server.preload(modules)

    def take(self, key: tuple) -> _Worker | None:
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        spare_key, worker = spare
        if spare_key == key and worker.process.poll() is None:
            return worker
        _discard(worker)
        return None

    def replenish(self, key: tuple) -> None:
        if self.forks(key):
            return  # the fork server is the spare
        scratch = Path(tempfile.gettempdir())
        worker = _launch(key, cwd=scratch, dump=Path(os.devnull), import_hangs={})
        if self.preload.get(key):
            worker.channel.send(["preload", list(self.preload[key])])
        self._spare = (key, worker)

    def close(self) -> None:
        if self._spare:
            _discard(self._spare[1])
            self._spare = None
        for server in [*self._servers.values(), *(handles[0] for handles in self._shared.values())]:
            server.close()
        self._servers.clear()
        self._shared.clear()


def _text(value: object, limit: int = TEXT_LIMIT) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[:limit] + " …"


class Student:
    """One worker process running the student's code for one grader test.

    `run(probe, *args)` calls `probe(*args)` inside the worker and returns its result, decoded as plain data.
    A probe that raises, a thread of the student's that crashes, a call that outlives its timeout or a limit,
    a reply that is not plain data, or a worker that dies all raise a `StudentError` whose message says what
    happened and, where it can, in which line.
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
        limits: platform.Limits | None = None,
    ) -> None:
        self.implementation = implementation
        # Modules whose import never finished in an earlier test: later tests fail at once instead of
        # waiting out the same timeout again (shared by every test of one implementation).
        self.import_hangs = {} if import_hangs is None else import_hangs
        self.user = user
        self.timeout_scale = timeout_scale
        self.workdir = workdir
        self.gevent = gevent
        self.limits = limits or platform.Limits.from_environment()
        self._worker: _Worker | None = None
        self.spares = spares
        self._calls = threading.Lock()
        self.interrupted = False  # set by the plugin when the run is being stopped: close without waiting
        self._import_seen: tuple[tuple, float] | None = None  # (which import, the worker's CPU when first seen)

    # -- life cycle ------------------------------------------------------------------------------------

    def _key(self) -> tuple:
        return worker_kind(self.implementation, gevent=self.gevent, user=self.user)

    def _start(self) -> None:
        self._dump = self.workdir / "stacks.txt"
        worker = self.spares.take(self._key()) if self.spares else None
        if worker and not self._adopt(worker):
            _discard(worker)  # it died before running any student code: not the student's doing
            worker = None
        if worker is None and self.spares:
            worker = self.spares.fork(self._key(), cwd=self.workdir, dump=self._dump, import_hangs=self.import_hangs)
            self._worker = worker
        if worker is None:
            self._worker = _launch(self._key(), cwd=self.workdir, dump=self._dump, import_hangs=self.import_hangs)
        if self.spares:
            self.spares.replenish(self._key())

    def _adopt(self, spare: _Worker) -> bool:
        """Give a spare worker this test's folder and stack file; False if it is gone."""
        self._worker = spare
        try:
            spare.channel.send(["setup", str(self.workdir), str(self._dump), json.dumps(self.import_hangs)])
            while True:  # a preload's answer may come first
                if not spare.channel.poll(RECEIVE_TIMEOUT):
                    raise WorkerDied("the worker started for your code did not answer: is the machine very busy?")
                if self._receive("setup")[0] == "ready":
                    return True
        except (OSError, EOFError):
            self._worker = None
            return False

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs, for facts the grader reads from outside (/proc, psutil).
        Under a sandbox's wrapper (bubblewrap) that is the Python process below the wrapper, not the wrapper."""
        worker = self._worker
        if worker is None or worker.process.poll() is not None:
            return None
        if isinstance(worker.process, forkserver.Forked) or not os.environ.get("GRADE_WORKER_WRAPPER"):
            return worker.process.pid
        for pid in platform.descendants(worker.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"graders.harness.core.worker" in command and b"bwrap" not in command.split(b"\0")[0]:
                return pid
        return worker.process.pid

    @property
    def _pump(self) -> _OutputPump | None:
        return self._worker.pump if self._worker else None

    @property
    def _flooded(self) -> bool:
        return self._worker is not None and self._worker.pump.flooded

    def _kill(self) -> None:
        """End the worker and every process below it, including those that left its process group."""
        if self._worker is not None:
            platform.kill_tree(self._worker.process.pid)

    def close(self) -> None:
        """End the worker and everything it started; report a thread that crashed since the last call."""
        worker = self._worker
        if worker is None:
            return
        late_errors: list = []
        try:
            if worker.process.poll() is None and not self._flooded and not self.interrupted:
                worker.channel.send(["exit"])
                deadline = time.monotonic() + 2
                while worker.channel.poll(max(0.0, deadline - time.monotonic())):
                    reply = self._receive("exit")
                    if reply[0] == "bye":
                        late_errors = _errors(reply[1]) if len(reply) == 2 else []
                        break
        except (OSError, EOFError, StudentError):
            pass
        finally:
            self._kill()
            worker.process.wait()
            worker.pump.join(5)
            worker.channel.close()
            _close_quietly(worker.lifeline)
            self._worker = None
        if late_errors:
            raise self._thread_crash(late_errors)

    # -- calls -----------------------------------------------------------------------------------------

    def run(self, probe: Callable, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Any:
        """Call `probe(*args, **kwargs)` in the worker and return what it returns. Calls from several grader
        threads take turns: the worker answers one call at a time."""
        with self._calls:
            return self._run(probe, *args, timeout=timeout, **kwargs)

    def _run(self, probe: Callable, *args: Any, timeout: float, **kwargs: Any) -> Any:
        if self._worker is None:
            self._start()
        worker = self._worker
        name = f"{probe.__name__}()"
        timeout *= self.timeout_scale
        hidden = probe.__module__.endswith("_hidden")
        source = None
        if hidden and probe.__module__ not in worker.defined:
            source = Path(inspect.getfile(probe)).read_text(encoding="utf-8")
            worker.defined.add(probe.__module__)
        if self.spares and not hidden:
            self.spares.used(self._key(), probe.__module__)
        try:
            self._dump_mark = self._dump.stat().st_size if self._dump.exists() else 0
            worker.channel.send(["run", probe.__module__, probe.__qualname__, list(args), kwargs, timeout, source])
        except (OSError, EOFError):
            raise self._died(name) from None
        self._wait(name, timeout)
        try:
            reply = self._receive(name)
        except (OSError, EOFError):
            raise self._died(name) from None
        if len(reply) != 3 or reply[0] not in ("ok", "raised"):
            raise self._tampered(name, "a reply of the wrong shape")
        kind, value, thread_errors = reply
        if kind == "raised":
            raise self._raised(_facts(value))
        if _errors(thread_errors):
            raise self._thread_crash(_errors(thread_errors))
        return value

    def _wait(self, name: str, timeout: float) -> None:
        """Wait for the reply to a call, watching the worker's tree against the limits from outside."""
        worker = self._worker
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                if worker.channel.poll(max(0.0, min(left, WATCH_EVERY))):
                    return
            except (OSError, ValueError):
                raise self._died(name) from None
            if time.monotonic() >= deadline:
                raise self._timed_out(name, timeout)
            overrun = self._import_overrun()
            if overrun:
                raise self._import_hung(name, *overrun)
            if worker.process.poll() is None:
                resident, processes = platform.tree_usage(worker.process.pid)
                if resident > self.limits.memory_mib * 1024 * 1024:
                    raise self._over_limit(name, say(f"more than {self.limits.memory_mib} MiB of memory",
                                                     f"超过 {self.limits.memory_mib} MiB 的内存"))
                if processes > self.limits.processes:
                    raise self._over_limit(name, say(f"more than {self.limits.processes} processes at once",
                                                     f"同时超过 {self.limits.processes} 个进程"))

    def _receive(self, during: str) -> list:
        """The worker's next frame: a list whose first item names its kind, or a StudentError."""
        try:
            reply = self._worker.channel.recv(timeout=RECEIVE_TIMEOUT)
        except protocol.ProtocolError as error:
            raise self._tampered(during, str(error)) from None
        if not isinstance(reply, list) or not reply or not isinstance(reply[0], str):
            raise self._tampered(during, "a reply of the wrong shape")
        return reply

    def where(self) -> str:
        """Where each thread of the student's code is right now, e.g. after a client gave up waiting."""
        if not platform.can_ask_for_stacks():
            return say("where your code was cannot be seen on this platform", "在这个平台上看不到你的代码当时在哪里")
        stuck = self._stacks()
        return _describe_stacks(stuck) if stuck else say("no thread was running your code", "没有线程在运行你的代码")

    def where_in(self, message: Callable[[str], str]) -> str:
        """`message(where)`, with where() asked once: it takes a moment, and a message in both languages
        (`lambda where: say(f"...{where}", f"...{where}")`) would otherwise ask twice."""
        return message(self.where())

    # -- turning what happened into messages -----------------------------------------------------------

    def _stacks(self) -> list[tuple[str, int, str]]:
        """The innermost student frame of every thread, from faulthandler's dump in the worker."""
        pid = self.pid  # the Python process itself, below a sandbox's wrapper
        if pid is None:
            return []
        if platform.can_ask_for_stacks():
            before = self._dump.stat().st_size if self._dump.exists() else 0
            platform.ask_for_stacks(pid)
        else:  # the worker's own timer wrote them (or will in a moment) since the call began
            before = getattr(self, "_dump_mark", 0)
        deadline = time.monotonic() + 1.0
        size = before
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self._dump.stat().st_size if self._dump.exists() else 0
            if now > before and now == size:
                break
            size = now
        try:
            with self._dump.open("rb") as dump:
                dump.seek(before)
                text = dump.read(256 * 1024).decode("utf-8", errors="replace")
        except OSError:
            text = ""
        return _student_frames(text, self.implementation)

    def _stop(self, message: str) -> tuple[str, list[tuple[str, int, str]]]:
        """End a worker that is being stopped: `message` followed by where the student's code was, and the
        student's frames (taken before the worker is killed)."""
        stuck = self._stacks()
        self._kill()
        return (message + say("; ", "；") + _describe_stacks(stuck) if stuck else message), stuck

    def _timed_out(self, name: str, timeout: float) -> TimedOut:
        message, stuck = self._stop(say(f"timed out after {timeout:g} s in {name}", f"{name} 在 {timeout:g} 秒后超时"))
        if not stuck:
            message += say("; none of your code was running: a result was never produced",
                           "；当时没有在运行你的代码：结果一直没有产生")
        file, line = (stuck[0][0], stuck[0][1]) if stuck else (None, None)
        for stuck_file, stuck_line, function in stuck:
            if function == "<module>":
                self.import_hangs[Path(stuck_file).stem] = f"{stuck_file}:{stuck_line}"
        return TimedOut(message + self._output_note(), file, line)

    def _import_overrun(self) -> tuple[str, tuple[str, str]] | None:
        """(the student's module, how its import overran) once an import has run longer than its patience,
        from the worker's marker: IMPORT_PATIENCE seconds of waiting (a busy machine's imports are slow too,
        so it grows with --timeout-scale), or IMPORT_CPU seconds of computing, counted from outside the worker
        since the marker was first seen. CPU time does not stretch on a busy machine, and a loop at the top of a
        module is then stopped after a second of it rather than five: a class with such a submission in every
        topic paid 95 CPU-s for it."""
        marker = self.workdir / protocol.IMPORT_MARKER
        try:
            module = marker.read_text(encoding="utf-8", errors="replace")[:100]
            started = marker.stat().st_mtime
        except OSError:
            return None
        scale = max(1.0, self.timeout_scale)
        patience, budget = IMPORT_PATIENCE * scale, IMPORT_CPU * scale
        if time.time() - started > patience:
            return module, (f"did not finish within {patience:g} s", f"在 {patience:g} 秒内没有结束")
        pid = self.pid
        used = observe.cpu_seconds(pid)
        if used is None:
            return None
        if self._import_seen is None or self._import_seen[0] != (module, started, pid):
            self._import_seen = ((module, started, pid), used)
        elif used - self._import_seen[1] > budget:
            return module, (f"computed for {budget:g} s of CPU time and had not finished",
                            f"计算了 {budget:g} 秒 CPU 时间仍没有结束")
        return None

    def _import_hung(self, name: str, module: str, how: tuple[str, str]) -> TimedOut:
        """An import still running after its patience: the top level of the module loops or waits, and would
        hold every call that needs it until the call's own (often much longer) timeout."""
        message, stuck = self._stop(say(f"importing {module}.py {how[0]} (in {name})",
                                        f"导入 {module}.py {how[1]}（在 {name} 中）"))
        message += say(". Code at the top level of a module runs on import: put it inside a function",
                       "。模块顶层的代码在导入时就会运行，请把它放进函数里")
        located = next(((file, line) for file, line, function in stuck if function == "<module>"), None)
        self.import_hangs[module] = f"{located[0]}:{located[1]}" if located else f"{module}.py"
        file, line = located or ((stuck[0][0], stuck[0][1]) if stuck else (None, None))
        return TimedOut(message + self._output_note(), file, line)

    def _over_limit(self, name: str, what: str) -> OverLimit:
        message, stuck = self._stop(say(
            f"your code used {what} during {name}, the limit for one check, so it was stopped",
            f"你的代码在 {name} 中用了{what}，超过了一次检查的上限，所以被停止了"))
        message += say(" (a teacher can raise limits with GRADE_LIMITS, see the README)",
                       "（老师可以用 GRADE_LIMITS 放宽上限，见 README）")
        file, line = (stuck[0][0], stuck[0][1]) if stuck else (None, None)
        return OverLimit(message + self._output_note(), file, line)

    def _tampered(self, during: str, detail: str) -> StudentError:
        self._kill()
        return StudentError(say(
            f"the grader could not read the worker's answer during {during} ({_text(detail, 200)}): does your "
            "code write to file descriptors it did not open, or replace the grader's functions?",
            f"检查程序在 {during} 中无法读取工作进程的回答（{_text(detail, 200)}）：你的代码是否写入了不是它打开的"
            "文件描述符，或者替换了检查程序的函数？"))

    def _died(self, name: str) -> StudentError:
        worker = self._worker
        worker.process.wait(5)
        worker.pump.join(5)
        if self._flooded:
            return StudentError(say(
                f"your code printed more than {OUTPUT_LIMIT // 1024 // 1024} MiB during {name}, so it was "
                f"stopped; is a print inside a loop? It printed last:\n{worker.pump.last_lines(3)}",
                f"你的代码在 {name} 中输出了超过 {OUTPUT_LIMIT // 1024 // 1024} MiB，所以被停止了；是不是循环里有 "
                f"print？最后输出的是：\n{worker.pump.last_lines(3)}"))
        code = worker.process.returncode
        how = say(f"killed by signal {-code}", f"被信号 {-code} 杀死") if code < 0 else say(
            f"exit code {code}", f"退出码 {code}")
        if code == -24:  # SIGXCPU: RLIMIT_CPU
            return OverLimit(say(f"your code used more than {self.limits.cpu_seconds} s of CPU time during {name}, "
                                 "the limit for one check: is there a loop that never ends?",
                                 f"你的代码在 {name} 中用了超过 {self.limits.cpu_seconds} 秒的 CPU 时间，超过了一次检查"
                                 "的上限：是不是有一个永远不结束的循环？") + self._output_note())
        return WorkerDied(
            say(f"the process running your code ended during {name} ({how}): os._exit() or a crash?",
                f"运行你代码的进程在 {name} 中结束了（{how}）：调用了 os._exit() 还是崩溃了？")
            + self._output_note()
        )

    def _where(self, facts: dict) -> tuple[str | None, int | None]:
        """The file and line a reply names, kept only when it is a file of the graded folders."""
        file, line = facts.get("file"), facts.get("line")
        if not file or not self.implementation.contains(file):
            return None, None
        return file, line

    def _raised(self, facts: dict) -> StudentError:
        file, line = self._where(facts)
        if facts.get("student_mistake"):
            return StudentError(facts["message"], file, line)
        if facts["type"] == "NotImplementedError":
            where = f"{file or say('your code', '你的代码')}:{line or '?'}"
            message = say(f"not done yet: {where} raises NotImplementedError",
                          f"还没有完成：{where} 抛出 NotImplementedError")
            return StudentError(message + self._output_note(), file, line)
        elif facts["type"] == "SystemExit":
            message = facts["message"] + say(": a function must return, not end the program",
                                             "：函数应该返回，而不是结束整个程序")
        else:
            message = say(f"your code raised {facts['type']}: {facts['message']}",
                          f"你的代码抛出了 {facts['type']}：{facts['message']}")
        if file:
            function = f" in {facts['function']}" if facts.get("function") else ""
            message += say(f"\n  at {file}:{line}{function}: {_source(file, line)}",
                           f"\n  位置 {file}:{line}{function}：{_source(file, line)}")
        return StudentError(message + self._output_note(), file, line)

    def _thread_crash(self, errors: list[dict]) -> StudentError:
        """The first crash of a thread, worded like an exception in the calling thread."""
        first = self._raised(errors[0])
        more = say(f" (and {len(errors) - 1} more)", f"（还有 {len(errors) - 1} 个）") if len(errors) > 1 else ""
        return StudentError(say(f"a thread crashed{more}: {first.message}", f"一个线程崩溃了{more}：{first.message}"),
                            first.file, first.line)

    def _output_note(self) -> str:
        pump = self._pump
        if pump is None or not pump.total:
            return ""
        return say("\n  your code printed (last lines):\n    ", "\n  你的代码输出了（最后几行）：\n    ") + \
            pump.last_lines().replace("\n", "\n    ")


def _facts(value: object) -> dict:
    """What the worker says about an exception, reduced to the fields the messages use, each of its type."""
    facts = value if isinstance(value, dict) else {}
    line = facts.get("line")
    return {
        "type": _text(facts.get("type"), 100) or "Exception",
        "message": _text(facts.get("message")),
        "file": _text(facts.get("file"), 500) or None,
        "line": line if type(line) is int and line > 0 else None,
        "function": _text(facts.get("function"), 100) or None,
        "student_mistake": facts.get("student_mistake") is True,
    }


def _errors(value: object) -> list[dict]:
    return [_facts(item) for item in value[:20]] if isinstance(value, list) else []


def _student_frames(dump: str, implementation: Implementation) -> list[tuple[str, int, str]]:
    """Parse a faulthandler dump into (file, line, function) of each thread's innermost student frame."""
    found = []
    for block in re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump)[:64]:
        for match in re.finditer(r'File "(.+?)", line (\d+) in (\S+)', block):
            if implementation.contains(match[1]):
                found.append((display(match[1]), int(match[2]), match[3][:100]))
                break
    return found


def _source(file: str, line: int) -> str:
    path = file if os.path.isabs(file) else str(ROOT / file)
    return "`" + linecache.getline(path, line).strip() + "`"


def _describe_stacks(stuck: list[tuple[str, int, str]]) -> str:
    parts = [f"{file}:{line} in {function}: {_source(file, line)}" for file, line, function in stuck]
    if len(parts) == 1:
        return say("stuck at ", "卡在 ") + parts[0]
    return say(f"{len(parts)} threads stuck:", f"{len(parts)} 个线程卡住了：") + "\n    " + "\n    ".join(parts)
