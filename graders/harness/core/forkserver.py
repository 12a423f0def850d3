"""Fresh workers in milliseconds (Linux): a worker that has imported the harness and the drivers forks one per test.

Every test gets a process of its own (`student.Student`), and starting one costs a new Python 0.15 to 0.4 s
of CPU: the interpreter, the harness, then redis, pymongo or pymysql, which the probes import. A course has
some 140 tests, so a class of fifty spent most of its CPU time importing the same modules. A fork server is
one worker process, started like any other (the same command, environment, user and sandbox wrapper) but
that never runs student code: it imports the probe modules the tests have used so far, then forks a child for
each test, which becomes an ordinary worker (`worker.become_worker`).

What a child gets is what a spawned worker gets: a session and process group of its own, its own channel,
lifeline and output pipe (passed over the server's control socket with SCM_RIGHTS), its own limits, folder and
stack file. The server is single-threaded when it forks, is not dumpable (the children's code, running as the
same user, cannot ptrace it or read its memory), and reaps its children and reports how each ended, which the
grader reads as it would `Popen.returncode`. A child could still kill the server: the next test then starts a
new one (or spawns its worker), and that student's tests are the only ones it serves.

A check split between processes (`parallel.py`) shares one server per kind of worker: the controller starts it
before it forks its helpers, and each process talks to it over a control socket of its own.

Used where the worker's channel is inherited (POSIX) and fork is sound: Linux. gevent's server is a gevent
worker, patched before it imports anything as every gevent worker is; it forks with the unpatched calls and never
runs gevent's loop, so each child starts as a freshly patched worker would. macOS (fork after threads is unsafe
there) and Windows spawn each worker as before; GRADE_WORKER_START=spawn does so here too.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

from graders.harness.core import platform

MESSAGE_LIMIT = 1 << 16
ANSWER_TIMEOUT = 10.0  # seconds for the server to answer a fork: it has nothing else to do


def usable() -> bool:
    return platform.LINUX and os.environ.get("GRADE_WORKER_START", "fork") == "fork"


# -- in the grader ---------------------------------------------------------------------------------------------


class Forked:
    """The part of `subprocess.Popen` the grader uses, for a worker that the fork server started."""

    def __init__(self, pid: int, stdout) -> None:
        self.pid = pid  # as the grader sees it (the server may be in a pid namespace of its own)
        self.stdout = stdout
        self.returncode: int | None = None
        self._ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return self.returncode  # type: ignore[return-value]

    def ended(self, code: int) -> None:
        self.returncode = code
        self._ended.set()


class Forkserver:
    """The grader's side of one fork server: `fork()` gives a new worker's pieces, or None when it cannot.

    Several processes can share one server: a check's controller starts it before it forks its helpers
    (`start(..., clients=N)`), and each process keeps one handle, with a control socket of its own, and drops
    the others'. Each handle hears only of its own children; only the handle that started the server ends it.
    """

    def __init__(self, pid: int, control: socket.socket, environment: dict[str, str],
                 process: subprocess.Popen | None) -> None:
        self.pid = pid  # the server's, as the grader sees it
        self.process = process  # on the handle that started the server, which ends it
        self.environment = environment  # what its children inherit
        self._control = control
        self._lock = threading.Lock()  # one fork at a time
        self._answers: list[dict] = []
        self._answered = threading.Condition()
        self._children: dict[int, tuple[int, Forked]] = {}  # the server's pid of each child -> ours, the handle
        self._preloaded: set[str] = set()
        self.alive = True
        self._reader: threading.Thread | None = None  # started with the first fork: a process may fork after this

    @classmethod
    def start(cls, start: Callable[[list[str], tuple[int, ...]], subprocess.Popen], environment: dict[str, str],
              clients: int = 1) -> list[Forkserver]:
        """Start a server with `clients` handles; the first one ends it."""
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(clients)]
        theirs = [pair[1].fileno() for pair in pairs]
        process = start(["--forkserver", ",".join(map(str, theirs))], tuple(theirs))
        for _, end in pairs:
            end.close()
        return [cls(process.pid, ours, environment, process if index == 0 else None)
                for index, (ours, _) in enumerate(pairs)]

    def preload(self, modules: list[str]) -> None:
        """Import these probe modules in the server, so that the next children have them already."""
        fresh = [module for module in modules if module not in self._preloaded]
        if fresh and self.alive:
            self._preloaded.update(fresh)
            with contextlib.suppress(OSError):
                self._control.send(json.dumps({"preload": fresh}).encode())

    def fork(self, request: dict[str, str], fds: list[int]) -> Forked | None:
        """A child for `request` (workdir, dump, import_hangs), holding `fds` (channel, lifeline, output) and
        the grader's read end of its output as `stdout_fd`; None if the server is gone or did not answer."""
        *passed, stdout_fd = fds
        with self._lock:
            if not self.alive:
                return None
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
                self._reader.start()
            try:
                socket.send_fds(self._control, [json.dumps({"fork": request}).encode()], passed)
            except OSError:
                return None
            with self._answered:
                if not self._answered.wait_for(lambda: self._answers or not self.alive, ANSWER_TIMEOUT):
                    self.alive = False  # a late answer would be taken for the next fork's
                if not self.alive:
                    return None
                answer = self._answers.pop(0)
            inner = answer.get("forked")
            if not isinstance(inner, int):
                return None
            from graders.harness.core import observe

            outer = observe.as_seen_here(self.pid, [inner])
            handle = Forked(outer[0] if outer else inner, open(stdout_fd, "rb"))  # noqa: SIM115 - the pump closes it
            if not outer:  # it ended already, before it could be looked up
                handle.ended(-signal.SIGKILL)
            self._children[inner] = (handle.pid, handle)
            return handle

    def _read(self) -> None:
        while True:
            try:
                data = self._control.recv(MESSAGE_LIMIT)
                message = json.loads(data) if data else None
            except (OSError, ValueError):
                message = None
            if not isinstance(message, dict):
                break
            if "exited" in message:
                inner, code = message["exited"]
                child = self._children.pop(inner, None)
                if child:
                    child[1].ended(code)
            else:
                with self._answered:
                    self._answers.append(message)
                    self._answered.notify_all()
        self._gone()

    def _gone(self) -> None:
        """The server ended (killed by a child, or closed): its children are orphans, ended here."""
        with self._answered:
            self.alive = False
            self._answered.notify_all()
        for outer, handle in list(self._children.values()):
            platform.kill_tree(outer)
            handle.ended(-signal.SIGKILL)
        self._children.clear()

    def close(self) -> None:
        """End this handle's children; and the server itself, if this handle started it."""
        self.alive = False
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)
        if self.process is not None:
            platform.kill_tree(self.pid)
            self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        self._control.close()

    def drop(self) -> None:
        """Close this process's copy of a handle that another process keeps (after a fork), leaving it working."""
        self.alive = False
        self.process = None
        self._control.close()


