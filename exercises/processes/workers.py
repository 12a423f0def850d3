"""Starting processes, waiting for them, and asking a process who it is (the outline's 多进程实现并行)."""

import multiprocessing
from collections.abc import Callable
from typing import Any


def start_and_join(target: Callable[[int], Any], count: int) -> None:
    """Run target(0), target(1), ..., target(count - 1), each in a process of its own, at the same time;
    return when every one of them has ended."""
    # TODO(task 1): start `count` multiprocessing.Process objects, each calling target(i); then join every one.
    raise NotImplementedError("task 1")


def whoami() -> tuple[str, int]:
    """(name, pid) of the process that calls this, as multiprocessing knows it."""
    # TODO(task 2): ask multiprocessing.current_process() for its name and pid.
    raise NotImplementedError("task 2")


def start_named(target: Callable[[], Any], names: list[str]) -> list[multiprocessing.Process]:
    """Start one process per name, called by that name, each running target(); return them, started.

    The caller joins them."""
    # TODO(task 2): create a Process named `name` for every name, start them all, and return the list.
    raise NotImplementedError("task 2")


class MyProcess(multiprocessing.Process):
    """A process that, once started, calls action(0), action(1), ..., action(times - 1) in order."""

    def __init__(self, action: Callable[[int], Any], times: int) -> None:
        # TODO(task 5): initialise the Process part first, keep action and times, and override run() below.
        raise NotImplementedError("task 5")
