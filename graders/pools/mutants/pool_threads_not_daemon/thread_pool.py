"""The outline's Thread_pool: n threads made once and reused for every task (池的概念)."""

import queue
import threading
from collections.abc import Callable
from typing import Any


class Thread_pool:  # the outline's name, kept so that you recognise it
    """n daemon threads that take tasks from one queue: the caller produces tasks, the threads consume them."""

    def __init__(self, n: int) -> None:
        self.queue: queue.Queue = queue.Queue()
        for _ in range(n):
            threading.Thread(target=self.fun).start()

    def fun(self) -> None:
        """What each pool thread runs, forever: take a task, run it, mark it done."""
        while True:
            task, args, kwargs = self.queue.get()
            task(*args, **kwargs)
            self.queue.task_done()  # after the task has run: join() waits for this

    def apply_async(self, fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Hand fun(*args, **kwargs) to the pool and return at once."""
        self.queue.put((fun, args, kwargs))

    def join(self) -> None:
        """Wait until every task handed to the pool so far has finished."""
        self.queue.join()
