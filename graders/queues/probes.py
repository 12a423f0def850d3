"""Probes for the queues topic: they run in the worker, next to the student's modules.

They watch the queues the student's code creates (a queue.Queue subclass that records the largest size it
reached), feed items from a generator that stops halfway with the queue empty (the grader then watches the
idle worker from outside: CPU time and context switches), and count what handle() sees: every item, the thread
or process it ran in, and how many ran at once. Consumer processes report in files the grader reads itself.
"""

from __future__ import annotations

import collections
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

from graders.harness.core.curriculum import say
from graders.harness.core.observe import Reports
from graders.harness.core.probing import Call, Gate, StudentMistake, student_module

_RealQueue = queue.Queue


class WatchedQueue(_RealQueue):
    """A queue.Queue that remembers the most items it ever held (updated under the queue's own lock)."""

    made: ClassVar[list[WatchedQueue]] = []

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.peak = 0
        self.putters: set[threading.Thread] = set()  # the threads that put items
        WatchedQueue.made.append(self)

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.peak = max(self.peak, len(self.queue))
        self.putters.add(threading.current_thread())


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


# -- task 5: Producer and Consumer as threading.Thread subclasses -------------------------------------------


def ready() -> bool:
    """A no-op call: starts the worker, so that the grader can count its threads in /proc before a run."""
    return True


def _overrides(cls: type, name: str) -> bool:
    """Whether `cls` or a class between it and threading.Thread defines `name` itself."""
    return any(name in vars(klass) for klass in cls.__mro__ if klass is not threading.Thread
               and issubclass(klass, threading.Thread))


def thread_classes_shape() -> dict:
    """What the student's Producer and Consumer are: Thread subclasses? with run() and __init__ of their own?"""
    module = student_module("thread_classes")
    shape = {}
    for name in ("Producer", "Consumer"):
        cls = getattr(module, name)
        thread = isinstance(cls, type) and issubclass(cls, threading.Thread)
        shape[name] = {
            "thread": thread,
            "run": thread and _overrides(cls, "run"),
            "init": thread and _overrides(cls, "__init__"),
        }
    return shape


class _Held:
    """handle(item) for task 5: holds the first `width` calls until the grader lets them go (a probe call),
    records every item and the thread it ran in, and which threads were the student's Consumer objects."""

    def __init__(self, width: int, consumer_class: type) -> None:
        self.width = width
        self.consumer_class = consumer_class
        self.holding = 0  # calls held now
        self.taken = 0  # calls that were held (at most `width`)
        self.release = threading.Event()
        self.handled: list[Any] = []
        self.threads: dict[int, str] = {}  # ident -> the class of the thread object
        self.consumers: set[int] = set()  # idents whose thread object is a Consumer
        self._condition = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._condition:
            hold = not self.release.is_set() and self.taken < self.width
            if hold:
                self.taken += 1
                self.holding += 1
                self._condition.notify_all()
        if hold:
            self.release.wait(10)  # the grader lets them go; a grader that never does must not hang the worker
            with self._condition:
                self.holding -= 1
        current = threading.current_thread()
        with self._condition:
            self.handled.append(item if isinstance(item, (int, str, type(None))) else repr(item)[:100])
            self.threads[threading.get_ident()] = type(current).__name__
            if isinstance(current, self.consumer_class):
                self.consumers.add(threading.get_ident())

    def wait_held(self, timeout: float, call: Call) -> int:
        """Wait until `width` calls are held at once (or `timeout`, or the call ended); how many are held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._condition:
                if self.holding >= self.width:
                    return self.holding
                self._condition.wait(0.02)
            call.wait(0)  # an error the call ended with is raised here; one that returned may have left threads
        with self._condition:
            return self.holding


class _ClassFeed:
    """The items; records the threads that take them (a Producer may take them all at once in __init__)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.threads: set[int] = set()
        self.produced = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.threads.add(threading.get_ident())
            yield item
            self.produced += 1


@dataclass
class _ClassSession:
    call: Call
    feed: _ClassFeed
    handle: _Held
    watching: contextlib.ExitStack
    made: list[WatchedQueue]


_class_session: _ClassSession | None = None


