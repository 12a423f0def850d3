"""A child process's life: waiting with a deadline, terminating it, and daemon children."""

import multiprocessing
from collections.abc import Callable
from typing import Any


def run_with_deadline(target: Callable[[], Any], seconds: float) -> bool:
    """Run target() in a child process and give it at most `seconds` to end.

    Return True if it ended by itself in time; otherwise terminate it and return False."""
    process = multiprocessing.Process(target=target)
    process.start()
    process.join(seconds)  # returns as soon as the child ends, or after `seconds` at the latest
    return not process.is_alive()


def start_daemon(target: Callable[[], Any]) -> multiprocessing.Process:
    """Start target() in a daemon process, which is ended when its parent ends, and return it."""
    process = multiprocessing.Process(target=target, daemon=True)
    process.start()
    return process
