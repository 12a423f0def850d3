"""Probes for the gevent topic: they run in the worker, next to the student's modules.

Every test of this topic that runs the student's code in the worker is marked `gevent`, so the worker ran
gevent's monkey.patch_all() before importing anything else. gevent is imported inside the probes, never at
module level, so that importing this module in the grading process (pytest collects it) brings no gevent in.

The program test (task 4) is different: there the student's echo_server.py must patch by itself, so the
probe starts it as a program in a fresh interpreter, exactly as `python echo_server.py PORT` would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from graders.harness.core import observe
from graders.harness.core.curriculum import say
from graders.harness.core.probing import (
    StudentMistake,
    display_path,
    in_background,
    is_student_file,
    open_fd_count,
    student_module,
    thread_count,
)


class _Labels:
    """Names greenlets by order of first appearance: 0 is the probe's own greenlet, then 1, 2, ..."""

    def __init__(self) -> None:
        from gevent import getcurrent

        self._current = getcurrent
        self.seen = [getcurrent()]  # kept alive, so that no two greenlets share an id

    def here(self) -> int:
        current = self._current()
        if current not in self.seen:
            self.seen.append(current)
        return self.seen.index(current)


def run_all_trace(waits: list[int], token: str, linger: float) -> dict:
    """Call jobs.run_all(job, len(waits)) with a job that logs its start, waits waits[i] times and logs its end.

    Each wait is gevent.sleep(0): the job lets every other ready greenlet run once, in the order they became
    ready. Unlike timed sleeps (libev may run timers that expire together in either order), this makes the
    whole trace exact: all jobs start in spawn order, and the one with the fewest waits ends first. The job
    with the most waits then sleeps `linger` seconds more before it ends: the grader chooses how long the
    whole run takes, so a fixed sleep in place of joining either returns too early or too late.
    """
    import gevent

    labels = _Labels()
    trace: list[tuple] = []

    def job(index: int) -> str:
        trace.append(("start", index, labels.here()))
        for _ in range(waits[index]):
            gevent.sleep(0)
        if waits[index] == max(waits):
            gevent.sleep(linger)
        trace.append(("end", index, labels.here()))
        return f"{token}-{index}"

    run_all = student_module("jobs").run_all
    try:
        result = run_all(job, len(waits))
    except TypeError as error:
        ran_here = [index for kind, index, where in trace if kind == "start" and where == 0]
        if not ran_here:
            raise
        raise StudentMistake(say(
            f"job({ran_here[0]}) ran in the calling greenlet, before any greenlet was spawned, and then gevent "
            f"refused: TypeError: {error}. gevent.spawn(job, i) hands over the function and its argument; "
            "gevent.spawn(job(i)) calls job at once and spawns its result",
            f"job({ran_here[0]}) 在调用者所在的 greenlet 里运行了，那时还没有 spawn 任何 greenlet，随后 gevent 拒绝了："
            f"TypeError: {error}。gevent.spawn(job, i) 交出的是函数和它的参数；gevent.spawn(job(i)) 会当场调用 job，"
            "再把它的返回值拿去 spawn",
        )) from None
    at_return = list(trace)
    if isinstance(result, (list, tuple)) and any(isinstance(value, gevent.Greenlet) for value in result):
        raise StudentMistake(say(
            "run_all returned the Greenlet objects themselves; return what each job returned: g.value of each "
            "greenlet, in the order of i",
            "run_all 返回的是 Greenlet 对象本身；应当返回每个任务的返回值：按 i 的顺序排列的每个 greenlet 的 g.value",
        ))
    if len(at_return) < 2 * len(waits):
        gevent.sleep(linger + 0.05)  # let jobs left running finish: "not joined" versus "never started"
    return {
        "trace": at_return,
        "all": list(trace),
        "result": list(result) if isinstance(result, (list, tuple)) else repr(result),
    }


def pipeline_trace(items: list[Any], linger: float) -> dict:
    """Call producer_consumer.run(items, log); record each log call with its greenlet, and whether run returned.

    Logging the last item takes `linger` seconds: the grader chooses how long the whole run takes, so a fixed
    sleep in place of joining either returns too early or too late."""
    import gevent
    from gevent.exceptions import LoopExit

    labels = _Labels()
    trace: list[tuple] = []

    def log(event: str, item: Any) -> None:
        trace.append((event, item, labels.here()))
        if event == "got" and item == items[-1]:
            # Logging is I/O, and I/O may switch greenlets: a run() that does not wait for the consumer to
            # finish returns right here instead of by the luck of gevent's scheduling order.
            gevent.sleep(linger)

    outcome = "returned"
    try:
        student_module("producer_consumer").run(list(items), log)
    except LoopExit:
        outcome = "blocked forever"
    at_return = list(trace)
    running = [number for number, greenlet in enumerate(labels.seen) if number and not greenlet.dead]
    if len(at_return) < 2 * len(items):
        gevent.sleep(linger + 0.05)  # greenlets left running get their turn: "returned too early" vs "never ran"
    return {"trace": at_return, "all": list(trace), "outcome": outcome, "running": running}


