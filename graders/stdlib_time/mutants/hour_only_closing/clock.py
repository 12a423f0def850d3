"""datetime: parsing and formatting, opening hours, time zones, timestamps and intervals.

None of these functions asks the computer what time it is: the current time is a parameter. That way they can
be tested with any moment, and the program that uses them passes datetime.now(timezone.utc) once, at the top.
"""

from datetime import date, datetime, time, timedelta, timezone, tzinfo

OUTLINE_FORMAT = "%Y-%m-%d %H:%M:%S"  # the outline's '2018-8-15 21:18:21'
US_FORMAT = "%m--%d--%Y"  # the outline's strftime('%m--%d--%Y')

OPENS = time(9, 0)  # the shop opens at 09:00 ...
CLOSES = time(21, 30)  # ... and closes at 21:30, from Monday to Saturday

# China has kept UTC+8 all year since 1991; ZoneInfo("Asia/Shanghai") gives the same for later dates.
BEIJING = timezone(timedelta(hours=8), "Beijing")
OUTLINE_INTERVAL = timedelta(weeks=1, days=2, hours=5, minutes=30, seconds=20)


def parse_time(text: str) -> datetime:
    """The naive datetime written in `text` in the outline's format, e.g. '2018-8-15 21:18:21'."""
    return datetime.strptime(text, OUTLINE_FORMAT)


def us_date(moment: datetime) -> str:
    """The date of `moment` as month--day--year, e.g. '08--15--2018'."""
    return moment.strftime(US_FORMAT)


def is_open(now: datetime, holidays: set[date]) -> bool:
    """Whether the shop is open at `now`: Monday to Saturday, from OPENS until (not including) CLOSES, and not
    on one of the `holidays`. `now` is a naive datetime in the shop's local time."""
    # now.date(), not now: a datetime never equals a date, so `now in holidays` would always be False.
    return now.weekday() < 6 and OPENS.hour <= now.hour < CLOSES.hour and now.date() not in holidays


def beijing_time(now: datetime) -> datetime:
    """The same moment as the aware datetime `now` (usually in UTC), as an aware datetime in Beijing (UTC+8)."""
    return now.astimezone(BEIJING)


def from_timestamp(timestamp: float, zone: tzinfo) -> datetime:
    """The moment `timestamp` (seconds since 1970-01-01 UTC) as an aware datetime in the time zone `zone`."""
    # Without tz= the result is naive, in whatever zone the computer running this happens to be set to.
    return datetime.fromtimestamp(timestamp, tz=zone)


def to_timestamp(moment: datetime) -> float:
    """The timestamp (seconds since 1970-01-01 UTC) of the aware datetime `moment`, whatever its time zone."""
    return moment.timestamp()


def deadline(now: datetime) -> datetime:
    """`now` plus the outline's interval: 1 week, 2 days, 5 hours, 30 minutes and 20 seconds."""
    return now + OUTLINE_INTERVAL


def hours_left(due: datetime, now: datetime) -> float:
    """How many hours from `now` until `due` (negative once `due` has passed), e.g. 49.5."""
    # total_seconds(), not .seconds: .seconds is only the part under one day.
    return (due - now).total_seconds() / 3600
