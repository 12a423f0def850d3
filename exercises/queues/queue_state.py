"""What a queue says about itself (qsize, empty, full), and why a decision must not rest on it."""

import queue
import threading  # noqa: F401  (you will need it)
from collections.abc import Callable
from typing import Any


def report(q: Any) -> dict:
    """How the queue looks right now: {"size": q.qsize(), "empty": q.empty(), "full": q.full()}."""
    # TODO(task 6): ask the queue itself with its three methods; it may be a queue.Queue or a Manager().Queue.
    raise NotImplementedError("task 6")


def drain(q: queue.Queue, handle: Callable[[Any], Any], consumers: int) -> None:
    """Take every item already in q, in `consumers` threads at once, calling handle(item) on each; return when
    the queue is empty and every consumer thread has ended. Nothing more is put while drain runs."""
    # TODO(task 6): each thread loops on q.get_nowait() and returns at queue.Empty; start them all, join them all.
    # Not `while not q.empty(): q.get()`: see the README for why.
    raise NotImplementedError("task 6")
