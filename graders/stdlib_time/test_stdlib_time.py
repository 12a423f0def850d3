"""Grades exercises/stdlib_time: strptime/strftime, date and time, Beijing time, timestamps, timedelta, time.

Every moment is drawn for this run (random years, seconds and time zones), the worker's own time zone is set
to one that is neither UTC nor Beijing, and every reading of the computer's clock by the student's code is
noted, so a wrong answer caused by datetime.now(), utcnow() or a naive datetime is named in the message.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from typing import Any

import pytest

from graders.harness.core.curriculum import say
from graders.stdlib_time import probes

# Local time zones for the worker, as POSIX TZ strings (no tz database needed): never UTC, never Beijing.
LOCAL_ZONES = [
    ("<+0530>-5:30", timedelta(hours=5, minutes=30)),
    ("<-05>5", timedelta(hours=-5)),
    ("<+09>-9", timedelta(hours=9)),
    ("<-0330>3:30", timedelta(hours=-3, minutes=-30)),
    ("<+03>-3", timedelta(hours=3)),
    ("<-08>8", timedelta(hours=-8)),
]
OTHER_OFFSETS = [timedelta(hours=h) for h in (-10, -7, -4, -1, 1, 2, 4, 6, 10, 12)] + [timedelta(hours=5, minutes=45)]
BEIJING = timezone(timedelta(hours=8))
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS_ZH = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
CLOCK_READERS = {
    "datetime.now()", "datetime.now(tz)", "datetime.utcnow()", "datetime.today()", "date.today()", "time.time()",
    "time.time_ns()", "time.localtime()", "time.gmtime()", "time.asctime()", "time.ctime()", "time.strftime()",
}


def wire(value: Any) -> Any:
    """Datetimes, dates, fixed time zones and sets as plain data for the worker (probes.unwire reads them)."""
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, timezone):
        return {"offset": int(value.utcoffset(None).total_seconds())}
    if isinstance(value, (set, frozenset)):
        return {"set": [wire(item) for item in value]}
    if isinstance(value, (list, tuple)):
        return type(value)(wire(item) for item in value)
    return value


def unwire(value: Any) -> Any:
    """What a probe sent back, with {"datetime": iso} and {"date": iso} read back as datetimes and dates."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), str):
        ((kind, text),) = value.items()
        try:
            if kind == "datetime":
                return datetime.fromisoformat(text)
            if kind == "date":
                return date.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: unwire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwire(item) for item in value]
    return value


def run(student, probe, *args: Any) -> Any:
    return unwire(student.run(probe, *wire(args)))


@pytest.fixture
def rng() -> random.Random:
    return random.Random(secrets.randbits(64))


def random_moment(rng: random.Random, first: int = 1995, last: int = 2040, tz=None) -> datetime:
    start = datetime(first, 1, 1, tzinfo=tz)
    span = (datetime(last, 12, 31, tzinfo=tz) - start).total_seconds()
    return start + timedelta(seconds=rng.randrange(int(span)))


def with_fraction(moment: datetime, rng: random.Random) -> datetime:
    """`moment` plus a fraction of a second well away from 0 and 1, so int() and round() both change it."""
    return moment.replace(microsecond=rng.randint(150_000, 850_000))


def label(offset: timedelta | None, zh: bool = False) -> str:
    """The UTC offset as 'UTC+08:00'; `zh` for the Chinese half of a say() (it differs only without an offset)."""
    if offset is None:
        return "无时区" if zh else "no time zone"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02}:{minutes % 60:02}"


def clock_note(calls: list[str], given: str) -> str:
    """Why an answer is wrong when the student's code read the computer's clock instead of `given`."""
    readers = [call for call in calls if call in CLOCK_READERS]
    note = ""
    if readers:
        note += say(
            f" Your code called {', '.join(readers)}, which reads the computer's clock: use the time it was given "
            f"({given}), so the function gives the right answer for any moment.",
            f"你的代码调用了 {'、'.join(readers)}，它读取的是电脑的时钟：请使用传给函数的时间（{given}），"
            "这样函数对任何时刻都能给出正确答案。",
        )
    if "datetime.utcnow()" in calls or "datetime.utcfromtimestamp()" in calls:
        note += say(
            " datetime.utcnow() and utcfromtimestamp() are deprecated since Python 3.12: they return naive "
            "datetimes that Python then takes for local time. Use aware ones: datetime.now(timezone.utc).",
            "datetime.utcnow() 和 utcfromtimestamp() 从 Python 3.12 起被标记为弃用：它们返回 naive datetime，"
            "Python 会把它当作本地时间。请使用 aware datetime：datetime.now(timezone.utc)。",
        )
    return note


