"""The grader's end of calls that the student's threads make, so that the grader sees them from outside.

A probe hands the student's code a target (or a fetch) that connects to the grader's switchboard, says who it
is (`target 3`), and blocks in `recv` until the grader answers. The grader thus sees with its own sockets
which calls are running at once, holds each one as long as it likes (durations that differ, decided here),
and chooses what each call returns. Nothing the verdict rests on is measured or known inside the worker,
where the student's code could rewrite it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError


class Switchboard:
    """A listening socket of the grader; each connection is one call of a probe's target, named by its first line."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = self.listener.getsockname()[1]
        self.waiting: dict[str, socket.socket] = {}  # calls that have connected and wait for their answer
        self.names: list[str] = []  # every call that connected, in the order they said who they were
        self.answered: list[str] = []
        self._unnamed: list[socket.socket] = []

    def gather(self, count: int, *, patience: float, quiet: float, done: Callable[[], bool],
               waiting: Callable[[], bool] | None = None) -> int:
        """Take calls until `count` wait at once, no new call came for `quiet` s, `patience` ran out or `done()`.

        With `waiting` (e.g. `lambda: observe.idle(student.pid)`), one second without a new call is enough
        when `waiting()` then holds: the student's code is blocked, so no call is on its way.
        Returns how many calls wait at once now: the peak of calls running at the same time so far.
        """
        deadline = time.monotonic() + patience
        last_news = time.monotonic()
        while len(self.waiting) < count and not done():
            now = time.monotonic()
            if now >= deadline or now - last_news >= quiet:
                break
            blocked = waiting is not None and now - last_news >= 1.0 and waiting()
            if blocked and not select.select([self.listener, *self._unnamed], [], [], 0)[0]:
                break
            readable, _, _ = select.select([self.listener, *self._unnamed], [], [], 0.02)
            for sock in readable:
                if sock is self.listener:
                    conn, _ = self.listener.accept()
                    conn.settimeout(1)
                    self._unnamed.append(conn)
                elif self._take_name(sock):
                    last_news = time.monotonic()
        return len(self.waiting)

    def _take_name(self, conn: socket.socket) -> bool:
        self._unnamed.remove(conn)
        try:
            line = conn.recv(64)  # the probe sends its short name in one write
        except OSError:
            line = b""
        name = line.decode(errors="replace").strip()
        if not name:
            conn.close()
            return False
        self.names.append(name)
        self.waiting[name] = conn
        return True

    def answer(self, name: str, payload: bytes = b"") -> None:
        """Let call `name` go on: send it `payload`, then end its connection cleanly (no unread data is left)."""
        conn = self.waiting.pop(name)
        self.answered.append(name)
        with contextlib.suppress(OSError):
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
        conn.close()

    def close(self) -> None:
        """Let every call still waiting go on (it reads the end of its connection) and stop listening."""
        for name in list(self.waiting):
            self.answer(name)
        for conn in self._unnamed:
            conn.close()
        self._unnamed.clear()
        self.listener.close()


class Background:
    """`student.run(probe, ...)` in a thread of the grader, so that the grader can drive the switchboard meanwhile.

    `returned_at` is the grader's own clock at the moment the probe's answer arrived.
    """

    def __init__(self, student: Any, probe: Callable, *args: Any, timeout: float) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.returned_at: float | None = None
        self._thread = threading.Thread(
            target=self._run, args=(student, probe, args, timeout), name="grader-background", daemon=True
        )
        self._thread.start()

    def _run(self, student: Any, probe: Callable, args: tuple, timeout: float) -> None:
        try:
            self.value = student.run(probe, *args, timeout=timeout)
        except BaseException as error:  # handed to the test's thread by result()
            self.error = error
        finally:
            self.returned_at = time.monotonic()

    def done(self) -> bool:
        return self.returned_at is not None

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return self.done()

    def result(self) -> Any:
        """What the probe returned, once it has (the call's own timeout bounds the wait); a StudentError it
        raised (a crash, a timeout) is raised here."""
        self._thread.join()
        if isinstance(self.error, StudentError):
            raise self.error
        if self.error is not None:
            raise RuntimeError(say(f"the grader's call failed: {self.error!r}",
                                   f"评分程序的调用失败了：{self.error!r}")) from self.error
        return self.value
