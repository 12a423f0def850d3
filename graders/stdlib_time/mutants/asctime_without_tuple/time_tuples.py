"""The time module: timestamps, struct_time tuples, asctime, strftime and strptime.

Every function gets the moment it works on: none of them reads the computer's clock.
"""

import time

OUTLINE_FORMAT = "%Y-%m-%d %H:%M:%S"  # the outline's time.strptime('2018-8-15 21:18:21', ...)


def gm_asctime(timestamp: float) -> str:
    """The moment `timestamp` in Greenwich time (UTC) as time.asctime writes it, e.g. 'Thu Aug 16 20:30:38 2018'."""
    # Without a tuple, asctime() would describe the current time; localtime() would use the computer's zone.
    return time.asctime()


def year_month(timestamp: float) -> str:
    """The year and month of the moment `timestamp` in UTC, as time.strftime('%Y-%m') writes it, e.g. '2018-08'."""
    return time.strftime("%Y-%m", time.gmtime(timestamp))


def day_of_year(text: str) -> int:
    """The day of the year (1 to 366) of the date in `text`, written in the outline's format '2018-8-15 21:18:21'."""
    return time.strptime(text, OUTLINE_FORMAT).tm_yday
