"""Facts about the worker process that the grader reads from outside, in /proc/<pid>/.

The student's code shares the worker with the probes and can rewrite anything there (time, threading, the
probes' own frames), so a count taken inside the worker is only as good as the student's goodwill. The
kernel's view of the process is not theirs to rewrite: how many threads it has, how much CPU time it used,
how many files it holds open. Every function takes the worker's pid (`student.pid`) and returns None where
there is no /proc (macOS, Windows) or the process has gone; a grader then falls back to a weaker check or
states that it could not look, never fails the student for it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    """Whether this machine has a /proc to read facts from."""
    return (PROC / "self" / "task").is_dir()


def threads(pid: int | None) -> int | None:
    """The number of threads of process `pid`, as the kernel counts them (also threads not made by `threading`)."""
    if pid is None:
        return None
    try:
        return len(os.listdir(PROC / str(pid) / "task"))
    except OSError:
        return None


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time that process `pid` has used so far, all its threads together."""
    if pid is None:
        return None
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after "(comm)", which may itself hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime and stime, fields 14 and 15 of stat(5)


def open_files(pid: int | None) -> int | None:
    """The number of file descriptors process `pid` has open (sockets included)."""
    if pid is None:
        return None
    try:
        return len(os.listdir(PROC / str(pid) / "fd"))
    except OSError:
        return None


def _runnable_seconds(pid: int) -> float | None:
    """Time the threads of `pid` spent running or waiting for a CPU (schedstat: on-CPU ns, run-queue ns, slices)."""
    total = 0
    try:
        tasks = os.listdir(PROC / str(pid) / "task")
    except OSError:
        return None
    for task in tasks:
        try:
            on_cpu, waiting, _slices = (PROC / str(pid) / "task" / task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile, or a kernel without schedstat
        total += int(on_cpu) + int(waiting)
    return total / 1e9 if total else None


def busy(pid: int | None, seconds: float) -> float | None:
    """How much of the next `seconds` the threads of `pid` wanted a CPU, as a share of one core.

    A thread that spins wants a CPU all the time, even when a busy machine gives it only a small part of one:
    counting the time it waited for a CPU as well as the time it ran makes a spinning loop read about 1.0 however
    loaded the machine is, and a server that sleeps in select() about 0.0. Without schedstat, CPU time alone.
    """
    if pid is None:
        return None
    read = (lambda: _runnable_seconds(pid)) if _runnable_seconds(pid) is not None else (lambda: cpu_seconds(pid))
    before = read()
    started = time.monotonic()
    time.sleep(seconds)
    after = read()
    if before is None or after is None:
        return None
    return (after - before) / (time.monotonic() - started)


def settle(read, target: int, wait: float) -> int | None:
    """Read a count (e.g. `lambda: open_files(pid)`) until it is down to `target` or `wait` seconds passed."""
    deadline = time.monotonic() + wait
    value = read()
    while value is not None and value > target and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value
