"""A 'pool' that starts a new thread for every task."""

import threading
from collections.abc import Callable
from typing import Any


class Thread_pool:
    def __init__(self, n: int) -> None:
        self.threads: list[threading.Thread] = []

    def apply_async(self, fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        thread = threading.Thread(target=fun, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