def local_zone(rng: random.Random) -> tuple[str, timedelta]:
    return rng.choice(LOCAL_ZONES)


# -- task 1: strptime and strftime -------------------------------------------------------------------------------


def outline_text(moment: datetime) -> str:
    """Written like the outline's '2018-8-15 21:18:21': month and day without a leading zero."""
    return f"{moment.year}-{moment.month}-{moment.day} {moment.hour}:{moment.minute:02}:{moment.second:02}"


@pytest.mark.task(1)
def test_parse_time_and_us_date_use_the_outline_formats(student, rng):
    wanted = [datetime(2018, 8, 15, 21, 18, 21)] + [random_moment(rng, 1990) for _ in range(4)]
    moments = [random_moment(rng, 1990) for _ in range(4)]
    seen = run(student, probes.parse_and_format, [outline_text(m) for m in wanted], moments)
    for moment, answer in zip(wanted, seen["parsed"], strict=True):
        got = answer["result"]
        assert isinstance(got, datetime), say(
            f"parse_time({outline_text(moment)!r}) should return a datetime; it returned {got!r}",
            f"parse_time({outline_text(moment)!r}) 应当返回 datetime；它返回的是 {got!r}",
        )
        note = clock_note(answer["clock"], "text")
        assert got == moment, say(
            f"parse_time({outline_text(moment)!r}) should be {moment!r}; got {got!r}: the format is "
            "'%Y-%m-%d %H:%M:%S' (%m is the month, %M the minutes).",
            f"parse_time({outline_text(moment)!r}) 应当是 {moment!r}；得到的是 {got!r}：格式是 "
            "'%Y-%m-%d %H:%M:%S'（%m 是月份，%M 是分钟）。",
        ) + note
    for moment, answer in zip(moments, seen["formatted"], strict=True):
        got, expected = answer["result"], moment.strftime("%m--%d--%Y")
        if got == moment.strftime("%M--%d--%Y") and got != expected:
            pytest.fail(
                say(f"us_date({moment!r}) should be {expected!r}; got {got!r}: %M is minutes, %m is the month",
                    f"us_date({moment!r}) 应当是 {expected!r}；得到的是 {got!r}：%M 是分钟，%m 才是月份"),
                pytrace=False,
            )
        note = clock_note(answer["clock"], "moment")
        assert got == expected, say(
            f"us_date({moment!r}) should be {expected!r} (strftime('%m--%d--%Y')); got {got!r}.",
            f"us_date({moment!r}) 应当是 {expected!r}（strftime('%m--%d--%Y')）；得到的是 {got!r}。",
        ) + note


# -- task 2: date, time and datetime: opening hours --------------------------------------------------------------


def shop_is_open(now: datetime, holidays: set[date]) -> bool:
    return now.weekday() < 6 and clock_time(9) <= now.time() < clock_time(21, 30) and now.date() not in holidays


def shop_cases(rng: random.Random) -> list[tuple[datetime, set[date]]]:
    """One random week: the edges of the opening hours, a Sunday, a weekday holiday, and random moments."""
    first = date(rng.randint(2026, 2039), rng.randint(1, 12), rng.randint(1, 28))
    monday = first - timedelta(days=first.weekday())
    week = [monday + timedelta(days=i) for i in range(7)]
    holiday = rng.choice(week[:5])
    workdays = [day for day in week[:6] if day != holiday]
    holidays = {holiday, monday + timedelta(days=rng.randint(30, 300))}
    shapes = [
        (rng.choice(workdays), clock_time(9, 0)),
        (rng.choice(workdays), clock_time(8, 59, 59)),
        (rng.choice(workdays), clock_time(21, 29, 59)),
        (rng.choice(workdays), clock_time(21, 30)),
        (rng.choice(workdays), clock_time(21, rng.randint(1, 29))),
        (week[5], clock_time(rng.randint(10, 20), rng.randint(0, 59))),
        (week[6], clock_time(rng.randint(10, 20), rng.randint(0, 59))),
        (holiday, clock_time(rng.randint(10, 20), rng.randint(0, 59))),
    ]
    shapes += [(rng.choice(week), clock_time(rng.randint(0, 23), rng.randint(0, 59))) for _ in range(8)]
    rng.shuffle(shapes)
    return [(datetime.combine(day, at), holidays) for day, at in shapes]


