"""Facts the grader reads from outside the worker: /proc, and reports that child processes leave on disk.

The student's code shares the worker with the probes and can rewrite anything there; what the kernel says
about the worker's process, and files the grader reads itself, it cannot. `student.pid` names the worker.

`Reports` is how child processes tell the grader what they did under any start method (fork, forkserver,
spawn): a folder in the worker's working directory, one small JSON file per fact. A child started by
spawn or forkserver inherits no globals, so the callable it runs carries the folder's path with it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int, task: int | None = None) -> list[str] | None:
    path = f"/proc/{pid}/task/{task}/stat" if task is not None else f"/proc/{pid}/stat"
    try:
        text = Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()  # after "(comm)", which may hold spaces: state, ppid, ...


def running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie has ended: it only waits for its parent to reap it)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def still_running(pids: list[int], grace: float) -> list[int]:
    """The pids still running after waiting up to `grace` seconds for them to end (a signal takes a moment)."""
    deadline = time.monotonic() + grace
    alive = [pid for pid in pids if running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [pid for pid in alive if running(pid)]
    return alive


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process `pid` has used so far, all its threads included."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat


def context_switches(pid: int) -> int:
    """Context switches so far, summed over the threads of `pid` that still exist.

    A thread blocked in a lock, a queue's get() or select() makes none; one that polls with a short sleep
    makes one per sleep, however little CPU it uses."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for task in tasks:
        try:
            status = Path(f"/proc/{pid}/task/{task}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


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
