"""Starting processes, waiting for them, and asking a process who it is (the outline's 多进程实现并行)."""

import multiprocessing
from collections.abc import Callable
from typing import Any


def start_and_join(target: Callable[[int], Any], count: int) -> None:
    """Run target(0), target(1), ..., target(count - 1), each in a process of its own, at the same time;
    return when every one of them has ended."""
    processes = [multiprocessing.Process(target=target, args=(i,)) for i in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


def whoami() -> tuple[str, int]:
    """(name, pid) of the process that calls this, as multiprocessing knows it."""
    me = multiprocessing.current_process()
    return me.name, me.pid


def start_named(target: Callable[[], Any], names: list[str]) -> list[multiprocessing.Process]:
    """Start one process per name, called by that name, each running target(); return them, started.

    The caller joins them."""
    # The name must be given before start(): the child is a copy made at start() and never sees a later rename.
    processes = [multiprocessing.Process(target=target, name=name) for name in names]
    for process in processes:
        process.start()
    return processes


class MyProcess(multiprocessing.Process):
    """A process that, once started, calls action(0), action(1), ..., action(times - 1) in order."""

    def __init__(self, action: Callable[[int], Any], times: int) -> None:
        super().__init__()
        self.action = action
        self.times = times

    def run(self) -> None:
        for i in range(self.times):
            self.action(i)
