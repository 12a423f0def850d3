"""Who made a scratch resource, written into its name, so that a run killed before its clean-up (SIGKILL, a
power cut) is cleaned by the next run, and a live run's resources are never touched.

An owner is `<host>_<pid>_<start>`: a short hash of the machine's name, the grading process's pid and its
start time (base 36), so a pid reused by a later process does not keep a dead run's leftovers alive. Only
owners of this machine are judged: a server shared by several machines (CI runners) keeps what it cannot
judge.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from functools import cache

from graders.harness.core import platform

PATTERN = re.compile(r"([0-9a-f]{4})_([0-9a-z]+)_([0-9a-z]+)")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


@cache
def host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:4]


@cache
def this_run() -> str:
    """The owner tag of this process."""
    pid = os.getpid()
    start = platform.process_start_time(pid) or "0"
    return f"{host()}_{_base36(pid)}_{_base36(int(start))}"


def find(name: str) -> str | None:
    """The owner tag inside a resource's name, if it has one."""
    match = PATTERN.search(name)
    return match[0] if match else None


def is_dead(owner: str) -> bool:
    """True only when `owner` is a process of this machine that is no longer running."""
    match = PATTERN.fullmatch(owner)
    if not match or match[1] != host():
        return False
    pid, start = int(match[2], 36), int(match[3], 36)
    running = platform.process_start_time(pid)
    return running is None or int(running) != start
