"""Redis lists as a news feed (newest first) and as a job queue (first in, first out)."""

import redis


def feed_key(user: str) -> str:
    """Where the feed of `user` lives: feed:<user>."""
    return f"feed:{user}"


def queue_key(queue: str) -> str:
    """Where the job queue `queue` lives: queue:<queue>."""
    return f"queue:{queue}"


def post(r: redis.Redis, user: str, message: str, keep: int = 50) -> None:
    """Put `message` at the front of the feed of `user`, keeping only the `keep` newest messages."""
    # TODO(task 2): lpush the message, then drop the oldest messages (rpop) beyond `keep`.
    raise NotImplementedError("task 2")


def latest(r: redis.Redis, user: str, count: int) -> list[str]:
    """The `count` newest messages of the feed of `user`, newest first."""
    # TODO(task 2): return the `count` newest messages with lrange.
    raise NotImplementedError("task 2")


def enqueue(r: redis.Redis, queue: str, *jobs: str) -> int:
    """Add `jobs` at the back of the queue, in order; return the queue's length."""
    # TODO(task 2): rpush the jobs and return the queue's length.
    raise NotImplementedError("task 2")


def next_job(r: redis.Redis, queue: str) -> str | None:
    """Take the job that has waited longest off the queue; None when the queue is empty."""
    # TODO(task 2): lpop the job at the front of the queue.
    raise NotImplementedError("task 2")


def cancel(r: redis.Redis, queue: str, job: str, every: bool = False) -> int:
    """Remove the copy of `job` enqueued last (or, with every=True, all its copies); return how many went."""
    # TODO(task 2): lrem the newest copy of job (or every copy); mind the sign of the count.
    raise NotImplementedError("task 2")
