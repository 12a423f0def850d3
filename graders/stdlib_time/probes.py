"""Probes for stdlib-time: they run in the worker, next to the student's clock and time_tuples modules.

While a probe runs, the clock readers (datetime.now, utcnow, today, time.time, asctime() without a tuple...)
are replaced by versions that note each call, so that a wrong answer can be explained by the call that caused
it. They are installed before the student's module is imported, so `from datetime import datetime` also gets
them, and taken out again before the probe returns. Datetimes travel as plain data both ways: `unwire` reads
the grader's, `plain` writes the student's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, is_student_file, student_module

REAL_DATETIME = dt.datetime
REAL_DATE = dt.date
_calls: list[str] = []


def _note(call: str) -> None:
    """Note a clock reading made by the student's code (not by the standard library on its behalf)."""
    if is_student_file(sys._getframe(2).f_code.co_filename):
        _calls.append(call)


class _PassesForReal(type):
    """isinstance(x, datetime) in the student's code stays true for the real datetimes the grader passes."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.__mro__[1])


class _SpyDatetime(dt.datetime, metaclass=_PassesForReal):
    @classmethod
    def now(cls, tz=None):
        _note("datetime.now()" if tz is None else "datetime.now(tz)")
        return super().now(tz)

    @classmethod
    def utcnow(cls):
        _note("datetime.utcnow()")
        return REAL_DATETIME.now(dt.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls):
        _note("datetime.today()")
        return super().today()

    @classmethod
    def utcfromtimestamp(cls, t):
        _note("datetime.utcfromtimestamp()")
        return REAL_DATETIME.fromtimestamp(t, dt.timezone.utc).replace(tzinfo=None)


class _SpyDate(dt.date, metaclass=_PassesForReal):
    @classmethod
    def today(cls):
        _note("date.today()")
        return super().today()


# time functions that read the clock when their time argument is left out
_TIME_READERS = {"time": 0, "time_ns": 0, "localtime": 1, "gmtime": 1, "asctime": 1, "ctime": 1, "strftime": 2}
_REAL_TIME = {name: getattr(time, name) for name in _TIME_READERS}


def _spy_time(name: str):
    real = _REAL_TIME[name]
    needs = _TIME_READERS[name]

    def spy(*args):
        _note(f"time.{name}()" if len(args) < needs or needs == 0 else f"time.{name}(...)")
        return real(*args)

    spy.__name__ = name
    return spy


@contextlib.contextmanager
def watching_the_clock(local_zone: str | None = None) -> Iterator[list[str]]:
    """Note every clock reading of the student's code; optionally set the worker's local time zone (POSIX TZ)."""
    _calls.clear()
    if local_zone is not None:
        os.environ["TZ"] = local_zone
        time.tzset()
    dt.datetime, dt.date = _SpyDatetime, _SpyDate
    for name in _TIME_READERS:
        setattr(time, name, _spy_time(name))
    try:
        yield _calls
    finally:
        dt.datetime, dt.date = REAL_DATETIME, REAL_DATE
        for name, real in _REAL_TIME.items():
            setattr(time, name, real)


def unwire(value: Any) -> Any:
    """The grader's plain data back into datetimes: {"datetime": iso}, {"date": iso}, {"offset": seconds} (a
    fixed time zone) and {"set": [...]}; lists and tuples element by element."""
    if isinstance(value, dict) and len(value) == 1:
        ((kind, data),) = value.items()
        if kind == "datetime":
            return REAL_DATETIME.fromisoformat(data)
        if kind == "date":
            return REAL_DATE.fromisoformat(data)
        if kind == "offset":
            return dt.timezone(dt.timedelta(seconds=data))
        if kind == "set":
            return {unwire(item) for item in data}
    if isinstance(value, (list, tuple)):
        return type(value)(unwire(item) for item in value)
    return value


def plain(value: Any) -> Any:
    """What the student's function returned, as plain data: a datetime as {"datetime": its ISO text} (with
    its UTC offset when it is aware), a date as {"date": ...}; anything else that is not plain as its repr."""
    if isinstance(value, REAL_DATETIME):
        offset = value.utcoffset()
        moment = REAL_DATETIME(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
            tzinfo=None if offset is None else dt.timezone(offset),
        )
        return {"datetime": moment.isoformat()}
    if isinstance(value, REAL_DATE):
        return {"date": REAL_DATE(value.year, value.month, value.day).isoformat()}
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    return f"<{type(value).__name__}> {value!r}"


def _call_each(function, cases: list) -> list[dict]:
    """function(*case) for each case: the plain result and the clock readings it made."""
    results = []
    for case in unwire(cases):
        _calls.clear()
        results.append({"result": plain(function(*case)), "clock": sorted(set(_calls))})
    return results


def parse_and_format(texts: list[str], moments: list) -> dict:
    with watching_the_clock():
        module = student_module("clock")
        return {
            "parsed": _call_each(module.parse_time, [(text,) for text in texts]),
            "formatted": _call_each(module.us_date, [(moment,) for moment in moments]),
        }


def opening_hours(cases: list) -> list[dict]:
    with watching_the_clock():
        module = student_module("clock")
        return _call_each(module.is_open, cases)


def beijing(moments: list, local_zone: str) -> list[dict]:
    with watching_the_clock(local_zone):
        module = student_module("clock")
        return _call_each(module.beijing_time, [(moment,) for moment in moments])


def timestamps(to_datetime: list, to_number: list, local_zone: str) -> dict:
    with watching_the_clock(local_zone):
        module = student_module("clock")
        return {
            "from_timestamp": _call_each(module.from_timestamp, to_datetime),
            "to_timestamp": _call_each(module.to_timestamp, [(moment,) for moment in to_number]),
        }


def intervals(nows: list, pairs: list) -> dict:
    with watching_the_clock():
        module = student_module("clock")
        return {
            "deadline": _call_each(module.deadline, [(now,) for now in nows]),
            "hours_left": _call_each(module.hours_left, pairs),
        }


def time_module(stamps: list[float], texts: list[str], local_zone: str) -> dict:
    with watching_the_clock(local_zone):
        module = student_module("time_tuples")
        results = {
            "gm_asctime": _call_each(module.gm_asctime, [(stamp,) for stamp in stamps]),
            "year_month": _call_each(module.year_month, [(stamp,) for stamp in stamps]),
            "day_of_year": _call_each(module.day_of_year, [(text,) for text in texts]),
        }
    for name in ("gm_asctime", "year_month"):
        if any(not isinstance(seen["result"], str) for seen in results[name]):
            returned = results[name][0]["result"]
            raise StudentMistake(say(f"{name} should return a str; it returned {returned!r}",
                                     f"{name} 应当返回 str；它返回的是 {returned!r}"))
    return results


def calls(module_name: str, function: str, cases: list, local_zone: str) -> list[dict]:
    """function(*case) for each case in one trip to the worker (the property graders' batches)."""
    with watching_the_clock(local_zone):
        return _call_each(getattr(student_module(module_name), function), cases)
