"""The outline's gevent basics: spawn a greenlet for each job and wait for all of them with joinall."""

from collections.abc import Callable
from typing import Any

import gevent  # noqa: F401  (you will need it)


def run_all(job: Callable[[int], Any], count: int) -> list[Any]:
    """Run job(0), job(1), ... job(count - 1), each in a greenlet of its own, all at once.

    Return their results in the order of i, once every one of them has finished: [job(0)'s result, ...].
    """
    # TODO(task 1): gevent.spawn(job, i) for every i, gevent.joinall(...) them, then return each greenlet's .value.
    raise NotImplementedError("task 1")
