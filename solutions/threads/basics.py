"""Starting and joining threads, and I/O-bound work that threads make faster."""

import threading
from collections.abc import Callable
from typing import Any


def start_and_join(target: Callable[[int], Any], count: int) -> None:
    """Run target(0), target(1), ..., target(count - 1), each in its own thread, and return when all are done."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    # Join only after every thread has started: joining inside the first loop would run them one by one.
    for thread in threads:
        thread.join()


def fetch_all(fetch: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fetch(item) for item in items], with the slow, blocking fetches running at the same time."""
    results: list[Any] = [None] * len(items)

    def fetch_into(index: int) -> None:
        results[index] = fetch(items[index])  # each thread writes its own slot: no lock needed

    start_and_join(fetch_into, len(items))
    return results