@pytest.mark.task(2)
def test_is_open_follows_the_opening_hours_and_holidays(student, rng):
    cases = shop_cases(rng)
    seen = run(student, probes.opening_hours, cases)
    for (now, holidays), answer in zip(cases, seen, strict=True):
        got, expected = answer["result"], shop_is_open(now, holidays)
        assert isinstance(got, bool), say(f"is_open should return True or False; it returned {got!r}",
                                          f"is_open 应当返回 True 或 False；它返回的是 {got!r}")
        if got == expected:
            continue
        holiday = now.date() in holidays
        why = ""
        if holiday and got:
            why = say(
                f" {now.date()} is one of the holidays: a datetime never equals a date, so `now in holidays` is "
                "always False; look up now.date()",
                f"{now.date()} 是假日之一：datetime 永远不会等于 date，所以 `now in holidays` 总是 False；"
                "要查找的是 now.date()",
            )
        note = clock_note(answer["clock"], "now")
        pytest.fail(
            say(
                f"is_open({now:%Y-%m-%d %H:%M:%S}, a {WEEKDAYS[now.weekday()]}{', a holiday' if holiday else ''}) "
                f"should be {expected}; your code returned {got}. The shop is open Monday to Saturday from 09:00 "
                "until 21:30 (at 21:30 it is closed), except on the holidays.",
                f"is_open({now:%Y-%m-%d %H:%M:%S})（这天是{WEEKDAYS_ZH[now.weekday()]}"
                f"{'，而且是假日' if holiday else ''}）应当是 {expected}；你的代码返回了 {got}。商店周一到周六"
                "从 09:00 营业到 21:30（到 21:30 整就已经关门），假日不营业。",
            )
            + why
            + note,
            pytrace=False,
        )


# -- task 3: Beijing time ----------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_beijing_time_converts_an_aware_time_to_utc_plus_8(student, rng):
    zone, _ = local_zone(rng)
    moments = [with_fraction(random_moment(rng, tz=timezone.utc), rng) for _ in range(3)]
    moments.append(with_fraction(random_moment(rng, tz=timezone(rng.choice(OTHER_OFFSETS))), rng))
    seen = run(student, probes.beijing, moments, zone)
    for moment, answer in zip(moments, seen, strict=True):
        got, expected = answer["result"], moment.astimezone(BEIJING)
        called = f"beijing_time({moment.isoformat()})"
        note = clock_note(answer["clock"], "now")
        assert isinstance(got, datetime), say(f"{called} should return a datetime; it returned {got!r}",
                                              f"{called} 应当返回 datetime；它返回的是 {got!r}")
        if got.tzinfo is None:
            pytest.fail(
                say(
                    f"{called} should be {expected.isoformat()}; it returned the naive datetime {got.isoformat()} "
                    "(no time zone), which nobody can tell apart from local time. The outline's "
                    "timedelta(hours=8) + datetime.utcnow() gives such a naive time. Convert the aware time you "
                    "were given: now.astimezone(timezone(timedelta(hours=8))).",
                    f"{called} 应当是 {expected.isoformat()}；它返回的是 naive datetime {got.isoformat()}（不带时区），"
                    "谁也分不清它和本地时间。大纲里的 timedelta(hours=8) + datetime.utcnow() 得到的就是这样的 naive "
                    "时间。请转换传给你的 aware 时间：now.astimezone(timezone(timedelta(hours=8)))。",
                )
                + note,
                pytrace=False,
            )
        if got.utcoffset() != timedelta(hours=8):
            pytest.fail(
                say(
                    f"{called} should be {expected.isoformat()}; got {got.isoformat()}, still in "
                    f"{label(got.utcoffset())}. Adding timedelta(hours=8) moves the moment 8 hours later and keeps "
                    "its time zone; now.astimezone(timezone(timedelta(hours=8))) shows the same moment on Beijing's "
                    "clock.",
                    f"{called} 应当是 {expected.isoformat()}；得到的是 {got.isoformat()}，仍然是 "
                    f"{label(got.utcoffset(), zh=True)}。加上 timedelta(hours=8) 会把时刻推后 8 小时，时区却不变；"
                    "now.astimezone(timezone(timedelta(hours=8))) 才是在北京的时钟上显示同一时刻。",
                )
                + note,
                pytrace=False,
            )
        if got != expected:
            if got.replace(tzinfo=None) == moment.replace(tzinfo=None):
                why = say(
                    " It shows the same clock reading as the input with a new label: replace(tzinfo=...) changes "
                    "the label, astimezone(...) converts the time.",
                    "它显示的钟面时间和输入一样，只是换了时区标签：replace(tzinfo=...) 只改标签，"
                    "astimezone(...) 才会转换时间。",
                )
            elif moment.utcoffset() != timedelta(0):
                why = say(
                    f" This input is in {label(moment.utcoffset())}, not UTC: astimezone uses the input's own "
                    "offset, adding 8 hours to its clock does not.",
                    f"这个输入的时区是 {label(moment.utcoffset(), zh=True)}，不是 UTC：astimezone 会使用输入自己的"
                    "偏移量，而给它的钟面时间加 8 小时不会。",
                )
            else:
                why = ""
            pytest.fail(
                say(f"{called} should be {expected.isoformat()}; got {got.isoformat()}, a different moment.",
                    f"{called} 应当是 {expected.isoformat()}；得到的是 {got.isoformat()}，这是另一个时刻。")
                + why
                + note,
                pytrace=False,
            )


