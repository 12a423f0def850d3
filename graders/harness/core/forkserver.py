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

Used where the worker's channel is inherited (POSIX) and fork is sound: Linux, without gevent (whose monkey
patches are made before anything is imported). macOS (fork after threads is unsafe there) and Windows spawn
each worker as before; GRADE_WORKER_START=spawn does so here too.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from graders.harness.core import platform

MESSAGE_LIMIT = 1 << 16
ANSWER_TIMEOUT = 10.0  # seconds for the server to answer a fork: it has nothing else to do


def usable(gevent: bool) -> bool:
    return platform.LINUX and not gevent and os.environ.get("GRADE_WORKER_START", "fork") == "fork"


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
    """The grader's side of one fork server: `fork()` gives a new worker's pieces, or None when it cannot."""

    def __init__(self, start: Callable[[list[str], tuple[int, ...]], subprocess.Popen], environment: dict[str, str]
                 ) -> None:
        self.environment = environment  # what its children inherit
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = start(["--forkserver", str(theirs.fileno())], (theirs.fileno(),))
        theirs.close()
        self._control = ours
        self._lock = threading.Lock()  # one fork at a time
        self._answers: list[dict] = []
        self._answered = threading.Condition()
        self._children: dict[int, tuple[int, Forked]] = {}  # the server's pid of each child -> ours, the handle
        self._preloaded: set[str] = set()
        self.alive = True
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()

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

            outer = observe.as_seen_here(self.process.pid, [inner])
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
        self.alive = False
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)
        platform.kill_tree(self.process.pid)
        self.process.wait()
        self._reader.join(5)
        self._control.close()


# -- in the server ---------------------------------------------------------------------------------------------


def serve(control_fd: int, become_worker: Callable[[dict, list[int]], NoReturn], preload: Callable[[str], Any]
          ) -> NoReturn:
    """The server's loop: fork a worker for each request, import what it is asked to, report each child's end.

    Ends, with everything below it, when the grader's end of the control socket closes."""
    control = socket.socket(fileno=control_fd)
    platform.become_subreaper()
    platform.set_dumpable(False)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    while True:
        ready, _, _ = select.select([control, wake_read], [], [])
        if wake_read in ready:
            os.read(wake_read, 4096)
            _reap(control, children)
        if control not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, MESSAGE_LIMIT, 8)
            request = json.loads(data) if data else None
        except (OSError, ValueError):
            request = None
        if not isinstance(request, dict):
            platform.kill_tree(os.getpid(), include_root=False)
            os._exit(0)
        if "preload" in request:
            for module in request["preload"]:
                with contextlib.suppress(Exception):
                    preload(module)
            continue
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_read)
            os.close(wake_write)
            control.close()
            platform.set_dumpable(True)
            become_worker(request["fork"], fds)
        children.add(pid)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"forked": pid}).encode())


def _reap(control: socket.socket, children: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in children:
            children.discard(pid)
            with contextlib.suppress(OSError):
                control.send(json.dumps({"exited": [pid, os.waitstatus_to_exitcode(status)]}).encode())
    # Orphans of an ended worker come here (a subreaper): nothing of a test outlives it.
    for pid in platform.children(os.getpid()):
        if pid not in children:
            platform.kill_tree(pid)
