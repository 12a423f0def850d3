"""Probes for the queues topic: they run in the worker, next to the student's modules.

They watch the queues the student's code creates (a queue.Queue subclass that records the largest size it
reached), feed items from a generator that stops halfway with the queue empty (the grader then watches the
idle worker from outside: CPU time and context switches), and count what handle() sees: every item, the thread
or process it ran in, and how many ran at once. Consumer processes report in files the grader reads itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.managers
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from graders.harness.core.observe import Reports
from graders.harness.core.probing import Call, Gate, student_module

_RealQueue = queue.Queue


class WatchedQueue(_RealQueue):
    """A queue.Queue that remembers the most items it ever held (updated under the queue's own lock)."""

    made: ClassVar[list[WatchedQueue]] = []

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.peak = 0
        WatchedQueue.made.append(self)

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.peak = max(self.peak, len(self.queue))


@contextlib.contextmanager
def _watching_queues(*modules: str) -> Iterator[list[WatchedQueue]]:
    """Make queue.Queue (and a `Queue` imported from it into the student's modules) a WatchedQueue."""
    WatchedQueue.made = []
    patched: list[tuple[Any, str]] = [(queue, "Queue")]
    for module in filter(None, (sys.modules.get(name) for name in modules)):
        patched += [(module, attribute) for attribute, value in vars(module).items() if value is _RealQueue]
    for owner, attribute in patched:
        setattr(owner, attribute, WatchedQueue)
    try:
        yield WatchedQueue.made
    finally:
        for owner, attribute in patched:
            setattr(owner, attribute, _RealQueue)


class _Feed:
    """The items, produced by a generator that records its thread and, halfway, stops until `resume` is set:
    the consumers have nothing to do, and the grader measures, from outside, what the worker does then."""

    def __init__(self, items: list[int], pause_after: int) -> None:
        self.items = items
        self.pause_after = pause_after
        self.threads: set[int] = set()
        self.produced = 0
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.finished = threading.Event()

    def __iter__(self) -> Iterator[int]:
        for index, item in enumerate(self.items):
            self.threads.add(threading.get_ident())
            if index == self.pause_after:
                self.paused.set()
                self.resume.wait(10)  # no timeout would be cleaner, but a forgotten resume must not hang
            yield item
            self.produced += 1
        self.finished.set()


class _Recorder:
    """handle(item) for thread consumers: records the item, its thread, and who ran at once."""

    def __init__(self, width: int, nap: float, last_nap: float = 0.0, last: Any = None) -> None:
        self.gate = Gate(width, patience=0.5)
        self.nap = nap
        self.last_nap = last_nap
        self.last = last
        self.handled: list[Any] = []
        self.threads: dict[int, bool] = {}  # ident -> daemon
        self._lock = threading.Lock()

    def __call__(self, item: Any) -> None:
        with self.gate:
            time.sleep(self.last_nap if item == self.last and self.last_nap else self.nap)
        with self._lock:
            self.handled.append(item if isinstance(item, (int, str, type(None))) else repr(item)[:100])
            self.threads[threading.get_ident()] = threading.current_thread().daemon

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.handled)


def _alive(idents: set[int]) -> int:
    return sum(1 for thread in threading.enumerate() if thread.ident in idents and thread.is_alive())


def _items(count: int, seed: int) -> list[int]:
    return [seed * 1000 + index for index in range(count)]


@dataclass
class _Session:
    """A run of the student's function that spans two probe calls: started, paused halfway, finished."""

    call: Call
    feed: _Feed
    handle: _Recorder
    watching: contextlib.ExitStack
    made: list[WatchedQueue] = field(default_factory=list)


_session: _Session | None = None


def _start(function: str, feed: _Feed, handle: _Recorder, *args: Any) -> bool:
    """Start the student's `function` on the feed; return once the consumers have emptied the queue at the
    pause (True), or after 3 s if they never do (False)."""
    global _session
    module = student_module("pipeline")
    watching = contextlib.ExitStack()
    made = watching.enter_context(_watching_queues("pipeline"))
    call = Call(getattr(module, function), feed, handle, *args)
    _session = _Session(call, feed, handle, watching, made)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and not (feed.paused.is_set() and handle.done >= feed.pause_after):
        call.wait(0.01)  # raises the student's error, if the call ended with one
    if not feed.paused.is_set() or handle.done < feed.pause_after:
        return False
    time.sleep(0.05)  # the consumers go back to get() and wait there
    return True


def _finish() -> tuple[_Session, bool]:
    """Let the feed go on; wait for the call to return (up to 3 s, then 1 s after the last item)."""
    session = _session
    session.feed.resume.set()
    try:
        returned = session.call.wait_after(session.feed.finished, limit=3.0, grace=1.0)
    finally:
        session.watching.close()
    return session, returned


