"""A wall around each submission while a class is graded (`nox -s grade`).

On Linux, as root, with bubblewrap and setpriv, every worker of a submission runs inside bubblewrap
(`GRADE_WORKER_WRAPPER`, set in that submission's pytest run):

- as a uid of the submission's own (`200000 + its index in the class`, no passwd entry), with no groups,
  no capabilities and no new privileges, so one submission cannot signal another's processes or read
  another's files;
- in a pid namespace of its own (`--unshare-pid --die-with-parent`): it sees only its own processes, and
  when the worker ends, everything it left behind ends with it. (Pids the worker reports are those of its
  namespace: a grader that reads them from outside maps them first, `observe.as_seen_here`. With
  `--no-pid-namespace` a submission sees the machine's process list but still cannot signal or read any
  process of another uid, and every process of its uid is killed when it is done);
- on a filesystem built from an allow-list: the system's read-only folders (/usr, /etc, ...), the Python
  the graders run (prefix and virtual environment), the course's public graders (a copy made for the
  class: no solutions/, mutants, `*_hidden.py`, hidden graders, tests/, .git or bytecode), the
  submission's private copy (read-only, readable by its uid only), a writable folder for its checks'
  files, and a private /tmp and /dev/shm. Everything else (the teacher's home, solutions/, the gradebook,
  other submissions, other copies of the course on the machine) is not there at all.

- in a network namespace of its own, the submission's whole pytest run with it (`unshare --net`): the
  grader reaches the servers a student's code starts on that loopback, and nothing else of the machine's
  network is there. MySQL, Redis and MongoDB are on that loopback behind guards (services/guard.py) in the
  grader's process: the grader passes as root; student code reaches only the scratch database, user and
  logical database of its current test, and never the administrator's account.

Without root, bubblewrap, setpriv or unshare there is no trusted mode: `check()` names what is missing, and the
class run refuses unless the teacher passes `--no-sandbox` for samples they trust.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from graders.harness.core import curriculum
from graders.harness.teacher import export

ROOT = curriculum.ROOT
UID_BASE = 200000
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
PLUGIN = "graders.harness.teacher.sandboxed"  # chowns each check's folder to the submission's uid


def check() -> str | None:
    """None when the trusted mode can run here, else one line saying what is missing."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "the sandbox needs root (to give each submission a uid of its own): run `sudo nox -s grade ...`"
    missing = [tool for tool in ("bwrap", "setpriv", "unshare") if not shutil.which(tool)]
    if missing:
        named = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
        return f"the sandbox needs {named} (Debian/Ubuntu: apt-get install bubblewrap util-linux)"
    for probe_command in (["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "true"],
                          ["unshare", "--net", "true"]):
        try:
            probe = subprocess.run(probe_command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{probe_command[0]} does not start here: {error}"
        if probe.returncode != 0:
            return f"{probe_command[0]} cannot make namespaces here: {probe.stderr.strip()[:200]}"
    return None


def processes_of(uids: range) -> list[int]:
    """Pids of every process on the machine whose real or effective uid is in `uids`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    real, effective = (int(n) for n in line.split()[1:3])
                    if real in uids or effective in uids:
                        found.append(int(entry.name))
                    break
    return found


def kill_uid(uid: int) -> int:
    """SIGKILL every process running as `uid` (stopped first, so a fork loop cannot outrun it)."""
    killed: set[int] = set()
    for _ in range(50):
        fresh = [pid for pid in processes_of(range(uid, uid + 1)) if pid not in killed]
        if not fresh:
            break
        for pid in fresh:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
        for pid in fresh:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        killed.update(fresh)
        time.sleep(0.05)
    return len(killed)


def _python_folders() -> list[Path]:
    """What the graders' interpreter needs: its prefixes and any package folder on its path outside them."""
    folders = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix),
               Path(os.path.realpath(sys.executable)).parent.parent}
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and not path.is_relative_to(ROOT) and path != Path.cwd().resolve():
            folders.add(path)
    kept: list[Path] = []
    for folder in sorted(folders, key=lambda p: len(p.parts)):
        inside_system = any(folder.is_relative_to(system) for system in SYSTEM)
        if folder.exists() and not inside_system and not any(folder.is_relative_to(k) for k in kept):
            kept.append(folder)
    return kept


