"""Probes for the logging topic: they run in the worker, next to the student's log_setup module.

The console is captured by swapping sys.stderr (and sys.stdout) for StringIOs *before* setup_logger runs:
logging.StreamHandler() takes the sys.stderr of the moment it is created, exactly as the outline writes it,
so the student's code needs no stream parameter and a console handler pointed at stdout shows up as such.
"""

from __future__ import annotations

import io
import logging
import sys

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module


def _describe(owner: logging.Logger, handler: logging.Handler, out: io.StringIO, err: io.StringIO) -> dict:
    stream = getattr(handler, "stream", None)
    return {
        "owner": owner.name,
        "type": type(handler).__name__,
        "level": logging.getLevelName(handler.level),
        "stream": "stderr" if stream is err else "stdout" if stream is out else None,
        "file": getattr(handler, "baseFilename", None),
        "encoding": getattr(handler, "encoding", None),
        "format": getattr(handler.formatter, "_fmt", None) if handler.formatter else None,
    }


def log_every_level(name: str, path: str, rounds: list[list[tuple[str, str]]]) -> dict:
    """For each round: setup_logger(name, path), then log each (level, message) of the round with the logger.

    Reports what reached stderr, stdout and the logger's handlers, and how many handlers each set-up left.
    """
    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    handler_counts = []
    try:
        module = student_module("log_setup")
        for messages in rounds:
            logger = module.setup_logger(name, path)
            if not isinstance(logger, logging.Logger):
                raise StudentMistake(say(f"setup_logger should return the logging.Logger; it returned {logger!r}",
                                         f"setup_logger 应当返回 logging.Logger；它返回的是 {logger!r}"))
            handler_counts.append(len(logger.handlers))
            for level, message in messages:
                getattr(logger, level)(message)
            for handler in logger.handlers:
                handler.flush()
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    return {
        "handler_counts": handler_counts,
        "stderr": err.getvalue(),
        "stdout": out.getvalue(),
        "name": logger.name,
        "registered": logging.getLogger(logger.name) is logger and logger.name != "root",
        "level": logging.getLevelName(logger.level),
        "handlers": [_describe(owner, handler, out, err) for owner, handler in _reached_handlers(logger)],
    }


def _reached_handlers(logger: logging.Logger) -> list[tuple[logging.Logger, logging.Handler]]:
    """The handlers a record of `logger` reaches, each with the logger that holds it: its own and, while it
    propagates, its parents' (logging.basicConfig adds one to the root logger)."""
    found: list[tuple[logging.Logger, logging.Handler]] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += [(current, handler) for handler in current.handlers]
        if not current.propagate:
            break
        current = current.parent
    return found


class _Keep(logging.Handler):
    """Keeps every record it is given, formatted the standard way (which appends the traceback, if any)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.kept: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.append({
            "level": record.levelname,
            "message": record.getMessage(),
            "has_exc_info": bool(record.exc_info),
            "text": self.format(record),
        })


def divide_and_log(name: str, divisors: list[float]) -> dict:
    """divide_ten_by(a, logger) for each divisor, with a logger of the grader's whose records are all kept."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    keep = _Keep()
    logger.addHandler(keep)
    err = io.StringIO()
    real_err = sys.stderr
    sys.stderr = err
    module = student_module("log_setup")
    calls = []
    try:
        for a in divisors:
            keep.kept.clear()
            returned = module.divide_ten_by(a, logger)
            plain = isinstance(returned, (int, float, str, type(None)))
            calls.append({"a": a, "returned": returned if plain else repr(returned), "records": list(keep.kept)})
    finally:
        sys.stderr = real_err
    return {"calls": calls, "stderr": err.getvalue()}
