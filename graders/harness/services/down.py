"""`nox -s services-down`: stop what the checks started and left running for the next check (the compose
services and the embedded MongoDB). It runs in the grading environment: nox's own Python may have no pytest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from graders.harness.core import cli
from graders.harness.core.curriculum import say
from graders.harness.services import COMPOSE_PROJECT, STATE_DIR, docker_engine_answers


def main() -> None:
    if docker_engine_answers():
        subprocess.run(["docker", "compose", "-p", COMPOSE_PROJECT, "down"], check=False)
    pid_file = STATE_DIR / "nx-27017.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            print(say("stopped the embedded MongoDB (nx-27017)", "已停止内置的 MongoDB（nx-27017）"))
        pid_file.unlink(missing_ok=True)
    else:
        print(say("no embedded MongoDB was running", "没有正在运行的内置 MongoDB"))


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "services-down"))
