"""Every message a grader writes for a student exists in English and in Chinese.

A message reaches a student through an `assert ..., message`, `pytest.fail(message)` or a raised
`StudentError`/`TimedOut`/`AssertionError`. Its words must come from `say(en, zh)`: a string with words in it
anywhere else in such a message is English that a student reading Chinese would get. Values (names, numbers,
rows) may be put together around `say(...)` freely. The self-check proves the other half at run time: it
grades every mutant with COURSE_LANG=both and requires Chinese in each failure (tests/test_course.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

GRADERS = Path(__file__).resolve().parents[1] / "graders"
RAISED = {"AssertionError", "ServiceUnavailable", "StudentError", "StudentMistake", "TimedOut"}
WORDS = re.compile(r"[A-Za-z]{2,}")


def messages(tree: ast.AST) -> list[ast.expr]:
    """Every expression in `tree` that becomes a message a student reads."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            found.append(node.msg)
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if name in RAISED or (name == "fail" and isinstance(function, ast.Attribute)):
                found.append(node.args[0])
    return found


def english(message: ast.expr) -> list[str]:
    """The strings with words in `message` that are not inside a say(...) call."""
    said = {
        id(inner)
        for node in ast.walk(message)
        if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "say")
        or isinstance(node, ast.Subscript)  # facts["message"]: a key, not words
        for inner in ast.walk(node.slice if isinstance(node, ast.Subscript) else node)
    }
    return [
        node.value
        for node in ast.walk(message)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in said
        and WORDS.search(node.value)
    ]


def grader_modules() -> list[Path]:
    return sorted(path for path in GRADERS.rglob("*.py") if "mutants" not in path.parts)


@pytest.mark.parametrize("path", grader_modules(), ids=lambda path: str(path.relative_to(GRADERS)))
def test_every_message_is_said_in_both_languages(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    untranslated = [
        f"{path.relative_to(GRADERS.parent)}:{message.lineno}: {text!r}"
        for message in messages(tree)
        for text in english(message)
    ]
    assert not untranslated, "messages with words outside say(en, zh):\n" + "\n".join(untranslated)


def test_the_check_sees_words_outside_say() -> None:
    tree = ast.parse(
        "assert x, say(f'{n} rows', f'{n} 行') + ', expected 2'\n"
        "pytest.fail(say('a', '甲'))\n"
        "raise StudentError(f'{name} is not written yet')\n"
    )
    found = [text for message in messages(tree) for text in english(message)]
    assert found == [", expected 2", " is not written yet"]
