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

from graders.harness.core.curriculum import say
from graders.harness.core.focus import look_at
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
    statement: Statement | None = None  # the statement that returned them: where a wrong result points


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
        raise missing_statement(implementation, file, name)
    look_at(statement.file, statement.line)
    if not statement.written:
        raise not_written(statement)
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
    return Rows(columns, rows, statement)


def missing_statement(implementation: Implementation, file: str, name: str) -> StudentError:
    where = display(implementation.file(file))
    return StudentError(
        say(f"{where} has no statement `-- name: {name}`", f"{where} 里没有 `-- name: {name}` 这条语句")
    )


def not_written(statement: Statement) -> StudentError:
    return StudentError(
        say(f"`{statement.name}` is not written yet", f"`{statement.name}` 还没有写"), statement.file, statement.line
    )


# MySQL 8.4 syntax that MariaDB 10.11 rejects: said when MariaDB fails on it, so nobody thinks it is wrong.
MYSQL_ONLY = [
    (
        re.compile(r"\bcaching_sha2_password\b", re.IGNORECASE),
        ("MariaDB has no caching_sha2_password plugin", "MariaDB 没有 caching_sha2_password 插件"),
    ),
]

DENIED = {1044, 1045, 1142, 1227, 1410}

# What a syntax error (1064) most likely comes from, when the statement has one of these shapes.
SYNTAX_HINTS = [
    (
        re.compile(r"\bdrop\s+foreign\s+key\s*\(", re.IGNORECASE),
        (
            "a foreign key is dropped by its constraint name, without parentheses: `drop foreign key ds_id`",
            "外键要用它的约束名删除，不带括号：`drop foreign key ds_id`",
        ),
    ),
    (
        re.compile(r"\bauto_crement\b", re.IGNORECASE),
        ("the keyword is spelled auto_increment", "关键字应写作 auto_increment"),
    ),
]


def server_name(database: MySQLDatabase) -> str:
    return "MariaDB" if database.is_mariadb else "MySQL"


HINTS = {
    1055: (
        "every selected column must be in group by or inside an aggregate (ONLY_FULL_GROUP_BY, MySQL 8.4's "
        "default, which these checks use on MariaDB too)",
        "select 的每一列都必须出现在 group by 里或者放在聚合函数里（ONLY_FULL_GROUP_BY，MySQL 8.4 的默认设置，"
        "在 MariaDB 上检查时也这样要求）",
    ),
    1111: (
        "an aggregate (count, avg, ...) cannot stand in where, which looks at one row at a time: compare with a "
        "subquery such as `(select avg(age) from student)`, or filter groups with having",
        "聚合函数（count、avg 等）不能写在 where 里，where 一次只看一行：可以和子查询比较，例如 "
        "`(select avg(age) from student)`，或者用 having 过滤分组",
    ),
    1007: (
        "it already exists: a statement meant to run again must say `create database if not exists`",
        "它已经存在：需要能重复执行的语句要写 `create database if not exists`",
    ),
    1008: (
        "it does not exist (any more): a statement meant to run again must say `drop database if exists`",
        "它不存在（或已经被删除）：需要能重复执行的语句要写 `drop database if exists`",
    ),
    1050: (
        "it already exists: a statement meant to run again must say `create table if not exists`",
        "它已经存在：需要能重复执行的语句要写 `create table if not exists`",
    ),
    1051: (
        "it does not exist (any more): a statement meant to run again must say `drop table if exists`",
        "它不存在（或已经被删除）：需要能重复执行的语句要写 `drop table if exists`",
    ),
    1068: (
        "a table has one primary key: for two columns write `primary key(a, b)` once, after the columns",
        "一张表只有一个主键：两列组成的主键要在列定义之后写一次 `primary key(a, b)`",
    ),
    1075: (
        "auto_increment works only on a key column: make the column the primary key (or a unique key) too",
        "auto_increment 只能用在键列上：把这一列也设为主键（或唯一键）",
    ),
    1091: (
        "there is no such key or column: a key made by `unique key(phone)` is named after its column, `phone`",
        "没有这个键或列：`unique key(phone)` 创建的键以列名命名，叫 `phone`",
    ),
    1133: (
        "the user does not exist: create it first with `create user`",
        "用户不存在：先用 `create user` 创建它",
    ),
    1410: (
        "the user does not exist: create it first with `create user` (MySQL 8.4 never creates users in grant)",
        "用户不存在：先用 `create user` 创建它（MySQL 8.4 的 grant 不会自动创建用户）",
    ),
    1046: (
        "no database is selected for this name: `on school_db.*` means every table of school_db, while "
        "`on school_db` alone means a table named school_db",
        "这个名字没有对应的数据库：`on school_db.*` 指 school_db 的所有表，而单独的 `on school_db` "
        "指一张名叫 school_db 的表",
    ),
}