def _not_initialised(error: BaseException) -> bool:
    """Thread.start() on an object whose Thread.__init__ never ran: "thread.__init__() not called"."""
    text = str(error)
    return isinstance(error, (RuntimeError, AssertionError)) and "__init__()" in text and "not called" in text


def classes_start(items: list[Any], consumers: int, maxsize: int) -> dict:
    """Start run_threads(items, handle, consumers, maxsize) and return once `consumers` handle() calls are held
    at once (or after 3 s): the grader then counts the worker's threads while they are held."""
    global _class_session
    module = student_module("thread_classes")
    feed = _ClassFeed(list(items))
    handle = _Held(consumers, module.Consumer)
    watching = contextlib.ExitStack()
    made = watching.enter_context(_watching_queues("thread_classes"))
    call = Call(module.run_threads, feed, handle, consumers, maxsize)
    _class_session = _ClassSession(call, feed, handle, watching, made)
    try:
        held = handle.wait_held(3.0, call)
    except BaseException as error:
        handle.release.set()
        watching.close()
        if _not_initialised(error):
            raise StudentMistake(say(
                f"start() raised {type(error).__name__}: {error}. A Producer or Consumer whose __init__ does not call "
                "super().__init__() is not set up as a thread: call super().__init__() first in each __init__",
                f"start() 抛出了 {type(error).__name__}: {error}。__init__ 里没有调用 super().__init__() 的 Producer "
                "或 Consumer 并没有被准备成线程：在每个 __init__ 里先调用 super().__init__()",
            )) from None
        raise
    return {"held": held, "ended": call.wait(0), "queues": [[q.maxsize, q.peak] for q in made]}


def classes_finish() -> dict:
    """Let the held calls go; wait for run_threads to return (a correct one takes milliseconds; 4 s at most)."""
    session = _class_session
    handle, feed, call = session.handle, session.feed, session.call
    ended_while_held = call.wait(0)  # it returned while the grader was still holding its consumers
    handle.release.set()
    try:
        returned = call.wait(4.0)
    finally:
        session.watching.close()
    putters = {thread for q in session.made for thread in q.putters}
    producer_class = student_module("thread_classes").Producer
    workers = (set(handle.threads) | feed.threads | {thread.ident for thread in putters}) - {call.ident}
    return {
        "returned": returned,
        "ended_while_held": ended_while_held,
        "handled": sorted(handle.handled, key=repr),
        "caller": call.ident,
        "handle_threads": sorted(handle.threads),
        "not_consumers": sorted({kind for ident, kind in handle.threads.items() if ident not in handle.consumers}),
        "put_by": sorted({type(thread).__name__ for thread in putters if not isinstance(thread, producer_class)}),
        "caller_put": any(thread.ident == call.ident for thread in putters),
        "produced": feed.produced,
        "queues": [[q.maxsize, q.peak] for q in session.made],
        "left_running": _alive(workers) if returned else None,
    }


# -- task 6: empty(), full() and qsize() -----------------------------------------------------------------------


def _report_of(report: Any, q: Any) -> dict:
    answer = report(q)
    if not isinstance(answer, dict):
        raise StudentMistake(say(f"report(q) should return a dict; it returned {type(answer).__name__}",
                                 f"report(q) 应当返回一个 dict；它返回的是 {type(answer).__name__}"))
    missing = [key for key in ("size", "empty", "full") if key not in answer]
    if missing:
        raise StudentMistake(say(
            f"report(q) returned a dict without the key(s) {missing}: it needs size, empty and full",
            f"report(q) 返回的 dict 缺少键 {missing}：它需要 size、empty 和 full",
        ))
    return {key: answer[key] if isinstance(answer[key], (bool, int)) else repr(answer[key])[:60]
            for key in ("size", "empty", "full")}


def report_answers(states: list[list[int]]) -> list[dict]:
    """report(q) on a queue.Queue(maxsize) holding `count` items, for each [maxsize, count]; and how many items
    each queue still held afterwards."""
    report = student_module("queue_state").report
    answers = []
    for maxsize, count in states:
        q = _RealQueue(maxsize)
        for index in range(count):
            q.put_nowait(f"item {index}")
        answers.append({"answer": _report_of(report, q), "left": q.qsize()})
    return answers


