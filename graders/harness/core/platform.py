"""What differs between Linux, macOS and Windows, in one place: process trees, limits, stack dumps, users.

Nothing POSIX-only is imported at module load (`pwd`, `grp` and `resource` are imported where used), so the
harness loads on Windows. Linux is where it is strongest: /proc gives the worker's tree without a library, and
a child subreaper keeps double-forked daemons inside that tree. Elsewhere psutil (a dependency of the grading
environment) walks the tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import signal
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO

LINUX = sys.platform.startswith("linux")
POSIX = os.name == "posix"
PROC = Path("/proc")


def has_proc() -> bool:
    return LINUX and (PROC / "self" / "stat").exists()


def become_subreaper() -> None:
    """Linux: orphans of this process's descendants are re-parented to it instead of to init, so a daemon
    that the student's code double-forks stays in the tree that `kill_tree` ends."""
    if not LINUX:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _children_from_proc(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return children
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            children += [int(child) for child in (task / "children").read_text().split()]
    return children


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux, from /proc)."""
    return _children_from_proc(pid) if has_proc() else []


def set_dumpable(dumpable: bool) -> None:
    """Linux: whether processes of the same user may ptrace this one or read its memory (PR_SET_DUMPABLE)."""
    if not LINUX:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(4, int(dumpable), 0, 0, 0)


def descendants(root: int) -> list[int]:
    """Every process below `root`, nearest first."""
    if has_proc():
        found, queue = [], [root]
        while queue:
            children = _children_from_proc(queue.pop(0))
            found += children
            queue += children
        return found
    try:
        import psutil
    except ImportError:
        return []
    try:
        return [child.pid for child in psutil.Process(root).children(recursive=True)]
    except psutil.Error:
        return []


def kill_tree(root: int, *, include_root: bool = True) -> None:
    """SIGKILL `root` and everything below it, including children that left its process group.

    On POSIX the tree is frozen first (SIGSTOP, until no new process appears), so a fork loop cannot outrun
    the walk; then every process is killed.
    """
    if not POSIX:
        for pid in [*descendants(root), *([root] if include_root else [])]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)  # TerminateProcess on Windows
        return
    stopped: list[int] = []
    for _ in range(100):
        fresh = [pid for pid in descendants(root) if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        stopped += fresh
    for pid in reversed(stopped):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if include_root:
        with contextlib.suppress(OSError):
            os.killpg(root, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(root, signal.SIGKILL)


def tree_usage(root: int) -> tuple[int, int]:
    """(resident bytes, number of processes) of `root` and its descendants, read from outside.

    Forked children share most of their pages with the parent: each process counts its proportional share
    (Pss, Linux), so a pool of forks is not charged many times for the same memory.
    """
    pids = [root, *descendants(root)]
    if has_proc():
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += _proportional_bytes(pid)
        return total, len(pids)
    try:
        import psutil
    except ImportError:
        return 0, len(pids)
    resident = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            resident += psutil.Process(pid).memory_info().rss
    return resident, len(pids)


def _proportional_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return int((PROC / str(pid) / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Limits:
    """What one check's student code may use. Set `GRADE_LIMITS=memory_mib=2048,processes=128` (or
    `--limits` of pytest) to change them; the README lists them for students.

    Memory and processes are watched by the grader from outside (resident memory and process count of the
    worker's tree); CPU time, file size and open files are the kernel's limits in the worker (POSIX).
    """

    memory_mib: int = 1024
    processes: int = 64
    cpu_seconds: int = 120
    file_mib: int = 64
    open_files: int = 1024

    @classmethod
    def parse(cls, text: str) -> Limits:
        values = {}
        names = {field.name for field in fields(cls)}
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            name, _, number = part.partition("=")
            if name.strip() not in names or not number.strip().isdigit() or int(number) <= 0:
                raise ValueError(f"{part!r}: limits are {', '.join(sorted(names))}, each a positive whole number")
            values[name.strip()] = int(number)
        return cls(**values)

    @classmethod
    def from_environment(cls) -> Limits:
        return cls.parse(os.environ.get("GRADE_LIMITS", ""))

    def as_text(self) -> str:
        return ",".join(f"{field.name}={getattr(self, field.name)}" for field in fields(self))

    def apply_to_this_process(self) -> None:
        try:
            import resource
        except ImportError:  # Windows: no kernel limits; memory and processes are still watched
            return

        wanted = {
            resource.RLIMIT_CPU: self.cpu_seconds,
            resource.RLIMIT_FSIZE: self.file_mib * 1024 * 1024,
            resource.RLIMIT_NOFILE: self.open_files,
            # A backstop only: the grader watches resident memory. Address space counts every thread's stack
            # reservation, so it is set far above the memory limit.
            resource.RLIMIT_AS: max(self.memory_mib * 8, 8192) * 1024 * 1024,
        }
        for kind, value in wanted.items():
            with contextlib.suppress(ValueError, OSError):
                _, hard = resource.getrlimit(kind)
                soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(kind, (soft, hard))


def register_stack_dump(file: IO[str]) -> None:
    """POSIX: SIGUSR1 makes the process write every thread's stack to `file` (faulthandler). Elsewhere the
    worker's own timer thread writes them just before a call's time runs out (`worker._StackTimer`)."""
    if can_ask_for_stacks():
        faulthandler.register(signal.SIGUSR1, file=file, all_threads=True)


def can_ask_for_stacks() -> bool:
    """True where the grader can make the worker dump its stacks at any moment (SIGUSR1). Elsewhere, or with
    GRADE_STACK_DUMP=timer, the worker dumps them by itself just before each call's time runs out."""
    return hasattr(signal, "SIGUSR1") and os.environ.get("GRADE_STACK_DUMP") != "timer"


def ask_for_stacks(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGUSR1)


def user_switch(user: str) -> dict:
    """Keyword arguments for subprocess.Popen that start a process as `user` (POSIX, as root)."""
    import grp
    import pwd

    record = pwd.getpwnam(user)
    return {"user": record.pw_uid, "group": grp.getgrgid(record.pw_gid).gr_gid, "extra_groups": []}


def chown_to(path: Path, user: str) -> None:
    import pwd

    record = pwd.getpwnam(user)
    os.chown(path, record.pw_uid, record.pw_gid)


def process_start_time(pid: int) -> str | None:
    """A stamp that tells a process apart from a later one with the same pid (clock ticks since boot on
    Linux, the creation time elsewhere), or None when no such process runs."""
    if has_proc():
        try:
            return (PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()[19]
        except (OSError, IndexError):
            return None
    try:
        import psutil
    except ImportError:
        return None
    try:
        return str(int(psutil.Process(pid).create_time() * 100))
    except psutil.Error:
        return None

