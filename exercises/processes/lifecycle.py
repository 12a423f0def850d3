"""A child process's life: waiting with a deadline, terminating it, and daemon children."""

import multiprocessing
from collections.abc import Callable
from typing import Any


def run_with_deadline(target: Callable[[], Any], seconds: float) -> bool:
    """Run target() in a child process and give it at most `seconds` to end.

    Return True if it ended by itself in time; otherwise terminate it and return False."""
    # TODO(task 3): start the process, join(seconds), and terminate it if is_alive() says it is still running.
    raise NotImplementedError("task 3")


def start_daemon(target: Callable[[], Any]) -> multiprocessing.Process:
    """Start target() in a daemon process, which is ended when its parent ends, and return it."""
    # TODO(task 4): make the process a daemon before you start it; return it without joining.
    raise NotImplementedError("task 4")
