"""Facts about the worker that the grader reads from outside: the kernel's view of its processes, and
reports that child processes leave on disk.

The student's code shares the worker with the probes and can rewrite anything there (time, threading, the
probes' own frames), so a count taken inside the worker is only as good as the student's goodwill. The
kernel's view of the process is not theirs to rewrite: how many threads it has, how much CPU time it used,
how many files it holds open, whether a child still runs. Every function takes a pid (`student.pid` for the
worker) and reads /proc on Linux, psutil elsewhere; it returns None where neither can tell, and a grader then
falls back to a weaker check or says that it could not look, never failing the student for it.

`Reports` is how child processes tell the grader what they did under any start method (fork, forkserver,
spawn): a folder in the worker's working directory, one small JSON file per fact. A child started by spawn
or forkserver inherits no globals, so the callable it runs carries the folder's path with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    """Whether this machine has a /proc to read facts from."""
    return (PROC / "self" / "task").is_dir()


def _process(pid: int):
    """psutil's handle on `pid` where there is no /proc, or None."""
    try:
        import psutil

        return psutil.Process(pid)
    except Exception:  # no psutil, no such process, no access
        return None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # after "(comm)", which may hold spaces: state, ppid, ...


def running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie has ended: it only waits for its parent to reap it)."""
    if available():
        fields = _stat_fields(pid)
        return fields is not None and fields[0] not in ("Z", "X")
    process = _process(pid)
    with contextlib.suppress(Exception):
        return process is not None and process.status() != "zombie"
    return False


def as_seen_here(root: int | None, pids: list[int]) -> list[int]:
    """`pids` as the worker's code saw them (os.getpid() in a child), as this process sees them.

    They differ when a class's sandbox gives the worker a pid namespace of its own: each process below `root`
    names its pid in every namespace on the `NSpid:` line of its status. A pid no process below `root` has
    any more belongs to a process that ended. Without namespaces (or /proc) the pids are the same."""
    if root is None or not available():
        return list(pids)
    from graders.harness.core import platform

    outer: dict[int, int] = {}
    for pid in [root, *platform.descendants(root)]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in (PROC / str(pid) / "status").read_text().splitlines():
                if line.startswith("NSpid:"):
                    outer[int(line.split()[-1])] = pid
    return [outer[pid] for pid in pids if pid in outer]


def still_running(pids: list[int], grace: float, root: int | None = None) -> list[int]:
    """The pids still running after waiting up to `grace` seconds for them to end (a signal takes a moment).
    With `root` (the worker's pid), `pids` are those its code saw: see `as_seen_here`."""
    pids = as_seen_here(root, pids) if root is not None else pids
    deadline = time.monotonic() + grace
    alive = [pid for pid in pids if running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [pid for pid in alive if running(pid)]
    return alive


def _fact(pid: int | None, from_proc: Callable[[int], Any], from_psutil: Callable[[Any], Any]) -> Any:
    """One fact about `pid`: from /proc where there is one, else from psutil; None where neither can tell."""
    if pid is None:
        return None
    if available():
        try:
            return from_proc(pid)
        except (OSError, ValueError, IndexError):
            return None
    process = _process(pid)
    try:
        return None if process is None else from_psutil(process)
    except Exception:  # psutil's AccessDenied, NoSuchProcess...
        return None


def age(pid: int | None) -> float | None:
    """How many seconds ago process `pid` started (to the clock tick on Linux)."""

    def from_proc(pid: int) -> float | None:
        fields = _stat_fields(pid)
        if fields is None:
            return None
        uptime = float((PROC / "uptime").read_text().split()[0])
        return uptime - int(fields[19]) / _TICKS  # starttime, in clock ticks after boot

    return _fact(pid, from_proc, lambda process: time.time() - process.create_time())


def threads(pid: int | None) -> int | None:
    """The number of threads of process `pid`, as the kernel counts them (also threads not made by `threading`)."""
    return _fact(pid, lambda pid: len(os.listdir(PROC / str(pid) / "task")), lambda process: process.num_threads())


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time that process `pid` has used so far, all its threads together."""

    def from_proc(pid: int) -> float | None:
        fields = _stat_fields(pid)
        return None if fields is None else (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime

    return _fact(pid, from_proc, lambda process: sum(process.cpu_times()[:2]))


def thread_cpu_seconds(pid: int | None) -> dict[int, float] | None:
    """User plus system CPU time of each thread of process `pid` that still runs, by thread id.

    A thread that has ended is no longer listed (its time stays in the process's `cpu_seconds`): read while
    the threads you want to see are alive."""

    def from_proc(pid: int) -> dict[int, float]:
        found = {}
        for task in os.listdir(PROC / str(pid) / "task"):
            try:
                fields = (PROC / str(pid) / "task" / task / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # a thread that ended meanwhile
            found[int(task)] = (int(fields[11]) + int(fields[12])) / _TICKS
        return found

    return _fact(pid, from_proc, lambda process: {t.id: t.user_time + t.system_time for t in process.threads()})


def tree_cpu_seconds(pid: int | None) -> dict[int, float]:
    """CPU time (user plus system) of every process below `pid`, by pid; those that cannot be read are left out.

    A child that has ended but not been reaped yet (a zombie) still shows its time."""
    if pid is None:
        return {}
    from graders.harness.core import platform

    found = {}
    for child in platform.descendants(pid):
        seconds = cpu_seconds(child)
        if seconds is not None:
            found[child] = seconds
    return found


def open_files(pid: int | None) -> int | None:
    """The number of file descriptors process `pid` has open (sockets included; handles on Windows)."""
    return _fact(pid, lambda pid: len(os.listdir(PROC / str(pid) / "fd")),
                 lambda process: process.num_handles() if os.name == "nt" else process.num_fds())


def context_switches(pid: int) -> int | None:
    """Context switches so far, summed over the threads of `pid` that still exist.

    A thread blocked in a lock, a queue's get() or select() makes none; one that polls with a short sleep
    makes one per sleep, however little CPU it uses."""

    def from_proc(pid: int) -> int:
        total = 0
        for task in os.listdir(PROC / str(pid) / "task"):
            try:
                status = (PROC / str(pid) / "task" / task / "status").read_text()
            except OSError:
                continue  # a thread that ended meanwhile
            for line in status.splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        return total

    return _fact(pid, from_proc, lambda process: sum(process.num_ctx_switches()))


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


def least_busy(pid: int | None, patience: float, quiet: float, window: float = 0.2) -> float | None:
    """The least share of one core that the threads of `pid` wanted (as `busy` reads it) over consecutive windows
    of `window` s, ending at the first below `quiet`: code that settles is seen to as soon as it does, while code
    that keeps a CPU busy pays the whole `patience` (at least one window)."""
    least = None
    deadline = time.monotonic() + patience
    while True:
        share = busy(pid, window)
        if share is None:
            return least
        least = share if least is None else min(least, share)
        if least < quiet or time.monotonic() + window > deadline + 0.01:
            return least


def idle(pid: int | None, seconds: float = 0.2) -> bool:
    """True when no thread of `pid` wanted a CPU at any moment of the next `seconds` (sampled every 10 ms from
    the threads' states in /proc): everything it runs is blocked, in recv, accept, a lock or a sleep.

    A thread that is only starved of CPU on a busy machine is in state R (runnable) all the while, so a slow
    machine never reads as idle. (CPU or run-queue times would not do: the kernel adds them up only when a
    thread gets a CPU, and a starved one may get none for the whole window.) False where the states cannot
    be read: the caller then waits its full patience.
    """
    if pid is None or not available():
        return False
    deadline = time.monotonic() + seconds
    while True:
        try:
            tasks = os.listdir(PROC / str(pid) / "task")
        except OSError:
            return False
        for task in tasks:
            try:
                state = (PROC / str(pid) / "task" / task / "stat").read_text().rpartition(")")[2].split()[0]
            except (OSError, IndexError):
                continue  # a thread that ended meanwhile
            if state in ("R", "D"):
                return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.01)


def settle(read: Callable[[], int | None], target: int, wait: float) -> int | None:
    """Read a count (e.g. `lambda: open_files(pid)`) until it is down to `target` or `wait` seconds passed."""
    deadline = time.monotonic() + wait
    value = read()
    while value is not None and value > target and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


@dataclass(frozen=True)
class Reports:
    """A folder where child processes leave facts (small JSON lists) for the grader.

    Picklable and plain, so it travels to a child inside the callable the child runs. Each fact is a file
    of its own, written under a temporary name and renamed, so a reader never sees half a fact."""

    folder: str

    @classmethod
    def fresh(cls, where: Path | str = ".") -> Reports:
        path = Path(where) / f"reports-{uuid.uuid4().hex[:10]}"
        path.mkdir()
        return cls(str(path))

    def add(self, *fact: Any) -> None:
        name = f"{time.monotonic_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        temporary = Path(self.folder) / f".{name}"
        temporary.write_text(json.dumps(list(fact)))
        temporary.rename(Path(self.folder) / f"{name}.json")

    def read(self) -> list[list]:
        """Every fact so far, oldest first."""
        facts = []
        for path in sorted(Path(self.folder).glob("*.json")):
            try:
                facts.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return facts

    def of(self, kind: str) -> list[list]:
        return [fact[1:] for fact in self.read() if fact and fact[0] == kind]

    def wait_for(self, kind: str, count: int, timeout: float) -> list[list]:
        """The facts of `kind` once there are `count` of them, or whatever there is after `timeout`."""
        deadline = time.monotonic() + timeout
        found = self.of(kind)
        while len(found) < count and time.monotonic() < deadline:
            time.sleep(0.005)
            found = self.of(kind)
        return found

    def within(self, root: Path) -> Reports:
        """The same folder seen from the grader, whose working directory is not the worker's."""
        return Reports(str(Path(root) / self.folder))
