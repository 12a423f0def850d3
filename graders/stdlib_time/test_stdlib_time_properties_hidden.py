"""Property graders of stdlib-time, kept out of students' repositories: hypothesis generates the moments and
the reference in oracle_hidden.py gives the answers.

Each example is one batch of inputs that a single `student.run` maps the student's function over (a call into
the worker per input would be slow), with the worker's local time zone set to one that is neither UTC nor
Beijing; the grader then compares every answer with the oracle's. Generation is derandomized, so a verdict
never changes between runs, and shrinking is off: the message names the first wrong input of the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.harness.core.curriculum import say
from graders.harness.core.properties import deterministic
from graders.stdlib_time import oracle_hidden as oracle
from graders.stdlib_time import probes
from graders.stdlib_time.test_stdlib_time import LOCAL_ZONES, outline_text, run

pytestmark = pytest.mark.hidden

BATCH = 40
PROPERTIES = deterministic(3)
ZONES = st.sampled_from([timezone(timedelta(minutes=m)) for m in (-600, -330, -300, 0, 60, 345, 480, 540, 765)])
LOCAL = st.sampled_from([zone for zone, _ in LOCAL_ZONES])
FIRST, LAST = datetime(1971, 1, 1), datetime(2099, 12, 31)
NAIVE = st.datetimes(min_value=FIRST, max_value=LAST)
AWARE = st.datetimes(min_value=FIRST, max_value=LAST, timezones=ZONES)
WHOLE_SECONDS = NAIVE.map(lambda moment: moment.replace(microsecond=0))
STAMPS = st.floats(min_value=FIRST.timestamp(), max_value=LAST.timestamp(), allow_nan=False)


def check(student, local: str, module: str, function: str, cases: list[tuple], same: Callable[[Any, Any], bool]):
    """function(*case) in the worker for every case; fail on the first answer that `same` finds unlike the
    oracle's."""
    answers = run(student, probes.calls, module, function, cases, local)
    assert len(answers) == len(cases), say(f"{function} answered {len(answers)} of {len(cases)} calls",
                                           f"{function} 只回答了 {len(cases)} 次调用中的 {len(answers)} 次")
    expected_of = getattr(oracle, function)
    for case, answer in zip(cases, answers, strict=True):
        expected, got = expected_of(*case), answer["result"]
        if not same(got, expected):
            shown = ", ".join(repr(argument) for argument in case)
            pytest.fail(say(f"{module}.py: {function}({shown:.300}) should be {expected!r}; got {got!r}",
                            f"{module}.py：{function}({shown:.300}) 应当是 {expected!r}；得到的是 {got!r}"),
                        pytrace=False)


def equal(got: Any, expected: Any) -> bool:
    return type(got) is type(expected) and got == expected


def same_moment_and_offset(got: Any, expected: datetime) -> bool:
    return isinstance(got, datetime) and got == expected and got.utcoffset() == expected.utcoffset()


def close(got: Any, expected: float) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(got, expected, abs_tol=1e-6)


@pytest.mark.task(1)
@PROPERTIES
@given(moments=st.lists(WHOLE_SECONDS, min_size=BATCH, max_size=BATCH), local=LOCAL)
def test_parse_time_and_us_date_for_any_moment(student, moments, local):
    check(student, local, "clock", "parse_time", [(outline_text(moment),) for moment in moments], equal)
    check(student, local, "clock", "us_date", [(moment,) for moment in moments], equal)


@st.composite
def shop_visits(draw: st.DrawFn) -> tuple[datetime, set]:
    now = draw(NAIVE)
    holidays = set(draw(st.lists(NAIVE.map(datetime.date), max_size=3)))
    if draw(st.booleans()):
        holidays.add(now.date())
    return now, holidays


@pytest.mark.task(2)
@PROPERTIES
@given(cases=st.lists(shop_visits(), min_size=BATCH, max_size=BATCH), local=LOCAL)
def test_is_open_for_any_moment_and_holidays(student, cases, local):
    check(student, local, "clock", "is_open", cases, equal)


@pytest.mark.task(3)
@PROPERTIES
@given(moments=st.lists(AWARE, min_size=BATCH, max_size=BATCH), local=LOCAL)
def test_beijing_time_for_any_aware_moment(student, moments, local):
    check(student, local, "clock", "beijing_time", [(moment,) for moment in moments], same_moment_and_offset)


@pytest.mark.task(4)
@PROPERTIES
@given(
    stamps=st.lists(st.tuples(STAMPS, ZONES), min_size=BATCH, max_size=BATCH),
    moments=st.lists(AWARE, min_size=BATCH, max_size=BATCH),
    local=LOCAL,
)
def test_timestamps_for_any_moment_and_zone(student, stamps, moments, local):
    check(student, local, "clock", "from_timestamp", stamps, same_moment_and_offset)
    check(student, local, "clock", "to_timestamp", [(moment,) for moment in moments], close)


@st.composite
def due_and_now(draw: st.DrawFn) -> tuple[datetime, datetime]:
    now = draw(AWARE)
    return now + draw(st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=40))), now


@pytest.mark.task(5)
@PROPERTIES
@given(
    nows=st.lists(AWARE | NAIVE, min_size=BATCH, max_size=BATCH),
    pairs=st.lists(due_and_now(), min_size=BATCH, max_size=BATCH),
    local=LOCAL,
)
def test_deadline_and_hours_left_for_any_moments(student, nows, pairs, local):
    check(student, local, "clock", "deadline", [(now,) for now in nows], same_or_naive_equal)
    check(student, local, "clock", "hours_left", pairs, close)


def same_or_naive_equal(got: Any, expected: datetime) -> bool:
    if expected.tzinfo is None:
        return isinstance(got, datetime) and got.tzinfo is None and got == expected
    return same_moment_and_offset(got, expected)


@pytest.mark.task(6)
@PROPERTIES
@given(
    stamps=st.lists(STAMPS, min_size=BATCH, max_size=BATCH),
    days=st.lists(WHOLE_SECONDS, min_size=BATCH, max_size=BATCH),
    local=LOCAL,
)
def test_time_module_for_any_timestamp(student, stamps, days, local):
    check(student, local, "time_tuples", "gm_asctime", [(stamp,) for stamp in stamps], equal)
    check(student, local, "time_tuples", "year_month", [(stamp,) for stamp in stamps], equal)
    check(student, local, "time_tuples", "day_of_year", [(outline_text(day),) for day in days], equal)
