"""Mutants: known-wrong variants of a solution, each stored as the one change a student might make.

`graders/<topic>/mutants.toml` names each mutant with the mistake it stands for, the tasks the graders must
fail (`fails`) and a phrase their message must contain (`says`). The change itself is a unified diff against
`solutions/<topic>/`, in `graders/<topic>/mutants/<name>.diff`, so a teacher reads the mistake as a diff, and
a change to the solution cannot silently leave a stale copy behind: a diff that no longer applies is an
error that names the hunk.

Grading a mutant lays the patched files out in `.mutants/<topic>/<name>/` (a full copy of the graded folder
with the diff applied) and grades that folder like any other.

`python -m graders.harness.core.mutants TOPIC [NAME]` (`nox -s mutant -- TOPIC [NAME]`) lists a topic's
mutants or shows one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import contextlib

from graders.harness.core.curriculum import ROOT

GRADERS = ROOT / "graders"
BUILT = ROOT / ".mutants"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(Exception):
    """A mutant's diff does not apply to the folder it is laid over."""


@dataclass(frozen=True)
class Mutant:
    topic_dir: str
    name: str
    mistake: str
    fails: tuple[int, ...]
    says: str

    @property
    def diff_path(self) -> Path:
        return GRADERS / self.topic_dir / "mutants" / f"{self.name}.diff"

    @property
    def diff(self) -> str:
        return self.diff_path.read_text(encoding="utf-8")


def mutants_of(topic_dir: str) -> dict[str, Mutant]:
    """The mutants of a topic, in the order of its mutants.toml."""
    manifest = GRADERS / topic_dir / "mutants.toml"
    if not manifest.exists():
        return {}
    table = tomllib.loads(manifest.read_text(encoding="utf-8"))
    return {
        name: Mutant(topic_dir, name, entry["mistake"], tuple(entry["fails"]), entry["says"])
        for name, entry in table.items()
    }


@dataclass
class _FilePatch:
    path: str
    hunks: list[tuple[int, list[str], list[str]]]  # (first old line, old lines, new lines)


def parse(diff: str) -> list[_FilePatch]:
    """The files and hunks of a unified diff (`diff -u` or `git diff` output)."""
    files: list[_FilePatch] = []
    lines = diff.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].strip()
            files.append(_FilePatch(path.removeprefix("b/"), []))
        elif (match := HUNK.match(line)) and files:
            old_count = int(match[2]) if match[2] is not None else 1
            new_count = int(match[4]) if match[4] is not None else 1
            old: list[str] = []
            new: list[str] = []
            index += 1
            while (len(old) < old_count or len(new) < new_count) and index < len(lines):
                body = lines[index]
                index += 1
                if body.startswith("\\"):  # "\ No newline at end of file"
                    continue
                kind, text = (body[:1], body[1:]) if body else (" ", "")
                if kind in " -":
                    old.append(text)
                if kind in " +":
                    new.append(text)
            files[-1].hunks.append((int(match[1]), old, new))
            continue
        index += 1
    return files


def apply(diff: str, folder: Path, label: str = "the diff") -> dict[str, str]:
    """The new text of every file `diff` changes in `folder`; PatchError when a hunk's context is not found.

    A hunk may have moved (lines added or removed above it): its context is searched nearest to the line it
    names first, as `patch` does, but it must match exactly.
    """
    changed: dict[str, str] = {}
    for file in parse(diff):
        target = folder / file.path
        if not target.is_file():
            raise PatchError(f"{label} changes {file.path}, which {folder} does not have")
        text = target.read_text(encoding="utf-8")
        lines = text.splitlines()
        offset = 0  # how far earlier hunks (and the drift they were found at) moved this one
        for number, (start, old, new) in enumerate(file.hunks, 1):
            at = _find(lines, old, start - 1 + offset)
            if at is None:
                shown = "\n".join(f"    {line}" for line in old[:6])
                raise PatchError(
                    f"{label}: hunk {number} of {file.path} no longer applies (did the solution change there?); "
                    f"it expects, near line {start}:\n{shown}"
                )
            lines[at : at + len(old)] = new
            offset = at - (start - 1) + len(new) - len(old)
        changed[file.path] = "\n".join(lines) + "\n"
    if not changed:
        raise PatchError(f"{label} changes nothing: it holds no hunk")
    return changed


def _find(lines: list[str], old: list[str], near: int) -> int | None:
    if not old:
        return max(0, min(near, len(lines)))
    for distance in range(len(lines) + 1):
        for at in (near - distance, near + distance) if distance else (near,):
            if 0 <= at <= len(lines) - len(old) and lines[at : at + len(old)] == old:
                return at
    return None


def build(mutant: Mutant, base: Path) -> Path:
    """`base` (a topic folder) with the mutant's diff applied, laid out in .mutants/<topic>/<name>/.

    The folder is rebuilt only when the diff or the base changed; it is written beside its place and renamed
    into it, so parallel runs of the course's self-check never see half of it.
    """
    label = f"mutant {mutant.name} ({mutant.diff_path.relative_to(ROOT)})"
    if not mutant.diff_path.is_file():
        raise PatchError(f"{label} is missing: every mutant in mutants.toml needs its diff")
    changed = apply(mutant.diff, base, label)
    fingerprint = hashlib.sha256(mutant.diff.encode())
    for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        fingerprint.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    target = BUILT / mutant.topic_dir / mutant.name
    stamp = target / ".fingerprint"
    if stamp.is_file() and stamp.read_text() == fingerprint.hexdigest():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    (BUILT / ".gitignore").write_text("*\n")
    staging = Path(tempfile.mkdtemp(prefix=f".{mutant.name}-", dir=target.parent))
    shutil.copytree(base, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for relative, text in changed.items():
        (staging / relative).write_text(text, encoding="utf-8")
    (staging / ".fingerprint").write_text(fingerprint.hexdigest())
    os.chmod(staging, 0o755)  # mkdtemp's 0700 would hide it from a worker running as another user
    retired = staging.with_name(f"{staging.name}-retired")
    if target.exists():
        with contextlib.suppress(OSError):
            target.rename(retired)
    try:
        staging.rename(target)
    except OSError:  # another run put the same build in place first
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    """`nox -s mutant -- TOPIC [NAME]`: list a topic's mutants, or show one as a teacher reads it."""
    from graders.harness.core import curriculum

    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: nox -s mutant -- TOPIC [NAME]")
        return 2
    topic = curriculum.topic(args[0])  # a wrong name ends as one line with the choices (core/cli.py)
    found = mutants_of(topic.dir)
    if len(args) == 1:
        width = max((len(name) for name in found), default=0)
        for mutant in found.values():
            print(f"{mutant.name:<{width}}  fails {', '.join(map(str, mutant.fails))}: {mutant.mistake}")
        return 0
    mutant = found.get(args[1])
    if mutant is None:
        print(f"{topic.slug} has no mutant {args[1]!r}; it has: {', '.join(found) or 'none'}")
        return 2
    print(f"{mutant.name}: {mutant.mistake}")
    print(f"must fail task(s) {', '.join(map(str, mutant.fails))}, with a message that says {mutant.says!r}\n")
    print(mutant.diff, end="")
    return 0


if __name__ == "__main__":
    from graders.harness.core import cli

    raise SystemExit(cli.run(main, "mutant"))
