"""`nox -s export -- <dir>`: write the repository students get.

It holds the stubs, the public graders, the harness, noxfile.py, docker-compose.yml, the classroom workflow
and a README for students. It leaves out solutions/, mutants, the course's own tests and CI, and every
hidden grader (a file that sets `pytestmark = pytest.mark.hidden`). In their place `graders/hidden.toml`
counts the hidden checks of each task, so a student's local check can say that more of them run in CI, and
`.stubs/` keeps a copy of exercises/ as exported: `nox -s reset` and watch's `r` key put a file back from it.

The export is taken from the committed tree (`git archive HEAD`), never from the working tree: a stub the
teacher solved while trying an exercise must not ship. With uncommitted changes under exercises/ it refuses
and says which files; outside a git repository it refuses unless `--working-tree` is given.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

from graders.harness.core import cli
from graders.harness.core.curriculum import ROOT, is_hidden

TASK = re.compile(r"@pytest\.mark\.task\((\d+)\)")
COPIED = ["curriculum.toml", "pyproject.toml", "noxfile.py", "docker-compose.yml", ".gitignore", "exercises"]
WORKFLOW = Path(".github/workflows/classroom.yml")
STUDENT_SECTIONS = ("Start", "For students", "Services")


def hidden_files(root: Path = ROOT) -> list[Path]:
    return sorted(path for path in (root / "graders").rglob("*.py") if is_hidden(path))


def hidden_manifest(files: list[Path]) -> str:
    """TOML: for each topic, how many hidden checks each task has."""
    lines = ["# Checks that run only in Classroom CI, counted per task (written by `nox -s export`).", ""]
    by_topic: dict[str, Counter] = {}
    for path in files:
        if not path.name.startswith("test_"):
            continue
        counts = by_topic.setdefault(path.parent.name.replace("_", "-"), Counter())
        counts.update(int(number) for number in TASK.findall(path.read_text(encoding="utf-8")))
    for topic, counts in sorted(by_topic.items()):
        lines.append(f'[{topic}]\n{chr(10).join(f"{task} = {n}" for task, n in sorted(counts.items()))}\n')
    return "\n".join(lines)


def student_readme(text: str) -> str:
    """The README's title, introduction and student sections, plus how grading works in the classroom."""
    parts = re.split(r"(?m)^(?=## )", text)
    kept = [parts[0]] + [p for p in parts[1:] if p[3:].split(" · ")[0].strip() in STUDENT_SECTIONS]
    kept.append(
        "## Grading · 评分\n\n"
        "Every push is graded by GitHub Actions (`.github/workflows/classroom.yml`): the score table is in the\n"
        "run's summary, failing tasks are marked in your files, and the score goes to GitHub Classroom. Some\n"
        "checks run only there; your local check says how many.\n\n"
        "每次 push 都会由 GitHub Actions 评分：得分表在运行摘要里，没通过的任务会在你的文件中标出，分数会提交到\n"
        "GitHub Classroom。有些检查只在那里运行；本地检查会告诉你还有几项。\n"
    )
    return "".join(kept)


def ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {name for name in names if name in {"__pycache__", "mutants", "mutants.toml"}}
    return skipped | {name for name in names if is_hidden(Path(folder) / name)}


def export(target: Path, root: Path = ROOT) -> Path:
    if target.exists() and any(target.iterdir()):
        raise SystemExit(f"{target} is not empty: export into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    shutil.copytree(root / "exercises", target / ".stubs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "graders", target / "graders", ignore=ignore)
    (target / "graders" / "hidden.toml").write_text(hidden_manifest(hidden_files(root)), encoding="utf-8")
    (target / WORKFLOW).parent.mkdir(parents=True)
    shutil.copy2(root / WORKFLOW, target / WORKFLOW)
    (target / "README.md").write_text(student_readme((root / "README.md").read_text(encoding="utf-8")))
    return target


class ExportError(Exception):
    """The export cannot be taken as asked; the message says why and what to do."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120)


def committed_tree(root: Path, into: Path) -> Path:
    """HEAD of the repository at `root`, extracted into `into`; refuses when exercises/ has changes that are
    not committed (they would silently be left out, or worse, be what the teacher meant to ship)."""
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise ExportError(f"{root} is not a git repository: export takes the committed tree "
                          "(use --working-tree to copy the files as they are)")
    changed = _git(root, "status", "--porcelain", "--untracked-files=all", "--", "exercises")
    dirty = changed.stdout.decode(errors="replace").splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise ExportError(f"exercises/ has {len(dirty)} uncommitted change(s) ({shown}): commit or stash them "
                          "(`git stash -u`) first; the export is taken from the last commit, so a stub you "
                          "solved while testing never reaches students")
    return extract_commit(root, "HEAD", into)


def extract_commit(root: Path, rev: str, into: Path) -> Path:
    """Commit `rev` of the repository at `root`, extracted into `into` (`git archive`)."""
    archive = _git(root, "archive", "--format=tar", rev)
    if archive.returncode != 0:
        raise ExportError(f"git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
            tar.extractall(into, filter="data")
        else:  # pragma: no cover - our own repository's archive, not a stranger's tarball
            tar.extractall(into)
    return into


def export_committed(target: Path, root: Path = ROOT) -> Path:
    with tempfile.TemporaryDirectory(prefix="course-export-") as scratch:
        return export(target, committed_tree(root, Path(scratch)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, nargs="?", help="a new, empty folder")
    parser.add_argument("--list-hidden", action="store_true", help="print the hidden grader files and stop")
    parser.add_argument("--working-tree", action="store_true",
                        help="copy the files as they are instead of the last commit (outside git only)")
    options = parser.parse_args(argv)
    if options.list_hidden:
        for path in hidden_files(Path.cwd()):
            print(path.relative_to(Path.cwd()))
        return 0
    if options.target is None:
        parser.error("name the folder to export to")
    try:
        if options.working_tree:
            target = export(options.target.resolve())
        else:
            target = export_committed(options.target.resolve())
    except ExportError as error:
        print(f"export refused: {error}", file=sys.stderr)
        return 2
    hidden = len(hidden_files())
    print(f"exported the student repository to {target} ({hidden} hidden grader files left out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "export"))
