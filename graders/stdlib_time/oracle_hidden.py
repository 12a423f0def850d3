"""The reference for the property graders of stdlib-time (teacher-side: export leaves this file out)."""

from __future__ import annotations

import time as time_module
from datetime import date, datetime, time, timedelta, timezone

OPENS, CLOSES = time(9, 0), time(21, 30)
BEIJING = timezone(timedelta(hours=8))
OUTLINE_INTERVAL = timedelta(weeks=1, days=2, hours=5, minutes=30, seconds=20)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def us_date(moment: datetime) -> str:
    return moment.strftime("%m--%d--%Y")


def is_open(now: datetime, holidays: set[date]) -> bool:
    return now.weekday() < 6 and OPENS <= now.time() < CLOSES and now.date() not in holidays


def beijing_time(now: datetime) -> datetime:
    return now.astimezone(BEIJING)


def from_timestamp(timestamp: float, zone: timezone) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=zone)


def to_timestamp(moment: datetime) -> float:
    return moment.timestamp()


def deadline(now: datetime) -> datetime:
    return now + OUTLINE_INTERVAL


def hours_left(due: datetime, now: datetime) -> float:
    return (due - now).total_seconds() / 3600


def gm_asctime(timestamp: float) -> str:
    return time_module.asctime(time_module.gmtime(timestamp))


def year_month(timestamp: float) -> str:
    return time_module.strftime("%Y-%m", time_module.gmtime(timestamp))


def day_of_year(text: str) -> int:
    return time_module.strptime(text, "%Y-%m-%d %H:%M:%S").tm_yday