# -- task 4: timestamps ------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_timestamps_convert_to_aware_datetimes_and_back(student, rng):
    zone, local_offset = local_zone(rng)
    offsets = [offset for offset in OTHER_OFFSETS if offset != local_offset]
    to_datetime = [
        (with_fraction(random_moment(rng, tz=timezone.utc), rng).timestamp(), timezone(rng.choice(offsets)))
        for _ in range(3)
    ]
    to_number = [with_fraction(random_moment(rng, tz=timezone(rng.choice(offsets))), rng) for _ in range(3)]
    seen = run(student, probes.timestamps, to_datetime, to_number, zone)

    for (stamp, tz), answer in zip(to_datetime, seen["from_timestamp"], strict=True):
        got, expected = answer["result"], datetime.fromtimestamp(stamp, tz)
        called = f"from_timestamp({stamp}, {label(tz.utcoffset(None))})"
        note = clock_note(answer["clock"], "timestamp")
        assert isinstance(got, datetime), say(f"{called} should return a datetime; it returned {got!r}",
                                              f"{called} 应当返回 datetime；它返回的是 {got!r}")
        if got.tzinfo is None:
            pytest.fail(
                say(
                    f"{called} should be {expected.isoformat()}; it returned the naive datetime {got.isoformat()}. "
                    "datetime.fromtimestamp(ts) without tz= gives the wall clock of the computer running the code "
                    f"(this one is set to {label(local_offset)}), so the answer changes from computer to computer. "
                    "Pass tz=zone.",
                    f"{called} 应当是 {expected.isoformat()}；它返回的是 naive datetime {got.isoformat()}。"
                    "不带 tz= 的 datetime.fromtimestamp(ts) 给出的是运行代码的那台电脑的本地时钟"
                    f"（这台电脑设置的是 {label(local_offset, zh=True)}），所以换一台电脑结果就变了。请传入 tz=zone。",
                )
                + note,
                pytrace=False,
            )
        assert got == expected and got.utcoffset() == expected.utcoffset(), say(
            f"{called} should be {expected.isoformat()}; got {got.isoformat()}.",
            f"{called} 应当是 {expected.isoformat()}；得到的是 {got.isoformat()}。",
        ) + note

    for moment, answer in zip(to_number, seen["to_timestamp"], strict=True):
        got, expected = answer["result"], moment.timestamp()
        called = f"to_timestamp({moment.isoformat()})"
        assert isinstance(got, (int, float)) and not isinstance(got, bool), say(
            f"{called} should return a number of seconds; it returned {got!r}",
            f"{called} 应当返回秒数；它返回的是 {got!r}",
        )
        if abs(got - expected) < 1e-3:
            continue
        off = got - expected
        note = clock_note(answer["clock"], "moment")
        if abs(off) < 1:
            pytest.fail(
                say(
                    f"{called} should be {expected}; got {got}: the fraction of a second was lost. A timestamp is a "
                    "float: return moment.timestamp() as it is, without int() or round().",
                    f"{called} 应当是 {expected}；得到的是 {got}：秒的小数部分丢失了。时间戳是 float："
                    "直接返回 moment.timestamp()，不要用 int() 或 round()。",
                )
                + note,
                pytrace=False,
            )
        if round(off) % 900 == 0:
            pytest.fail(
                say(
                    f"{called} should be {expected}; got {got}, off by exactly {off / 3600:g} hours: the moment's "
                    f"own zone ({label(moment.utcoffset())}) was dropped and its clock reading taken as the "
                    f"computer's local time ({label(local_offset)}), as naive datetimes and time.mktime do. An aware "
                    "datetime knows its moment: moment.timestamp().",
                    f"{called} 应当是 {expected}；得到的是 {got}，正好差了 {off / 3600:g} 小时：这个时刻自己的时区"
                    f"（{label(moment.utcoffset(), zh=True)}）被丢掉了，它的钟面时间被当成了电脑的本地时间"
                    f"（{label(local_offset, zh=True)}），naive datetime 和 time.mktime 就是这样做的。"
                    "aware datetime 知道自己代表哪一时刻：moment.timestamp()。",
                )
                + note,
                pytrace=False,
            )
        pytest.fail(
            say(f"{called} should be {expected}; got {got}.", f"{called} 应当是 {expected}；得到的是 {got}。") + note,
            pytrace=False,
        )


