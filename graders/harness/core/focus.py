"""Where a failure points when its message names no place: the student's code the test looked at last.

A test of an SQL topic runs a named statement and then asserts on the rows or on the server's state. The
assertion knows nothing of files, so without this its arrow would point at the task's first TODO; with it,
the arrow points at the statement the test ran last, which is the one its verdict is about.
"""

from __future__ import annotations

_place: tuple[str, int] | None = None


def look_at(file: str, line: int) -> None:
    """Note that the running test is now looking at `file:line`."""
    global _place
    _place = (file, line)


def take() -> tuple[str, int] | None:
    """The place the test looked at last, forgetting it (each test starts with none)."""
    global _place
    place, _place = _place, None
    return place