def report_on_manager_queue(maxsize: int, count: int) -> dict:
    """report(q) on a multiprocessing.Manager().Queue(maxsize) holding `count` items: a proxy, with the queue's
    methods and nothing else. What it raised, if it did, is part of the answer."""
    report = student_module("queue_state").report
    with multiprocessing.Manager() as manager:
        q = manager.Queue(maxsize)
        for index in range(count):
            q.put_nowait(f"item {index}")
        try:
            answer, error = _report_of(report, q), None
        except StudentMistake:
            raise
        except Exception as raised:  # the student's error on a proxy: the grader explains it
            answer, error = None, f"{type(raised).__name__}: {raised}"[:200]
        left = q.qsize()
    return {"answer": answer, "error": error, "left": left}


class _Meeting:
    """Where consumers meet when the queue holds fewer items than there are consumers, so that more of them are
    told "there is one" than there are items to take.

    A consumer that asks empty() (or qsize(), or the length of q.queue) and then calls get() can be overtaken
    between the two by another consumer doing the same; CPython seldom switches threads just there, so such a
    race would show only now and then. Holding the first consumer told "not empty" while the queue holds
    `size` < `consumers` items, until `size` + 1 have been told so, makes it happen every time: they all go on
    to take, and one of them finds nothing. Code that takes with get_nowait() never asks, and never waits here;
    code that asks and then takes with get_nowait() waits here once, and goes on."""

    def __init__(self, consumers: int, patience: float = 2.0) -> None:
        self.consumers = consumers
        self.patience = patience
        self.size: int | None = None  # the size the meeting is about, set by its first asker
        self.askers = 0
        self.over = False
        self.met = False
        self._condition = threading.Condition()

    def told(self, size: int) -> None:
        """A consumer was told that the queue holds `size` items."""
        if not 0 < size < self.consumers or self.over:
            return
        with self._condition:
            if self.over or self.size not in (None, size):
                return
            self.size = size
            self.askers += 1
            self._condition.notify_all()
            deadline = time.monotonic() + self.patience
            while self.askers <= size and not self.over and (left := deadline - time.monotonic()) > 0:
                self._condition.wait(left)
            self.met = self.met or self.askers > size
            self.over = True  # once one asker goes on (met or tired of waiting), nobody else is held
            self._condition.notify_all()


class _Items(collections.deque):
    """The racy queue's storage: len(q.queue) and `while q.queue` meet like empty() and qsize() do."""

    meeting: _Meeting

    def __len__(self) -> int:
        size = super().__len__()
        self.meeting.told(size)
        return size


class RacyQueue(_RealQueue):
    """A queue.Queue whose answers about its size are true when given and stale a moment later (see _Meeting)."""

    def __init__(self, consumers: int) -> None:
        self.meeting = _Meeting(consumers)
        super().__init__()

    def _init(self, maxsize: int) -> None:
        self.queue = _Items()
        self.queue.meeting = self.meeting

    def _qsize(self) -> int:
        return collections.deque.__len__(self.queue)  # the queue's own bookkeeping never meets

    def _told(self) -> int:
        with self.mutex:
            size = self._qsize()
        self.meeting.told(size)  # outside the lock: the others must be able to ask meanwhile
        return size

    def empty(self) -> bool:
        return self._told() == 0

    def qsize(self) -> int:
        return self._told()


def drain_trace(items: list[Any], consumers: int) -> dict:
    """drain(q, handle, consumers) on a RacyQueue holding `items`; what was handled, where, and whether it returned."""
    q = RacyQueue(consumers)
    for item in items:
        q.put_nowait(item)
    handle = _Recorder(width=consumers, nap=0.005)
    handle.gate.patience = 2.0
    call = Call(student_module("queue_state").drain, q, handle, consumers)
    returned = call.wait(4.0)
    idents = set(handle.threads) - {call.ident}
    return {
        "returned": returned,
        "handled": sorted(handle.handled, key=repr),
        "caller_handled": call.ident in handle.threads,
        "threads": len(idents),
        "peak": handle.gate.peak,
        "left": q._qsize(),
        "met": q.meeting.met,
        "still_running": _alive(idents),
    }