# -- task 5: timedelta -------------------------------------------------------------------------------------------


OUTLINE_INTERVAL = timedelta(hours=5, weeks=1, days=2, minutes=30, seconds=20)


@pytest.mark.task(5)
def test_deadline_and_hours_left_do_timedelta_arithmetic(student, rng):
    nows = [with_fraction(random_moment(rng, 2020), rng)]
    nows.append(with_fraction(random_moment(rng, 2020, tz=timezone(rng.choice(OTHER_OFFSETS))), rng))
    base = with_fraction(random_moment(rng, 2020, tz=timezone.utc), rng)
    deltas = [
        timedelta(days=rng.randint(2, 12), seconds=rng.randint(1, 86_399)),
        timedelta(seconds=rng.randint(60, 86_000)),
        -timedelta(days=rng.randint(1, 3), seconds=rng.randint(1, 86_399)),
    ]
    pairs = [(base + delta, base) for delta in deltas]
    seen = run(student, probes.intervals, nows, pairs)

    for now, answer in zip(nows, seen["deadline"], strict=True):
        got, expected = answer["result"], now + OUTLINE_INTERVAL
        note = clock_note(answer["clock"], "now")
        assert got == expected and isinstance(got, datetime), say(
            f"deadline({now.isoformat()}) should be {expected.isoformat()}, now + timedelta(weeks=1, days=2, "
            f"hours=5, minutes=30, seconds=20); got {got!r}.",
            f"deadline({now.isoformat()}) 应当是 {expected.isoformat()}，即 now + timedelta(weeks=1, days=2, "
            f"hours=5, minutes=30, seconds=20)；得到的是 {got!r}。",
        ) + note
    for (due, now), delta, answer in zip(pairs, deltas, seen["hours_left"], strict=True):
        got, expected = answer["result"], delta.total_seconds() / 3600
        called = f"hours_left({due.isoformat()}, {now.isoformat()})"
        assert isinstance(got, (int, float)) and not isinstance(got, bool), say(
            f"{called} should return a number of hours; it returned {got!r}",
            f"{called} 应当返回小时数；它返回的是 {got!r}",
        )
        if math.isclose(got, expected, abs_tol=1e-6):
            continue
        if math.isclose(got, delta.seconds / 3600, abs_tol=1e-6):
            why = say(
                f" timedelta.seconds is only the part under one day (0 to 86399): of {delta!s} it keeps "
                f"{timedelta(seconds=delta.seconds)} and loses the {delta.days} days. total_seconds() counts it all.",
                f"timedelta.seconds 只是不满一天的那部分（0 到 86399）：对 {delta!s}，它只保留了 "
                f"{timedelta(seconds=delta.seconds)}，丢掉了 {delta.days} 天。total_seconds() 才会把全部时间都算上。",
            )
        elif math.isclose(got, delta.total_seconds(), abs_tol=1e-3):
            why = say(" That is seconds: an hour has 3600.", "这是秒数：一小时有 3600 秒。")
        else:
            why = ""
        note = clock_note(answer["clock"], "now")
        pytest.fail(
            say(f"{called} should be {expected:.6f}; got {got}.", f"{called} 应当是 {expected:.6f}；得到的是 {got}。")
            + why
            + note,
            pytrace=False,
        )


