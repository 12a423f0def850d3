"""SQL topics: named statements in a student's .sql file, run on a scratch database, compared as rows.

A `.sql` file holds statements, each after a `-- name: <name>` line (the style of yesql and aiosql):

    -- name: first_three
    select * from student order by id limit 3;

Statements run as a user who may only touch the test's scratch database, so a stray `drop database`
harms nothing. Results are compared as multisets of rows unless the task asks for an order.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from graders.harness.core.student import Implementation, StudentError, display, read_student_text
from graders.harness.services.mysql import MySQLDatabase

NAME_LINE = re.compile(r"^\s*--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


@dataclass(frozen=True)
class Statement:
    name: str
    text: str
    file: str
    line: int

    @property
    def written(self) -> bool:
        code = "\n".join(line.split("--", 1)[0] for line in self.text.splitlines())
        return bool(code.strip().strip(";").strip())


def named_statements(path: Path) -> dict[str, Statement]:
    text = read_student_text(path)
    statements: dict[str, Statement] = {}
    current: tuple[str, int] | None = None
    body: list[str] = []

    def finish() -> None:
        if current:
            statements[current[0]] = Statement(current[0], "\n".join(body).strip(), display(path), current[1])

    for number, line in enumerate(text.splitlines(), 1):
        match = NAME_LINE.match(line)
        if match:
            finish()
            current, body = (match[1], number), []
        elif current:
            body.append(line)
    finish()
    return statements


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[tuple]


def normalise(value: object) -> object:
    """One form per value, so MySQL's Decimal('20.50') and MariaDB's Decimal('20.5000') compare equal."""
    if isinstance(value, Decimal):
        value = value.normalize()
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, float):
        return normalise(Decimal(repr(value)))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def statements_of(implementation: Implementation, file: str) -> dict[str, Statement]:
    """The named statements of `file` in the graded folder."""
    return named_statements(implementation.file(file))


def run(database: MySQLDatabase, implementation: Implementation, file: str, name: str) -> Rows:
    """Run the student's statement `name` from `file` and return its rows, or fail with the server's words."""
    statement = statements_of(implementation, file).get(name)
    if statement is None:
        raise StudentError(f"{display(implementation.file(file))} has no statement `-- name: {name}`")
    if not statement.written:
        raise StudentError(f"`{name}` is not written yet", statement.file, statement.line)
    connection = database.connect(read_timeout=10)
    try:
        with connection.cursor() as cursor:
            try:
                cursor.execute(statement.text)
            except Exception as error:
                said = failure(name, error, database, statement.text)
                raise StudentError(said, statement.file, statement.line) from None
            columns = [column[0] for column in cursor.description or ()]
            rows = [tuple(normalise(value) for value in row) for row in cursor.fetchall()]
    finally:
        connection.close()
    return Rows(columns, rows)


# MySQL 8.4 syntax that MariaDB 10.11 rejects: said when MariaDB fails on it, so nobody thinks it is wrong.
MYSQL_ONLY = [
    (re.compile(r"\bcaching_sha2_password\b", re.IGNORECASE), "MariaDB has no caching_sha2_password plugin"),
]

DENIED = {1044, 1045, 1142, 1227, 1410}

# What a syntax error (1064) most likely comes from, when the statement has one of these shapes.
SYNTAX_HINTS = [
    (
        re.compile(r"\bdrop\s+foreign\s+key\s*\(", re.IGNORECASE),
        "a foreign key is dropped by its constraint name, without parentheses: `drop foreign key ds_id`",
    ),
    (re.compile(r"\bauto_crement\b", re.IGNORECASE), "the keyword is spelled auto_increment"),
]


def server_name(database: MySQLDatabase) -> str:
    return "MariaDB" if database.is_mariadb else "MySQL"


HINTS = {
    1055: "every selected column must be in group by or inside an aggregate (ONLY_FULL_GROUP_BY, MySQL 8.4's "
    "default, which these checks use on MariaDB too)",
    1111: "an aggregate (count, avg, ...) cannot stand in where, which looks at one row at a time: compare with a "
    "subquery such as `(select avg(age) from student)`, or filter groups with having",
    1007: "it already exists: a statement meant to run again must say `create database if not exists`",
    1008: "it does not exist (any more): a statement meant to run again must say `drop database if exists`",
    1050: "it already exists: a statement meant to run again must say `create table if not exists`",
    1051: "it does not exist (any more): a statement meant to run again must say `drop table if exists`",
    1068: "a table has one primary key: for two columns write `primary key(a, b)` once, after the columns",
    1075: "auto_increment works only on a key column: make the column the primary key (or a unique key) too",
    1091: "there is no such key or column: a key made by `unique key(phone)` is named after its column, `phone`",
    1133: "the user does not exist: create it first with `create user`",
    1410: "the user does not exist: create it first with `create user` (MySQL 8.4 never creates users in grant)",
    1046: "no database is selected for this name: `on school_db.*` means every table of school_db, while "
    "`on school_db` alone means a table named school_db",
}


def failure(name: str, error: Exception, database: MySQLDatabase, text: str = "", *, denied: str = "") -> str:
    """What a student reads when the server refused their statement `name`."""
    code, message = (error.args[0], error.args[1]) if len(error.args) >= 2 else ("?", str(error))
    said = f"`{name}` failed on {server_name(database)}: ({code}) {message}"
    if code in DENIED and denied:
        said += f"\n  {denied}"
    elif code in HINTS:
        said += f"\n  {HINTS[code]}"
    elif code == 1064:
        said += "".join(f"\n  {hint}" for pattern, hint in SYNTAX_HINTS if pattern.search(text))
    if database.is_mariadb:
        for pattern, why in MYSQL_ONLY:
            if pattern.search(text):
                said += f"\n  this works on MySQL 8.4 but not on MariaDB, the server of this machine: {why}"
    return said


def _show(row: tuple) -> str:
    return "(" + ", ".join("NULL" if value is None else repr(value) for value in row) + ")"


def compare(name: str, got: Rows, expected: list[tuple], *, ordered: bool = False, limit: int = 3) -> None:
    """Fail with a message a student can act on when `got` differs from `expected`."""
    expected = [tuple(normalise(value) for value in row) for row in expected]
    if ordered:
        if got.rows == expected:
            return
        if Counter(got.rows) == Counter(expected):
            raise StudentError(
                f"`{name}` returns the right rows in the wrong order: expected first "
                f"{', '.join(_show(r) for r in expected[:limit])}, got {', '.join(_show(r) for r in got.rows[:limit])}"
            )
    elif Counter(got.rows) == Counter(expected):
        return
    missing = list((Counter(expected) - Counter(got.rows)).elements())
    extra = list((Counter(got.rows) - Counter(expected)).elements())
    if len(got.rows) == len(expected):
        lines = [f"`{name}` returned {len(got.rows)} rows, as expected, but not the right ones"]
    else:
        lines = [f"`{name}` returned {len(got.rows)} rows, expected {len(expected)}"]
    if got.rows and expected and len(got.rows[0]) != len(expected[0]):
        columns = ", ".join(got.columns)
        lines.append(f"  its rows have {len(got.rows[0])} columns ({columns}), expected {len(expected[0])}")
    for label, rows in (("missing", missing), ("unexpected", extra)):
        if rows:
            more = " ..." if len(rows) > limit else ""
            lines.append(f"  {label}: {', '.join(_show(row) for row in rows[:limit])}{more}")
    raise StudentError("\n".join(lines))