def pipeline_start(count: int, maxsize: int, seed: int) -> bool:
    """run_pipeline over `count` items, up to the pause halfway (the grader then watches the idle worker)."""
    items = _items(count, seed)
    return _start("run_pipeline", _Feed(items, pause_after=count // 2), _Recorder(width=1, nap=0.005), maxsize)


def pipeline_finish() -> dict:
    session, returned = _finish()
    handle, feed = session.handle, session.feed
    return {
        "items": feed.items,
        "returned": returned,
        "done_at_return": handle.done if returned else None,
        "handled": list(handle.handled),
        "caller": session.call.ident,
        "handle_threads": sorted(handle.threads),
        "feed_threads": sorted(feed.threads),
        "produced": feed.produced,
        "queues": [[q.maxsize, q.peak] for q in session.made],
        "left_running": _alive((set(handle.threads) | feed.threads) - {session.call.ident}) if returned else None,
    }


def feed_and_wait_trace(count: int, workers: int, seed: int) -> dict:
    """feed_and_wait with `workers` workers and a handle that naps; what was done when it returned."""
    items = _items(count, seed)
    handle = _Recorder(width=workers, nap=0.02, last=items[-1], last_nap=0.1)
    call = Call(student_module("pipeline").feed_and_wait, items, handle, workers)
    returned = call.wait(1.5)
    done_at_return = handle.done
    return {
        "items": items,
        "returned": returned,
        "done_at_return": done_at_return,
        "handled": sorted(handle.handled, key=repr),
        "threads": len(handle.threads),
        "daemon": all(handle.threads.values()),
        "peak": handle.gate.peak,
    }


def consumers_start(count: int, consumers: int, maxsize: int, seed: int) -> bool:
    """run_consumers up to the pause halfway, with a slow last item."""
    items = _items(count, seed)
    handle = _Recorder(width=consumers, nap=0.01, last=items[-1], last_nap=0.1)
    return _start("run_consumers", _Feed(items, pause_after=count // 2), handle, consumers, maxsize)


def consumers_finish() -> dict:
    session, returned = _finish()
    handle, feed, call = session.handle, session.feed, session.call
    done_at_return = handle.done
    idents = set(handle.threads) - {call.ident}
    return {
        "items": feed.items,
        "returned": returned,
        "done_at_return": done_at_return,
        "handled": sorted(handle.handled, key=repr),
        "caller": call.ident,
        "threads": len(idents),
        "peak": handle.gate.peak,
        "produced": feed.produced,
        "queues": [[q.maxsize, q.peak] for q in session.made],
        "waiting": _alive(idents),
    }


# -- consumers in child processes --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildHandle:
    """handle(item) for consumer processes: reports the item and its pid; holds until `width` run at once.

    Everything it needs travels with it (it is pickled into each consumer at start()), so it works under
    fork, forkserver and spawn alike."""

    reports: Reports
    width: int
    in_flight: Any  # multiprocessing.Value: handle() calls running now, across the consumer processes
    peak: Any
    gave_up: Any  # set once a handle() waited in vain for the others

    def __call__(self, item: Any) -> None:
        with self.in_flight.get_lock():
            self.in_flight.value += 1
            self.peak.value = max(self.peak.value, self.in_flight.value)
        deadline = time.monotonic() + 4.0  # the other consumer may still be starting (spawn imports a lot)
        while self.peak.value < self.width and not self.gave_up.value:
            if time.monotonic() > deadline:
                self.gave_up.value = 1
            time.sleep(0.002)
        time.sleep(0.01)
        with self.in_flight.get_lock():
            self.in_flight.value -= 1
        self.reports.add("handled", item if isinstance(item, (int, str, type(None))) else repr(item)[:100], os.getpid())


def process_pipeline_trace(count: int, consumers: int, maxsize: int, seed: int) -> dict:
    """run_process_pipeline with a ChildHandle; which Manager queues were made; the grader reads the reports."""
    items = _items(count, seed)
    reports = Reports.fresh()
    handle = ChildHandle(reports, consumers, *(multiprocessing.Value("i", 0) for _ in range(3)))
    manager_queues: list[Any] = []
    real_manager_queue = multiprocessing.managers.SyncManager.Queue

    def manager_queue(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager_queues.append(args[0] if args else kwargs.get("maxsize", 0))
        return real_manager_queue(self, *args, **kwargs)

    module = student_module("process_pipeline")
    multiprocessing.managers.SyncManager.Queue = manager_queue
    cannot_send = None
    try:
        call = Call(module.run_process_pipeline, items, handle, consumers, maxsize)
        try:
            returned = call.wait(8.0)
        except TypeError as error:
            if manager_queues or "pickle" not in str(error):
                raise
            # spawn and forkserver pickle a Process's arguments: a queue.Queue (its locks) cannot be sent.
            returned, cannot_send = True, str(error)[:200]
    finally:
        multiprocessing.managers.SyncManager.Queue = real_manager_queue
    if returned:
        reports.wait_for("handled", count + 1, timeout=0.2)  # the last reports may still be on their way
    return {
        "items": items,
        "me": os.getpid(),
        "returned": returned,
        "cannot_send": cannot_send,
        "folder": reports.folder,
        "peak": handle.peak.value,
        "manager_queues": manager_queues,
    }