# -- task 6: the time module -------------------------------------------------------------------------------------


def month_edge(rng: random.Random, local_offset: timedelta) -> float:
    """A moment whose month in UTC differs from its month on the local clock."""
    month_start = datetime(rng.randint(1995, 2040), rng.randint(1, 12), 1, tzinfo=timezone.utc)
    minutes = rng.randint(1, abs(int(local_offset.total_seconds())) // 60 - 1)
    edge = month_start + timedelta(minutes=minutes) if local_offset < timedelta(0) else month_start - timedelta(
        minutes=minutes
    )
    return edge.timestamp()


@pytest.mark.task(6)
def test_time_module_struct_time_asctime_strftime_strptime(student, rng):
    zone, local_offset = local_zone(rng)
    early_day = random_moment(rng, 1995, tz=timezone.utc).replace(day=rng.randint(1, 9))  # asctime writes " 6"
    other_day = random_moment(rng, 1995, tz=timezone.utc)
    stamps = [with_fraction(moment, rng).timestamp() for moment in (early_day, other_day)]
    stamps.append(month_edge(rng, local_offset) + rng.randint(150, 850) / 1000)
    rng.shuffle(stamps)
    days = [random_moment(rng, 1995) for _ in range(3)] + [datetime(2024, 12, 31, rng.randint(0, 23), 5, 9)]
    seen = run(student, probes.time_module, stamps, [outline_text(day) for day in days], zone)

    local = timezone(local_offset)
    for name, pattern in (("gm_asctime", None), ("year_month", "%Y-%m")):
        for stamp, answer in zip(stamps, seen[name], strict=True):
            gm = time.gmtime(stamp)
            on_local_clock = datetime.fromtimestamp(stamp, local).timetuple()
            expected = time.asctime(gm) if pattern is None else time.strftime(pattern, gm)
            if_local = time.asctime(on_local_clock) if pattern is None else time.strftime(pattern, on_local_clock)
            got, calls = answer["result"], answer["clock"]
            if got == expected:
                continue
            utc_moment = datetime.fromtimestamp(stamp, timezone.utc).isoformat()
            if pattern is None and got == time.strftime("%a %b %d %H:%M:%S %Y", gm):
                why = say(
                    f" time.asctime pads a day under 10 with a space ({expected[4:10]!r}), not a zero: call "
                    "time.asctime(time.gmtime(timestamp)) rather than rebuilding its format with strftime.",
                    f"time.asctime 会在小于 10 的日期前补空格（{expected[4:10]!r}），而不是补 0：请调用 "
                    "time.asctime(time.gmtime(timestamp))，不要用 strftime 重新拼出它的格式。",
                )
            elif "time.asctime()" in calls or "time.strftime()" in calls:
                why = say(
                    " asctime() and strftime(format) without a time tuple describe the current time: pass them "
                    "time.gmtime(timestamp).",
                    "不传时间元组时，asctime() 和 strftime(format) 描述的是当前时间：请把 time.gmtime(timestamp) "
                    "传给它们。",
                )
            elif got == if_local:
                why = say(
                    f" That is the clock of this computer ({label(local_offset)}): time.localtime(ts) uses the "
                    "computer's time zone, time.gmtime(ts) gives Greenwich time (UTC).",
                    f"这是这台电脑的时钟（{label(local_offset, zh=True)}）：time.localtime(ts) 使用电脑的时区，"
                    "time.gmtime(ts) 才给出格林尼治时间（UTC）。",
                )
            else:
                why = clock_note(calls, "timestamp")
            pytest.fail(
                say(f"{name}({stamp}) ({utc_moment}) should be {expected!r}; got {got!r}.",
                    f"{name}({stamp})（{utc_moment}）应当是 {expected!r}；得到的是 {got!r}。")
                + why,
                pytrace=False,
            )
    for day, answer in zip(days, seen["day_of_year"], strict=True):
        expected = day.timetuple().tm_yday
        note = clock_note(answer["clock"], "text")
        assert answer["result"] == expected, say(
            f"day_of_year({outline_text(day)!r}) should be {expected}, the tm_yday of "
            f"time.strptime(text, '%Y-%m-%d %H:%M:%S'); got {answer['result']!r}.",
            f"day_of_year({outline_text(day)!r}) 应当是 {expected}，即 time.strptime(text, '%Y-%m-%d %H:%M:%S') "
            f"的 tm_yday；得到的是 {answer['result']!r}。",
        ) + note