def failure(
    name: str, error: Exception, database: MySQLDatabase, text: str = "", *, denied: str = "", again: bool = False
) -> str:
    """What a student reads when the server refused their statement `name` (`again`: on its second run)."""
    code, message = (error.args[0], error.args[1]) if len(error.args) >= 2 else ("?", str(error))
    server = server_name(database)
    if again:
        said = say(
            f"`{name}` must be safe to run twice: the first run worked, but the second failed on {server}: "
            f"({code}) {message}",
            f"`{name}` 必须可以重复执行：第一次成功了，但第二次在 {server} 上失败：({code}) {message}",
        )
    else:
        said = say(f"`{name}` failed on {server}: ({code}) {message}",
                   f"`{name}` 在 {server} 上执行失败：({code}) {message}")
    if code in DENIED and denied:
        said += f"\n  {denied}"
    elif code in HINTS:
        said += f"\n  {say(*HINTS[code])}"
    elif code == 1064:
        said += "".join(f"\n  {say(*hint)}" for pattern, hint in SYNTAX_HINTS if pattern.search(text))
    if database.is_mariadb:
        for pattern, (why, why_zh) in MYSQL_ONLY:
            if pattern.search(text):
                said += "\n  " + say(f"this works on MySQL 8.4 but not on MariaDB, the server of this machine: {why}",
                                     f"这在 MySQL 8.4 上可以，但在本机的服务器 MariaDB 上不行：{why_zh}")
    return said


def _show(row: tuple) -> str:
    return "(" + ", ".join("NULL" if value is None else repr(value) for value in row) + ")"


def compare(name: str, got: Rows, expected: list[tuple], *, ordered: bool = False, limit: int = 3) -> None:
    """Fail with a message a student can act on when `got` differs from `expected`, pointing at the statement."""
    expected = [tuple(normalise(value) for value in row) for row in expected]
    where = (got.statement.file, got.statement.line) if got.statement else (None, None)
    if ordered:
        if got.rows == expected:
            return
        if Counter(got.rows) == Counter(expected):
            first = ", ".join(_show(r) for r in expected[:limit])
            returned = ", ".join(_show(r) for r in got.rows[:limit])
            raise StudentError(
                say(f"`{name}` returns the right rows in the wrong order: expected first {first}, got {returned}",
                    f"`{name}` 返回的行对了，但顺序不对：前几行应当是 {first}，实际是 {returned}"),
                *where,
            )
    elif Counter(got.rows) == Counter(expected):
        return
    missing = list((Counter(expected) - Counter(got.rows)).elements())
    extra = list((Counter(got.rows) - Counter(expected)).elements())
    count, wanted = len(got.rows), len(expected)
    if count == wanted:
        lines = [say(f"`{name}` returned {count} rows, as expected, but not the right ones",
                     f"`{name}` 返回了 {count} 行，行数对了，但内容不对")]
    else:
        lines = [say(f"`{name}` returned {count} rows, expected {wanted}",
                     f"`{name}` 返回了 {count} 行，应当是 {wanted} 行")]
    if got.rows and expected and len(got.rows[0]) != len(expected[0]):
        columns, width, expected_width = ", ".join(got.columns), len(got.rows[0]), len(expected[0])
        lines.append("  " + say(f"its rows have {width} columns ({columns}), expected {expected_width}",
                                f"每行有 {width} 列（{columns}），应当是 {expected_width} 列"))
    for label, rows in ((say("missing: ", "缺少："), missing), (say("unexpected: ", "多出："), extra)):
        if rows:
            more = " ..." if len(rows) > limit else ""
            lines.append(f"  {label}{', '.join(_show(row) for row in rows[:limit])}{more}")
    raise StudentError("\n".join(lines), *where)
