"""How the harness's command-line programs end on a mistake in what they were asked: one line, exit code 2.

A student who types `nox -s hint -- thread` or a teacher who names a missing file gets the reason and the
valid choices, never a traceback from our code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from graders.harness.core.curriculum import NotInCourse, say


def run(main: Callable[[], int | None], program: str) -> int:
    try:
        return main() or 0
    except BrokenPipeError:  # `nox -s hint | head`: the reader has read enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush must not fail again
        return 0
    except NotInCourse as error:
        print(f"{program}: {error}", file=sys.stderr)
    except OSError as error:  # a file named on the command line that is missing, a folder, unreadable
        where, why = f" {error.filename}" if error.filename else "", error.strerror or error
        print(f"{program}: {say(f'cannot read{where}: {why}', f'无法读取{where}：{why}')}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{program}: {say('stopped', '已停止')}", file=sys.stderr)
        return 130
    return 2
