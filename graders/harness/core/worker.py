"""The worker process: runs probes against the student's code, at arm's length from pytest.

Started by `graders.harness.core.student.Student` as

    python -m graders.harness.core.worker --fd N --dump FILE [--gevent] LAYER [LAYER ...]

It reads requests from the inherited pipe `--fd`, calls the probe named in each, and answers with the result
or with what went wrong. On SIGUSR1 it writes every thread's stack to `--dump`, so a grader that gave up
waiting can tell the student where their code was stuck. It never decides a grade.
"""

import sys

if __name__ == "__main__" and "--gevent" in sys.argv:
    # gevent must patch before anything else imports socket, threading or select.
    from gevent import monkey

    monkey.patch_all()

import argparse
import contextlib
import faulthandler
import importlib
import os
import pickle
import select
import signal
from multiprocessing.connection import Connection
from pathlib import Path

from graders.harness.core import probing


def call(module: str, qualname: str, args: tuple, kwargs: dict) -> tuple:
    """Call one probe; every outcome, even SystemExit, becomes a reply."""
    try:
        target = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        value = target(*args, **kwargs)
    except BaseException as error:  # the student's code may raise anything, SystemExit included
        return ("raised", probing.describe(error), probing.take_thread_errors())
    try:
        pickle.dumps(value)
    except Exception as error:
        facts = {
            "type": "TypeError",
            "message": f"your code returned something the grader cannot read back ({error}): "
            "return plain values such as lists, tuples, numbers and strings, not generators or open files",
            "student_mistake": True,
        }
        return ("raised", facts, probing.take_thread_errors())
    return ("ok", value, probing.take_thread_errors())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--dump", type=Path, required=True)
    parser.add_argument("--gevent", action="store_true")
    parser.add_argument("layers", nargs="+", type=Path)
    options = parser.parse_args()

    dump = options.dump.open("w")
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True)
    probing.configure(tuple(options.layers))
    probing.install_thread_error_hook()
    start_method = os.environ.get("GRADE_START_METHOD")
    if start_method:  # as on macOS (spawn) or Linux from Python 3.14 (forkserver): set before student code runs
        import multiprocessing

        multiprocessing.set_start_method(start_method, force=True)

    connection = Connection(options.fd)
    while True:
        # select() first: under gevent it yields to the student's greenlets while we wait.
        select.select([options.fd], [], [])
        try:
            request = connection.recv()
        except EOFError:
            # The grader is gone (killed, or timed out as a whole): take every thread and child with us.
            os.killpg(os.getpgrp(), signal.SIGKILL)
        if request[0] == "exit":
            connection.send(("bye", probing.take_thread_errors()))
            return
        if request[0] == "preload":  # a spare worker, warming up while it waits for a test
            for module in request[1]:
                with contextlib.suppress(Exception):
                    importlib.import_module(module)
            connection.send(("preloaded",))
            continue
        if request[0] == "setup":  # a spare worker adopted by a test: its folder, its stack file
            _, workdir, dump_path, import_hangs = request
            os.chdir(workdir)
            dump = open(dump_path, "w")  # noqa: SIM115 - kept open for faulthandler, like the first one
            faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True)
            os.environ["GRADE_IMPORT_HANGS"] = import_hangs
            connection.send(("ready",))
            continue
        _, module, qualname, args, kwargs = request
        connection.send(call(module, qualname, args, kwargs))


if __name__ == "__main__":
    main()
