"""Lines for a terminal: wrapped by display width, where a Chinese character takes two columns."""

from __future__ import annotations

import re
import shutil
import unicodedata

CLOSING = "，。、；：！？）》」』”’"  # punctuation that never starts a line


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def width(text: str) -> int:
    """Columns on a terminal: CJK characters and full-width punctuation take two."""
    return sum(2 if _wide(char) else 1 for char in text)


SHORT_CODE = re.compile(r"`[^`\n]{1,30}`")  # `nox -s watch`: kept on one line


def _pieces(text: str) -> list[str]:
    """Words with the spaces after them, each wide character with the closing punctuation after it, and
    short `code` whole."""
    pieces: list[str] = []
    at = 0
    for code in [*SHORT_CODE.finditer(text), None]:
        for char in text[at:code.start() if code else len(text)]:
            if char in CLOSING and pieces:
                pieces[-1] += char
            elif (_wide(char) or not pieces or _wide(pieces[-1][-1])
                  or (pieces[-1][-1].isspace() and not char.isspace())):
                pieces.append(char)
            else:
                pieces[-1] += char
        if code:
            if pieces and not pieces[-1][-1].isspace() and not _wide(pieces[-1][-1]):
                pieces[-1] += code[0]  # glued to the word before it, as in (`x`)
            else:
                pieces.append(code[0])
            at = code.end()
    return pieces


def wrap(text: str, columns: int, indent: str = "  ", first: str = "") -> list[str]:
    """`text` in lines of at most `columns` columns, the first starting with `first` and the later ones with
    `indent`: English breaks between words, Chinese between any two characters (never before its closing
    punctuation)."""
    lines, line = [], first
    for piece in _pieces(text):
        if line.strip() and width(line + piece.rstrip()) > columns:
            lines.append(line.rstrip())
            line = indent + piece.lstrip()
        else:
            line += piece
    return [*lines, line.rstrip()] if line.strip() else lines


def terminal_width() -> int:
    """The columns to fill: the terminal's (or $COLUMNS), at most 100, less one so a full line never wraps."""
    return min(100, shutil.get_terminal_size((100, 24)).columns) - 1


def wrapped(*texts: str) -> str:
    """Every line of `texts` wrapped at the terminal's width."""
    rows = [row for text in texts for row in text.split("\n")]
    return "\n".join(part for row in rows for part in (wrap(row, terminal_width()) or [""]))
