"""datetime: parsing and formatting, opening hours, time zones, timestamps and intervals.

None of these functions asks the computer what time it is: the current time is a parameter. That way they can
be tested with any moment, and the program that uses them passes datetime.now(timezone.utc) once, at the top.
"""

from datetime import date, datetime, time, timedelta, timezone, tzinfo  # noqa: F401  (you will need them)

OUTLINE_FORMAT = "%Y-%m-%d %H:%M:%S"  # the outline's '2018-8-15 21:18:21'
US_FORMAT = "%m--%d--%Y"  # the outline's strftime('%m--%d--%Y')

OPENS = time(9, 0)  # the shop opens at 09:00 ...
CLOSES = time(21, 30)  # ... and closes at 21:30, from Monday to Saturday


def parse_time(text: str) -> datetime:
    """The naive datetime written in `text` in the outline's format, e.g. '2018-8-15 21:18:21'."""
    # TODO(task 1): parse with datetime.strptime and OUTLINE_FORMAT; write us_date below with strftime.
    raise NotImplementedError("task 1")


def us_date(moment: datetime) -> str:
    """The date of `moment` as month--day--year, e.g. '08--15--2018'."""
    raise NotImplementedError("task 1")


def is_open(now: datetime, holidays: set[date]) -> bool:
    """Whether the shop is open at `now`: Monday to Saturday, from OPENS until (not including) CLOSES, and not
    on one of the `holidays`. `now` is a naive datetime in the shop's local time."""
    # TODO(task 2): compare now.weekday(), now.time() and now.date() with the rules above; never call now().
    raise NotImplementedError("task 2")


def beijing_time(now: datetime) -> datetime:
    """The same moment as the aware datetime `now` (usually in UTC), as an aware datetime in Beijing (UTC+8)."""
    # TODO(task 3): convert with now.astimezone(...) to UTC+8; not the outline's utcnow() + timedelta(hours=8).
    raise NotImplementedError("task 3")


def from_timestamp(timestamp: float, zone: tzinfo) -> datetime:
    """The moment `timestamp` (seconds since 1970-01-01 UTC) as an aware datetime in the time zone `zone`."""
    # TODO(task 4): use datetime.fromtimestamp with tz=zone; write to_timestamp below, its inverse.
    raise NotImplementedError("task 4")


def to_timestamp(moment: datetime) -> float:
    """The timestamp (seconds since 1970-01-01 UTC) of the aware datetime `moment`, whatever its time zone."""
    raise NotImplementedError("task 4")


def deadline(now: datetime) -> datetime:
    """`now` plus the outline's interval: 1 week, 2 days, 5 hours, 30 minutes and 20 seconds."""
    # TODO(task 5): add a timedelta to now; and in hours_left, turn the timedelta between two times into hours.
    raise NotImplementedError("task 5")


def hours_left(due: datetime, now: datetime) -> float:
    """How many hours from `now` until `due` (negative once `due` has passed), e.g. 49.5."""
    raise NotImplementedError("task 5")