# -- in the server ---------------------------------------------------------------------------------------------


def serve(control_fds: list[int], become_worker: Callable[[dict, list[int]], NoReturn],
          preload: Callable[[str], Any]) -> NoReturn:
    """The server's loop: fork a worker for each request, import what it is asked to, report each child's end
    to the control socket that asked for it.

    When a control socket closes, its children are ended; the server ends, with everything below it, when the
    last one closes. In a worker that gevent patched (as gevent's workers are, before anything is imported),
    the server uses the unpatched functions: it must not start gevent's loop, which its children would inherit.
    """
    calls = _unpatched()
    controls = {fd: calls.socket(fileno=fd) for fd in control_fds}
    platform.become_subreaper()
    platform.set_dumpable(False)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    calls.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, int] = {}  # pid -> the control socket that asked for it
    while True:
        ready, _, _ = calls.select([*controls.values(), wake_read], [], [])
        if wake_read in ready:
            os.read(wake_read, 4096)
            _reap(calls, controls, children)
        for control in [item for item in ready if not isinstance(item, int)]:
            try:
                data, fds, _, _ = socket.recv_fds(control, MESSAGE_LIMIT, 8)
                request = json.loads(data) if data else None
            except (OSError, ValueError):
                request = None
            if not isinstance(request, dict):
                _end_client(control, controls, children)
                continue
            if "preload" in request:
                for module in request["preload"]:
                    with contextlib.suppress(Exception):
                        preload(module)
                continue
            pid = calls.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                calls.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_read)
                os.close(wake_write)
                for sock in controls.values():
                    sock.close()
                platform.set_dumpable(True)
                if "gevent" in sys.modules:
                    from gevent import hub

                    hub.reinit()
                become_worker(request["fork"], fds)
            children[pid] = control.fileno()
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"forked": pid}).encode())


class _Calls(NamedTuple):
    socket: type[socket.socket]
    select: Callable
    fork: Callable[[], int]
    waitpid: Callable[[int, int], tuple[int, int]]
    signal: Callable


def _unpatched() -> _Calls:
    if "gevent" not in sys.modules:
        return _Calls(socket.socket, select.select, os.fork, os.waitpid, signal.signal)
    from gevent import monkey

    return _Calls(*(monkey.get_original(module, name) for module, name in [
        ("socket", "socket"), ("select", "select"), ("os", "fork"), ("os", "waitpid"), ("signal", "signal")]))


def _end_client(control: socket.socket, controls: dict[int, socket.socket], children: dict[int, int]) -> None:
    """A grader closed its control socket (it ended, or was killed): its children go with it; the server goes
    with the last one."""
    fd = control.fileno()
    for pid in [pid for pid, owner in children.items() if owner == fd]:
        platform.kill_tree(pid)
    controls.pop(fd, None)
    control.close()
    if not controls:
        platform.kill_tree(os.getpid(), include_root=False)
        os._exit(0)


def _reap(calls: _Calls, controls: dict[int, socket.socket], children: dict[int, int]) -> None:
    while True:
        try:
            pid, status = calls.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        owner = children.pop(pid, None)
        if owner in controls:
            with contextlib.suppress(OSError):
                controls[owner].send(json.dumps({"exited": [pid, os.waitstatus_to_exitcode(status)]}).encode())
    # Orphans of an ended worker come here (a subreaper): nothing of a test outlives it.
    for pid in platform.children(os.getpid()):
        if pid not in children:
            platform.kill_tree(pid)
