"""How the harness's command-line programs end on a mistake in what they were asked: one line, exit code 2.

A student who types `nox -s hint -- thread` or a teacher who names a missing file gets the reason and the
valid choices, never a traceback from our code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from graders.harness.core.curriculum import NotInCourse


def run(main: Callable[[], int | None], program: str) -> int:
    try:
        return main() or 0
    except NotInCourse as error:
        print(f"{program}: {error}", file=sys.stderr)
    except OSError as error:  # a file named on the command line that is missing, a folder, unreadable
        where = f" {error.filename}" if error.filename else ""
        print(f"{program}: cannot read{where}: {error.strerror or error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{program}: stopped", file=sys.stderr)
        return 130
    return 2
