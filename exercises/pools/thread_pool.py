"""The outline's Thread_pool: n threads made once and reused for every task (池的概念)."""

import queue  # noqa: F401  (you will need it)
import threading  # noqa: F401  (you will need it)
from collections.abc import Callable
from typing import Any


class Thread_pool:  # the outline's name, kept so that you recognise it
    """n daemon threads that take tasks from one queue: the caller produces tasks, the threads consume them."""

    def __init__(self, n: int) -> None:
        # TODO(task 1): create self.queue = queue.Queue() and start n daemon threads that run self.fun.
        raise NotImplementedError("task 1")

    def fun(self) -> None:
        """What each pool thread runs, forever: take a task, run it, mark it done."""
        # TODO(task 1): loop forever: task, args, kwargs = self.queue.get(); task(*args, **kwargs); task_done().
        raise NotImplementedError("task 1")

    def apply_async(self, fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Hand fun(*args, **kwargs) to the pool and return at once."""
        # TODO(task 1): put (fun, args, kwargs) into self.queue; never start a thread here.
        raise NotImplementedError("task 1")

    def join(self) -> None:
        """Wait until every task handed to the pool so far has finished."""
        # TODO(task 2): wait with self.queue.join(); it returns once task_done() was called for every task.
        raise NotImplementedError("task 2")
