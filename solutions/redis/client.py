"""Open the client yourself: the outline's `re = redis.Redis(host=..., port=..., db=...)`, from a URL."""

import os

import redis


def connect() -> redis.Redis:
    """A client for the Redis database named by the environment variable REDIS_URL, e.g. redis://127.0.0.1:6379/3.

    Its replies are str, not bytes: r.get(...) gives "Sam", never b"Sam".
    """
    # from_url takes the host, the port, the database number (the path, /3) and any password from the URL;
    # decode_responses=True makes every reply a str, where the outline calls .decode('utf8') on each one.
    return redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
