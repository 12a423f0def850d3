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
    length = r.lpush(feed_key(user), message)
    for _ in range(length - keep):
        r.rpop(feed_key(user))


def latest(r: redis.Redis, user: str, count: int) -> list[str]:
    """The `count` newest messages of the feed of `user`, newest first."""
    return r.lrange(feed_key(user), 0, count - 1)


def enqueue(r: redis.Redis, queue: str, *jobs: str) -> int:
    """Add `jobs` at the back of the queue, in order; return the queue's length."""
    return r.rpush(queue_key(queue), *jobs)


def next_job(r: redis.Redis, queue: str) -> str | None:
    """Take the job that has waited longest off the queue; None when the queue is empty."""
    return r.lpop(queue_key(queue))


def cancel(r: redis.Redis, queue: str, job: str, every: bool = False) -> int:
    """Remove the copy of `job` enqueued last (or, with every=True, all its copies); return how many went."""
    # The newest copy is the one nearest the tail: a negative count makes LREM search from the tail.
    return r.lrem(queue_key(queue), 0 if every else -1, job)