# -- task 3: serve() in this worker -------------------------------------------------------------------------


def start_echo_server(port: int) -> dict:
    """Run the student's serve() on a listening socket; return the threads and open files before it started."""
    before = {"threads": thread_count(), "fds": open_fd_count()}
    server = socket.create_server(("127.0.0.1", port), backlog=200)
    serve = student_module("echo_server").serve
    unwritten: list[NotImplementedError] = []

    def serving() -> None:
        try:
            serve(server)
        except NotImplementedError as error:  # the stub: reported as "not done yet", not as a crashed thread
            unwritten.append(error)

    # threading is patched in this worker: in_background's thread is a greenlet in this one OS thread.
    in_background(serving)
    time.sleep(0.05)  # patched: serve() runs until it waits in accept(), or raises
    if unwritten:
        raise unwritten[0]
    before["fds"] += 1  # the listening socket stays open while the server runs
    return before


def counts() -> dict:
    return {"threads": thread_count(), "fds": open_fd_count()}


def settled_fds(limit: int, seconds: float) -> int:
    """Open files once they are back at `limit` or `seconds` have passed; the server runs meanwhile."""
    deadline = time.monotonic() + seconds
    while (fds := open_fd_count()) > limit and time.monotonic() < deadline:
        time.sleep(0.02)  # patched: the server's greenlets run while this one sleeps
    return fds


def responsive() -> bool:
    """Answers at once unless some greenlet holds the one thread without ever yielding."""
    return True


# -- task 4: echo_server.py as a program ---------------------------------------------------------------------

# Runs the student's file as __main__ in a fresh interpreter, with a stack dump on SIGUSR1 so that the grader
# can say where a blocked program is stuck. Nothing here imports socket, select or threading.
_BOOT = """\
import faulthandler, os, signal, sys
path, port, dump = sys.argv[1:4]
faulthandler.register(signal.SIGUSR1, file=open(dump, "w"), all_threads=True)
sys.argv = [path, port]
sys.path[0] = os.path.dirname(path)
with open(path, encoding="utf-8") as source:
    code = compile(source.read(), path, "exec")
exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
"""

_program: dict[str, Any] = {}


def _student_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)  # the first layer that has it; the module itself is not imported
    if spec is None or not spec.origin or not is_student_file(spec.origin):
        raise StudentMistake(say(f"{module}.py is missing", f"缺少 {module}.py"))
    return Path(spec.origin)


def start_program(port: int, seconds: float) -> dict:
    """Start `python echo_server.py PORT` and wait until it accepts connections, ends, or `seconds` pass."""
    path = _student_file("echo_server")
    workdir = Path.cwd()
    output = (workdir / "program-output.txt").open("wb")
    dump = workdir / "program-stacks.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", _BOOT, str(path), str(port), str(dump)],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    _program.update(process=process, output=workdir / "program-output.txt", dump=dump, path=path)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return {"listening": False, "exit": process.returncode, "output": _tail(_program["output"])}
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return {"listening": True, "pid": process.pid, "file": display_path(path)}
        except OSError:
            time.sleep(0.03)
    return {"listening": False, "exit": None, "output": _tail(_program["output"])}


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    kept = [line for line in text.splitlines() if 'File "<string>"' not in line]  # the grader's launcher
    return "\n".join(kept[-lines:])


def program_facts(patience: float = 0.0) -> dict:
    """The program's OS threads, whether it still runs (after up to `patience` seconds for it to end), and its
    last output."""
    process = _program["process"]
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(patience)
    alive = process.poll() is None
    threads = (observe.threads(process.pid) or 0) if alive else 0
    return {"alive": alive, "exit": process.returncode, "threads": threads, "output": _tail(_program["output"])}


def program_stuck_at() -> dict:
    """Where each thread of the program is in the student's file, from a faulthandler dump, and whether a thread
    waits inside gevent: then the program patched, and its hub runs while its greenlets wait."""
    process, dump = _program["process"], _program["dump"]
    if process.poll() is not None:
        return {"ended": process.returncode, "places": [], "in_gevent": False}
    before = dump.stat().st_size if dump.exists() else 0
    os.kill(process.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and (not dump.exists() or dump.stat().st_size == before):
        time.sleep(0.02)
    time.sleep(0.05)
    text = dump.read_text(errors="replace")[before:] if dump.exists() else ""
    places, in_gevent = [], False
    for block in re.split(r"\n(?=(?:Current thread|Thread) 0x)", text):
        frames = re.findall(r'File "(.+?)", line (\d+) in (\S+)', block)  # innermost first
        in_gevent = in_gevent or (bool(frames) and f"{os.sep}gevent{os.sep}" in frames[0][0])
        for file, line, function in frames:
            if is_student_file(file):
                source = Path(file).read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()
                places.append(f"{display_path(file)}:{line} in {function}: `{source}`")
                break
    return {"ended": None, "places": places, "in_gevent": in_gevent}
