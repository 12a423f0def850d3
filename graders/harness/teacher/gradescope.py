"""Gradescope: `nox -s gradescope -- autograder.zip` builds the autograder to upload, and inside Gradescope's
container `python -m graders.harness.teacher.gradescope run SUBMISSION RESULTS` grades one submission.

The zip holds `setup.sh` and `run_autograder` at its root (Gradescope's layout) and the course under
`course/`: graders, hidden ones included, and the harness, taken from the committed tree. It holds no
solutions, mutants or course tests: student code runs in the same container. There, each submission is
graded as in a class run: in the bubblewrap sandbox when the container allows namespaces, otherwise as the
unprivileged user `student` (Gradescope's own advice) who cannot read the hidden graders (mode 600) or
write the results. The results are Gradescope's `results.json` (`views.reports.gradescope`): tasks that could
not be graded are not counted as failed, tasks with hidden checks are shown once grades are published.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from graders.harness.core import cli, curriculum
from graders.harness.services import ServiceUnavailable, locate

LEFT_OUT = ("solutions/", "tests/", ".github/", ".ci/")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip bubblewrap mariadb-server redis-server
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -r /autograder/source/course/requirements-grading.txt
id student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin student
# The grader's MySQL account, with a password nobody else has (root uses the socket only).
service mariadb start
password=$(python3 -c "import secrets; print(secrets.token_hex(16))")
mysql -e "CREATE USER IF NOT EXISTS 'grader'@'127.0.0.1' IDENTIFIED BY '$password';
          GRANT ALL ON *.* TO 'grader'@'127.0.0.1' WITH GRANT OPTION;"
umask 077
echo "mysql://grader:$password@127.0.0.1:3306" > /autograder/mysql-url
service mariadb stop
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission: /autograder/submission in,
# /autograder/results/results.json out (written by the grader, never by student code).
set -uo pipefail
service mariadb start >/dev/null 2>&1
redis-server --daemonize yes --save '' --appendonly no --bind 127.0.0.1 --port 6379 >/dev/null
export MYSQL_URL="$(cat /autograder/mysql-url)" REDIS_URL=redis://127.0.0.1:6379 COURSE_LANG=en
cd /autograder/source/course
/autograder/venv/bin/python -m graders.harness.teacher.gradescope run /autograder/submission \\
    /autograder/results/results.json
"""


def requirements() -> list[str]:
    """The grading dependency group of pyproject.toml, as requirement lines."""
    data = curriculum.tomllib.loads((curriculum.ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [item for item in data["dependency-groups"]["grading"] if isinstance(item, str)]


def build(target: Path, root: Path = curriculum.ROOT) -> list[str]:
    """Write the autograder zip; the names it holds."""
    from graders.harness.teacher.export import committed_tree

    names = []
    with tempfile.TemporaryDirectory(prefix="course-gradescope-") as scratch:
        tree = committed_tree(root, Path(scratch))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o100755 << 16
                archive.writestr(info, text)
                names.append(name)
            archive.writestr("course/requirements-grading.txt", "\n".join(requirements()) + "\n")
            names.append("course/requirements-grading.txt")
            for path in sorted(tree.rglob("*")):
                relative = path.relative_to(tree).as_posix()
                if path.is_dir() or relative.startswith(LEFT_OUT) or "/mutants/" in relative \
                        or relative.endswith("mutants.toml") or "__pycache__" in relative:
                    continue
                archive.write(path, f"course/{relative}")
                names.append(f"course/{relative}")
    return names


def _results_for_crash(reason: str) -> dict:
    return {"score": 0, "output": f"The submission could not be graded ({reason}); it is not your code's "
            "fault if this says so: ask your teacher to regrade.", "tests": []}


def run(submission: Path, results_path: Path, limit: float) -> int:
    """Grade one submission in Gradescope's container and write Gradescope's results.json."""
    from graders.harness.teacher import export, sandbox
    from graders.harness.teacher.gradebook import Grader, submission_folder
    from graders.harness.views import reports

    for hidden in export.hidden_files():  # student code, if it runs as `student`, cannot read them
        os.chown(hidden, 0, 0)
        hidden.chmod(0o600)
    topics = [topic for topic in curriculum.topics() if topic.available]
    scratch = Path(tempfile.mkdtemp(prefix="course-gradescope-"))
    missing = sandbox.check()
    view = None
    if missing is None:
        upstream = {}
        for name in sorted({service for topic in topics for service in topic.services}):
            with contextlib.suppress(ServiceUnavailable):  # its tasks end as infrastructure errors, not failures
                upstream[name] = locate(name)
        view = sandbox.ClassView(scratch / "view", upstream=upstream)
    print("sandbox: bubblewrap" if view else f"no sandbox ({missing}): student code runs as `student`")
    os.environ.setdefault("GRADE_WORKER_PYTHON", sys.executable)
    grader = Grader(topics, scratch, limit, [], view, scratch, worker_user=None if view else "student")
    row, results = grader.grade(1, submission.name, submission_folder(submission))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    document = reports.gradescope(results) if results is not None else _results_for_crash(row.status)
    if results is not None and row.status != "graded":
        document["output"] += f"\n{row.status}"
    results_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{row.total:g} points ({row.status}) in {row.seconds:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    zip_command = commands.add_parser("build", help="write the autograder zip to upload to Gradescope")
    zip_command.add_argument("zip", type=Path, nargs="?", default=Path("gradescope-autograder.zip"))
    run_command = commands.add_parser("run", help="(inside Gradescope) grade one submission")
    run_command.add_argument("submission", type=Path)
    run_command.add_argument("results", type=Path)
    run_command.add_argument("--limit", type=float, default=1200)
    options = parser.parse_args(argv)
    if options.command == "run":
        return run(options.submission, options.results, options.limit)
    from graders.harness.teacher.export import ExportError

    try:
        names = build(options.zip.resolve())
    except ExportError as error:
        print(f"gradescope: {error}", file=sys.stderr)
        return 2
    hidden = sum(1 for name in names if name.endswith("_hidden.py"))
    print(f"wrote {options.zip} ({len(names)} files, {hidden} hidden grader files; no solutions or mutants): "
          "upload it as the assignment's autograder")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "gradescope"))
