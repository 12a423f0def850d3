"""Probes for the queues topic: they run in the worker, next to the student's modules.

They watch the queues the student's code creates (a queue.Queue subclass that records the largest size it
reached), feed items from a generator that pauses with the queue empty (to measure the CPU a waiting consumer
burns), and count what handle() sees: every item, the thread or process it ran in, and how many ran at once.
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
from pathlib import Path
from typing import Any, ClassVar

from graders.harness.core.probing import Call, Gate, student_module

_RealQueue = queue.Queue
IDLE_PAUSE = 0.2  # seconds the items stop coming halfway, while the CPU and the queue's callers are counted


class WatchedQueue(_RealQueue):
    """A queue.Queue that remembers the most items it ever held (updated under the queue's own lock), and
    counts how often it was asked for an item or whether it is empty: a consumer that polls in a loop asks
    thousands of times a second, one that blocks in get() asks once per item."""

    made: ClassVar[list[WatchedQueue]] = []
    asked: ClassVar[int] = 0  # over every watched queue: the quiet pause reads it before and after

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.peak = 0
        WatchedQueue.made.append(self)

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.peak = max(self.peak, len(self.queue))

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        WatchedQueue.asked += 1
        return super().get(block, timeout)

    def empty(self) -> bool:
        WatchedQueue.asked += 1
        return super().empty()

    def qsize(self) -> int:
        WatchedQueue.asked += 1
        return super().qsize()


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
    """The items, produced by a generator that records its thread and pauses once with nothing to consume."""

    def __init__(self, items: list[int], pause_after: int, pause: float) -> None:
        self.items = items
        self.pause_after = pause_after
        self.pause = pause
        self.threads: set[int] = set()
        self.idle_cpu = 0.0
        self.idle_asks = 0
        self.produced = 0
        self.finished = threading.Event()

    def __iter__(self) -> Iterator[int]:
        for index, item in enumerate(self.items):
            self.threads.add(threading.get_ident())
            if index == self.pause_after:
                time.sleep(0.05)  # the consumers finish what is queued...
                cpu, asks = time.process_time(), WatchedQueue.asked
                time.sleep(self.pause)  # ...then wait for more: this process should be idle
                self.idle_cpu = time.process_time() - cpu
                self.idle_asks = WatchedQueue.asked - asks
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


def _running_after(pids: list[int], grace: float) -> list[int]:
    """The pids still running after up to `grace` seconds (a zombie has ended; it waits to be reaped)."""

    def running(pid: int) -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return False
        return stat.rpartition(")")[2].split()[0] not in ("Z", "X")

    deadline = time.monotonic() + grace
    alive = [pid for pid in pids if running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [pid for pid in alive if running(pid)]
    return alive


def _alive(idents: set[int]) -> int:
    return sum(1 for thread in threading.enumerate() if thread.ident in idents and thread.is_alive())


def _items(count: int, seed: int) -> list[int]:
    return [seed * 1000 + index for index in range(count)]


def pipeline_trace(count: int, maxsize: int, seed: int) -> dict:
    """run_pipeline over `count` items with a pause halfway, a slow handle, watched queues."""
    items = _items(count, seed)
    feed = _Feed(items, pause_after=count // 2, pause=IDLE_PAUSE)
    handle = _Recorder(width=1, nap=0.005)
    module = student_module("pipeline")
    with _watching_queues("pipeline") as made:
        call = Call(module.run_pipeline, feed, handle, maxsize)
        returned = call.wait_after(feed.finished, limit=3.0, grace=1.0)
    return {
        "items": items,
        "returned": returned,
        "done_at_return": handle.done if returned else None,
        "handled": list(handle.handled),
        "caller": call.ident,
        "handle_threads": sorted(handle.threads),
        "feed_threads": sorted(feed.threads),
        "idle_cpu": feed.idle_cpu,
        "idle_asks": feed.idle_asks,
        "produced": feed.produced,
        "queues": [[q.maxsize, q.peak] for q in made],
        "left_running": _alive((set(handle.threads) | feed.threads) - {call.ident}) if returned else None,
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


def consumers_trace(count: int, consumers: int, maxsize: int, seed: int) -> dict:
    """run_consumers with a pause halfway and a slow last item; watched queues, threads left running."""
    items = _items(count, seed)
    feed = _Feed(items, pause_after=count // 2, pause=IDLE_PAUSE)
    handle = _Recorder(width=consumers, nap=0.01, last=items[-1], last_nap=0.1)
    module = student_module("pipeline")
    with _watching_queues("pipeline") as made:
        call = Call(module.run_consumers, feed, handle, consumers, maxsize)
        returned = call.wait_after(feed.finished, limit=3.0, grace=1.0)
        done_at_return = handle.done
    idents = set(handle.threads) - {call.ident}
    return {
        "items": items,
        "returned": returned,
        "done_at_return": done_at_return,
        "handled": sorted(handle.handled, key=repr),
        "caller": call.ident,
        "threads": len(idents),
        "peak": handle.gate.peak,
        "idle_cpu": feed.idle_cpu,
        "idle_asks": feed.idle_asks,
        "produced": feed.produced,
        "queues": [[q.maxsize, q.peak] for q in made],
        "waiting": _alive(idents),
    }


# -- consumers in child processes --------------------------------------------------------------------------

_writer: Any = None
_in_flight: Any = None  # multiprocessing.Value: handle() calls running now, across the consumer processes
_peak: Any = None
_gave_up: Any = None  # multiprocessing.Value: set once a handle() waited in vain for the others
_width = 1


def handle_in_child(item: Any) -> None:
    """handle(item) for consumer processes: reports the item and its pid; holds until `_width` run at once."""
    with _in_flight.get_lock():
        _in_flight.value += 1
        _peak.value = max(_peak.value, _in_flight.value)
    deadline = time.monotonic() + 1.0  # the other consumer process may still be connecting to the manager
    while _peak.value < _width and not _gave_up.value:
        if time.monotonic() > deadline:
            _gave_up.value = 1
        time.sleep(0.002)
    time.sleep(0.01)
    with _in_flight.get_lock():
        _in_flight.value -= 1
    _writer.send((item if isinstance(item, (int, str, type(None))) else repr(item)[:100], os.getpid()))


def process_pipeline_trace(count: int, consumers: int, maxsize: int, seed: int) -> dict:
    """run_process_pipeline with handle_in_child; which queues were made, which processes handled what."""
    global _writer, _in_flight, _peak, _gave_up, _width
    items = _items(count, seed)
    reader, _writer = multiprocessing.Pipe(duplex=False)
    _in_flight, _peak, _gave_up = (multiprocessing.Value("i", 0) for _ in range(3))
    _width = consumers
    manager_queues: list[Any] = []
    real_manager_queue = multiprocessing.managers.SyncManager.Queue

    def manager_queue(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager_queues.append(args[0] if args else kwargs.get("maxsize", 0))
        return real_manager_queue(self, *args, **kwargs)

    module = student_module("process_pipeline")
    multiprocessing.managers.SyncManager.Queue = manager_queue
    try:
        with _watching_queues("process_pipeline", "pipeline") as made:
            call = Call(module.run_process_pipeline, items, handle_in_child, consumers, maxsize)
            returned = call.wait(3.0)
    finally:
        multiprocessing.managers.SyncManager.Queue = real_manager_queue
    handled = []
    while reader.poll(0.2 if returned else 0):
        handled.append(reader.recv())
    pids = sorted({pid for _, pid in handled})
    return {
        "items": items,
        "me": os.getpid(),
        "returned": returned,
        "handled": sorted((item for item, _ in handled), key=repr),
        "pids": pids,
        "running_after": _running_after(pids, grace=0.5) if returned else [],
        "peak": _peak.value,
        "manager_queues": manager_queues,
        "plain_queues": len(made),
    }
