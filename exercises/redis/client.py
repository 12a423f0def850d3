"""Open the client yourself: the outline's `re = redis.Redis(host=..., port=..., db=...)`, from a URL."""

import os

import redis


def connect() -> redis.Redis:
    """A client for the Redis database named by the environment variable REDIS_URL, e.g. redis://127.0.0.1:6379/3.

    Its replies are str, not bytes: r.get(...) gives "Sam", never b"Sam".
    """
    # TODO(task 7): read os.environ["REDIS_URL"] when connect() is called; build the client on that host, port and
    # database number (redis.Redis.from_url, or redis.Redis(host=..., port=..., db=...)) with decode_responses=True.
    raise NotImplementedError("task 7")
