"""`nox -s reset -- <topic> [file|all]`: put an exercise file back as the stub, keeping yours as a backup.

The stub comes from `.stubs/<dir>/` where `nox -s export` wrote it (the students' repository, whatever they
committed since), else from git as committed (`git show HEAD:exercises/<dir>/<file>`, the course's own
repository). Your file is copied to `<file>.bak-<date>-<time>` next to it first; nothing is deleted.
Watch's `r` key does the same for the topic it watches.
"""

from __future__ import annotations

import argparse
import subprocess
from datetime import datetime
from pathlib import Path

from graders.harness.core import cli, curriculum
from graders.harness.views.text import wrapped

STUBS = curriculum.ROOT / ".stubs"
BACKUP = ".bak-"

WORDS = {
    "en": {
        "changed": "files of {folder} that differ from the stub ({source}): {files}",
        "how": "reset one with `nox -s reset -- {slug} FILE`, or all of them with `nox -s reset -- {slug} all`",
        "same": "every file of {folder} is as the stub ({source}): nothing to reset",
        "done": "{file} is the stub again ({source})",
        "kept": "; yours is kept in {backup}",
        "unchanged": "{file} is the stub already ({source}): nothing to reset",
        "unknown": "{folder} has no stub file {name!r}; its files are {files}",
        "exported": "as exported", "committed": "as committed in git",
    },
    "zh": {
        "changed": "{folder} 中与初始代码（{source}）不同的文件：{files}",
        "how": "用 `nox -s reset -- {slug} 文件名` 恢复一个文件，或用 `nox -s reset -- {slug} all` 全部恢复",
        "same": "{folder} 的文件都与初始代码（{source}）相同，不需要恢复",
        "done": "{file} 已恢复为初始代码（{source}）",
        "kept": "；你的版本保存在 {backup}",
        "unchanged": "{file} 与初始代码（{source}）相同，不需要恢复",
        "unknown": "{folder} 没有名为 {name!r} 的初始文件；它的文件是 {files}",
        "exported": "导出时的版本", "committed": "git 中提交的版本",
    },
}


class NoStub(curriculum.NotInCourse):
    """There is nothing to reset from (or to): the message says why. Reported like a mistyped topic."""


def words() -> dict[str, str]:
    return WORDS[curriculum.language()]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(curriculum.ROOT), *args], capture_output=True, timeout=60)


def stub_files(topic: curriculum.Topic) -> tuple[dict[str, bytes], str]:
    """Every file of the topic's stub (path under exercises/<dir>/ → content), and where they came from."""
    exported = STUBS / topic.dir
    if exported.is_dir():
        files = {path.relative_to(exported).as_posix(): path.read_bytes() for path in sorted(exported.rglob("*"))
                 if path.is_file() and "__pycache__" not in path.parts}
        return files, words()["exported"]
    prefix = f"exercises/{topic.dir}/"
    try:
        listed = _git("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", prefix)
    except (OSError, subprocess.SubprocessError):
        listed = None
    if listed is None or listed.returncode != 0 or not listed.stdout:
        raise NoStub(f"no stub of {topic.slug} to reset from: this folder has no .stubs/{topic.dir}/ (written by "
                     f"`nox -s export`) and git has no {prefix} in HEAD")
    files = {}
    for path in listed.stdout.decode().split("\0"):
        if path:
            # HEAD:./path is read from the course's folder, even where the repository starts above it
            files[path[len(prefix):]] = _git("show", f"HEAD:./{path}").stdout
    return files, words()["committed"]


def _same(mine: bytes, stub: bytes) -> bool:
    return mine.replace(b"\r\n", b"\n") == stub.replace(b"\r\n", b"\n")  # a checkout with CRLF is still the stub


def changed_files(folder: Path, stubs: dict[str, bytes]) -> list[str]:
    """The stub's files that `folder` has changed or lost, in order."""
    return [name for name, stub in stubs.items()
            if not (folder / name).is_file() or not _same((folder / name).read_bytes(), stub)]


def backup_path(target: Path, now: datetime) -> Path:
    backup = target.with_name(f"{target.name}{BACKUP}{now:%Y%m%d-%H%M%S}")
    number = 2
    while backup.exists():
        backup = target.with_name(f"{target.name}{BACKUP}{now:%Y%m%d-%H%M%S}-{number}")
        number += 1
    return backup


def reset_file(folder: Path, name: str, stub: bytes, now: datetime | None = None) -> Path | None:
    """Write the stub over `folder/name`, after copying the student's file to a backup next to it (returned)."""
    target = folder / name
    backup = None
    if target.is_file():
        backup = backup_path(target, now or datetime.now())
        backup.write_bytes(target.read_bytes())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(stub)
    return backup


def shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(curriculum.ROOT).as_posix()
    except ValueError:
        return str(path)


def reset(folder: Path, names: list[str], stubs: dict[str, bytes], source: str) -> list[str]:
    """Reset each named file; one line for each, saying where the student's version was kept."""
    lines = []
    now = datetime.now()
    for name in names:
        backup = reset_file(folder, name, stubs[name], now)
        line = words()["done"].format(file=shown(folder / name), source=source)
        lines.append(line + (words()["kept"].format(backup=shown(backup)) if backup else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", help="topic slug, folder name or number")
    parser.add_argument("file", nargs="?", help="a file of the topic's exercise folder, or `all` (default: list them)")
    parser.add_argument("--impl", default="exercises", help="the folder laid out like exercises/ (default: exercises)")
    options = parser.parse_args(argv)
    topic = curriculum.topic(options.topic)
    base = Path(options.impl)
    folder = (base if base.is_absolute() else curriculum.ROOT / base) / topic.dir
    stubs, source = stub_files(topic)
    changed = changed_files(folder, stubs)
    text = words()
    where = shown(folder) + "/"
    if options.file is None or (options.file == "all" and not changed):
        if not changed:
            print(wrapped(text["same"].format(folder=where, source=source)))
            return 0
        print(wrapped(text["changed"].format(folder=where, source=source, files=", ".join(changed)),
                      text["how"].format(slug=topic.slug)))
        return 0
    if options.file == "all":
        names = changed
    else:
        name = Path(options.file).as_posix().removeprefix(f"exercises/{topic.dir}/")
        if name not in stubs:
            raise NoStub(text["unknown"].format(folder=where, name=options.file, files=", ".join(stubs)))
        if name not in changed:
            print(wrapped(text["unchanged"].format(file=shown(folder / name), source=source)))
            return 0
        names = [name]
    print(wrapped(*reset(folder, names, stubs, source)))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "reset"))
