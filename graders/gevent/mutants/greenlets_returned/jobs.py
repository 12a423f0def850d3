"""The outline's gevent basics: spawn a greenlet for each job and wait for all of them with joinall."""

from collections.abc import Callable
from typing import Any

import gevent


def run_all(job: Callable[[int], Any], count: int) -> list[Any]:
    """Run job(0), job(1), ... job(count - 1), each in a greenlet of its own, all at once.

    Return their results in the order of i, once every one of them has finished: [job(0)'s result, ...].
    """
    greenlets = [gevent.spawn(job, i) for i in range(count)]
    gevent.joinall(greenlets)
    return greenlets