def _dirs_for(path: Path, made: set[Path]) -> list[str]:
    """bwrap arguments creating every missing parent of `path` as a traversable (0755) folder."""
    args = []
    for parent in reversed(path.parents):
        if parent == Path("/") or parent in made or str(parent) in SYSTEM:
            continue
        made.add(parent)
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _own_copy(source: Path, target: Path, uid: int) -> None:
    """`source` copied to `target`, owned by root, readable by `uid`'s group only, links kept only when they
    stay inside the copy (a link to solutions/ must not be followed by the grader, which reads these files)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    target.chmod(0o750)
    os.chown(target, 0, uid)
    for folder, dirs, files in os.walk(target):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                try:
                    inside = path.resolve(strict=False).is_relative_to(target.resolve())
                except (OSError, RuntimeError):
                    inside = False
                if not inside:
                    path.unlink()
                    path.symlink_to("link-outside-the-submission-removed")
                os.lchown(path, 0, uid)
                continue
            os.chown(path, 0, uid)
            path.chmod(0o750 if path.is_dir() else 0o640)


@dataclass
class ClassView:
    """What every sandbox of one class run sees of the course: built once, read-only, in `scratch`; and the
    services (`upstream`: name → the real server's URL) each submission's guards lead to."""

    scratch: Path
    pid_namespace: bool = True
    upstream: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.host_network = os.open("/proc/self/ns/net", os.O_RDONLY)  # where the guards dial from
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.scratch.chmod(0o700)
        self.graders = self.scratch / "graders"
        if not self.graders.exists():
            shutil.copytree(ROOT / "graders", self.graders, ignore=export.ignore)
            for folder, dirs, files in os.walk(self.graders):
                for name in dirs:
                    (Path(folder) / name).chmod(0o755)
                for name in files:
                    (Path(folder) / name).chmod(0o644)
        self.python = _python_folders()

    def submission(self, index: int, source: Path) -> SubmissionSandbox:
        folder = self.scratch / f"{index:04d}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(mode=0o700)
        uid = UID_BASE + index
        code = folder / "code"
        _own_copy(source, code, uid)
        work = folder / "work"
        work.mkdir()
        work.chmod(0o1777)  # TMPDIR of the run: the grader's check folders and the student's temp files
        return SubmissionSandbox(self, uid, code, work)


@dataclass
class SubmissionSandbox:
    view: ClassView
    uid: int
    code: Path  # the private copy that is graded (--impl)
    work: Path  # writable inside the sandbox: TMPDIR of the pytest run

    def wrapper(self) -> list[str]:
        """The argv prefix put before the worker's command (GRADE_WORKER_WRAPPER)."""
        made: set[Path] = set()
        args = ["bwrap", "--die-with-parent", *(["--unshare-pid"] if self.view.pid_namespace else []),
                "--unshare-ipc", "--unshare-uts", "--new-session", "--hostname", "submission"]
        for folder in SYSTEM:
            if os.path.lexists(folder):
                args += ["--ro-bind", folder, folder] if not os.path.islink(folder) else \
                    ["--symlink", os.readlink(folder), folder]
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--tmpfs", "/tmp"]
        for folder in self.view.python:
            args += [*_dirs_for(folder, made), "--ro-bind", str(folder), str(folder)]
        args += _dirs_for(ROOT / "graders", made)
        args += ["--ro-bind", str(self.view.graders), str(ROOT / "graders")]
        for name in ("curriculum.toml", "pyproject.toml"):
            if (ROOT / name).is_file():
                args += ["--ro-bind", str(ROOT / name), str(ROOT / name)]
        args += [*_dirs_for(self.code, made), "--ro-bind", str(self.code), str(self.code)]
        args += ["--bind", str(self.work), str(self.work)]  # the worker starts in its test's folder, inside it
        args += ["--", "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        return args

    def command(self, argv: list[str]) -> list[str]:
        """The submission's pytest command, in a network namespace of its own."""
        return ["unshare", "--net", "--", *argv]

    def environment(self) -> dict[str, str]:
        """What the submission's pytest run adds to its environment."""
        return {
            "GRADE_GUARDED_URLS": json.dumps(self.view.upstream),  # read once by the plugin, never by a worker
            "GRADE_HOST_NETNS_FD": str(self.view.host_network),
            "GRADE_WORKER_WRAPPER": json.dumps(self.wrapper()),
            "GRADE_SANDBOX_UID": str(self.uid),
            "TMPDIR": str(self.work),
        }

    def end(self) -> int:
        """Kill whatever of this submission still runs; the number of processes killed."""
        return kill_uid(self.uid)
