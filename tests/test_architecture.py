"""The harness's folders draw its architecture: each folder imports only from the folders below it.

The order is the one in `graders/harness/__init__.py`. A module that imports upward (a view importing the
plugin, a service importing a view) fails here with the import named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "graders" / "harness"
ALLOWED = {
    "core": {"core"},
    "services": {"core", "services"},
    "sql": {"core", "services", "sql"},
    "views": {"core", "views"},
    "loop": {"core", "views", "loop"},
    "teacher": {"core", "services", "views", "teacher"},
}


def harness_imports(path: Path) -> list[tuple[int, str]]:
    """(line, folder) of every import of another harness module in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["graders", "harness"] and len(parts) > 2:
                found.append((node.lineno, parts[2]))
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_a_folder_imports_only_downward(folder: str) -> None:
    upward = [
        f"{path.relative_to(HARNESS)}:{line} imports graders.harness.{target}"
        for path in sorted((HARNESS / folder).rglob("*.py"))
        for line, target in harness_imports(path)
        if target not in ALLOWED[folder]
    ]
    assert not upward, "imports against the layering of graders/harness/__init__.py:\n" + "\n".join(upward)


def test_every_folder_is_in_the_layering() -> None:
    folders = {path.name for path in HARNESS.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(ALLOWED)
