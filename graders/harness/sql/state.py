"""Judging DDL, DML and account statements by what they leave on the server, alike on MySQL 8.4 and MariaDB 10.11.

`graders.harness.sql.statements` runs a named query and compares its rows. The statements of sql-basics and
sql-constraints change the server instead (tables, keys, rows, users), so these helpers run a statement,
optionally twice, and read the state back through information_schema with every column aliased (MySQL 8.4
labels information_schema columns in upper case) and every value normalised (MariaDB writes `int(11)` and
`'北京'` where MySQL writes `int` and `北京`; MySQL says NO ACTION where MariaDB says RESTRICT).
Never through SHOW CREATE TABLE, whose text differs between the two servers.

Used by sql-basics and sql-constraints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders.harness.core.curriculum import say
from graders.harness.core.focus import look_at
from graders.harness.core.student import Implementation, StudentError
from graders.harness.services.mysql import MySQLDatabase
from graders.harness.sql import statements as sql
from graders.harness.sql.statements import failure

# Statements that MariaDB 10.11 accepts and MySQL 8.4 (GitHub Actions, the students' compose service)
# rejects. They fail everywhere, so a check passed on MariaDB also passes in CI.
MARIADB_ONLY = [
    (
        re.compile(r"\bcreate\s+or\s+replace\b", re.IGNORECASE),
        ("`create or replace`", "`create or replace`"),
        (
            "drop what is there first (`drop ... if exists`), or use `if not exists`",
            "先删除已有的（`drop ... if exists`），或者使用 `if not exists`",
        ),
    ),
    (
        re.compile(
            r"\b(?:add|drop|modify|change)\s+(?:column\s+|index\s+|key\s+|foreign\s+key\s+|constraint\s+)?"
            r"if\s+(?:not\s+)?exists\b",
            re.IGNORECASE,
        ),
        ("`if exists` / `if not exists` inside alter table", "alter table 里的 `if exists` / `if not exists`"),
        ("write the plain `alter table ... drop ...` / `add ...`", "直接写 `alter table ... drop ...` / `add ...`"),
    ),
    (
        re.compile(r"\bgrant\b.*\bidentified\b", re.IGNORECASE | re.DOTALL),
        ("`grant ... identified by`", "`grant ... identified by`"),
        (
            "create the user with `create user ... identified by '...'`, then grant in a statement of its own",
            "先用 `create user ... identified by '...'` 创建用户，再用单独一条语句 grant",
        ),
    ),
]

def statement(implementation: Implementation, file: str, name: str) -> sql.Statement:
    """The student's statement `name`, written, in a form both servers accept."""
    found = sql.statements_of(implementation, file).get(name)
    if found is None:
        raise sql.missing_statement(implementation, file, name)
    look_at(found.file, found.line)
    if not found.written:
        raise sql.not_written(found)
    code = code_of(found.text)
    for pattern, (what, what_zh), (instead, instead_zh) in MARIADB_ONLY:
        if pattern.search(code):
            raise StudentError(
                say(f"`{name}` uses {what}: MariaDB accepts it, but MySQL 8.4 (the server of GitHub Actions and of "
                    f"docker-compose.yml) rejects it, so it is not accepted here either; {instead}",
                    f"`{name}` 用了 {what_zh}：MariaDB 接受它，但 MySQL 8.4（GitHub Actions 和 docker-compose.yml "
                    f"用的服务器）会拒绝，所以这里也不接受；{instead_zh}"),
                found.file,
                found.line,
            )
    if inline_reference(code):
        raise StudentError(
            say(f"`{name}` writes `references` inside a column definition: MariaDB makes that a foreign key, but "
                "MySQL 8.4 (the server of GitHub Actions and of docker-compose.yml) parses it and ignores it, so "
                "there would be no foreign key; write it apart: `foreign key(column) references table(column)`",
                f"`{name}` 把 `references` 写在了列定义里：MariaDB 会把它当作外键，但 MySQL 8.4（GitHub Actions 和 "
                "docker-compose.yml 用的服务器）只解析、不生效，结果没有外键；请单独写："
                "`foreign key(column) references table(column)`"),
            found.file,
            found.line,
        )
    return found


def inline_reference(code: str) -> bool:
    """A `references` that follows a column definition rather than `foreign key(...)`."""
    for match in re.finditer(r"\breferences\b", code, re.IGNORECASE):
        before = code[: match.start()]
        if not re.search(r"foreign\s+key\s*(?:`?\w+`?\s*)?\([^()]*\)\s*$", before, re.IGNORECASE):
            return True
    return False


def code_of(text: str) -> str:
    """The statement without its comments (`-- `, `#`, `/* */`); quoted text, where these may stand, is kept."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            out.append(char)
            if char == "\\" and quote != "`" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            out.append(char)
        elif char == "#" or text.startswith("-- ", i) or text.startswith("--\n", i) or text.startswith("--\t", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            out.append(" ")
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out).strip()


def execute(
    connection,
    database: MySQLDatabase,
    found: sql.Statement,
    *,
    text: str | None = None,
    again: bool = False,
    denied: str = "",
) -> None:
    """Run the statement (`text` when the check renamed something in it), or fail saying why; `again` when
    it already ran once and must be safe to run a second time."""
    text = found.text if text is None else text
    try:
        with connection.cursor() as cursor:
            cursor.execute(text)
            cursor.fetchall()
    except Exception as error:
        if not error.args or not isinstance(error.args[0], int):
            raise
        said = failure(found.name, error, database, text, denied=denied, again=again)
        raise StudentError(said, found.file, found.line) from None


def rows(connection, query: str, args: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, args or None)  # no args: a % in the text stays a %
        return [tuple(sql.normalise(value) for value in row) for row in cursor.fetchall()]


def fails_with(connection, query: str, args: tuple = ()) -> tuple[int, str] | None:
    """The server's error (code, text) for a statement of the checks' own, such as a violating insert;
    None when it worked."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, args or None)
    except Exception as error:
        if error.args and isinstance(error.args[0], int):
            return error.args[0], str(error.args[1]) if len(error.args) > 1 else ""
        raise
    return None


# -- information_schema, aliased and normalised -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # int, varchar, double, enum...
    type: str  # the full type, integer display widths dropped: varchar(20), enum('male','female'), int
    length: int | None  # characters, for char and varchar
    nullable: bool
    default: str | None
    extra: str
    key: str


def normalise_type(column_type: str) -> str:
    """MariaDB's `int(11)` is MySQL 8.4's `int`; spaces and case as MySQL writes them."""
    text = column_type.strip().lower()
    text = re.sub(r"^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)", r"\1", text)
    return re.sub(r"\s*,\s*", ",", text)


def normalise_default(value: object) -> str | None:
    """One form for both servers: MariaDB quotes text defaults ('北京') and says 'NULL' and
    current_timestamp(); MySQL 8.4 says 北京, SQL NULL and CURRENT_TIMESTAMP."""
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text == "NULL":
        return None
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"(current_timestamp|now)(\(\))?", text, re.IGNORECASE):
        return "current_timestamp"
    return text


def enum_values(column_type: str) -> list[str]:
    return [value.replace("''", "'") for value in re.findall(r"'((?:[^']|'')*)'", column_type)]


def columns(connection, table: str) -> list[Column]:
    """The columns of `table` in the current database, in their order."""
    found = rows(
        connection,
        "select COLUMN_NAME as column_name, DATA_TYPE as data_type, COLUMN_TYPE as column_type, "
        "CHARACTER_MAXIMUM_LENGTH as max_length, IS_NULLABLE as is_nullable, COLUMN_DEFAULT as column_default, "
        "EXTRA as extra, COLUMN_KEY as column_key "
        "from information_schema.COLUMNS where TABLE_SCHEMA = database() and TABLE_NAME = %s "
        "order by ORDINAL_POSITION",
        (table,),
    )
    return [
        Column(
            name=name,
            data_type=str(data_type).lower(),
            type=normalise_type(str(column_type)),
            length=int(length) if length is not None and str(data_type).lower() in ("char", "varchar") else None,
            nullable=is_nullable == "YES",
            default=normalise_default(default),
            extra=str(extra or "").lower(),
            key=str(key or ""),
        )
        for name, data_type, column_type, length, is_nullable, default, extra, key in found
    ]


def tables(connection) -> list[str]:
    return [
        name
        for (name,) in rows(
            connection,
            "select TABLE_NAME as table_name from information_schema.TABLES where TABLE_SCHEMA = database()",
        )
    ]


def unique_keys(connection, table: str) -> dict[str, tuple[str, ...]]:
    """Every unique index of `table` but the primary key: its name and its columns in order."""
    found = rows(
        connection,
        "select INDEX_NAME as index_name, COLUMN_NAME as column_name from information_schema.STATISTICS "
        "where TABLE_SCHEMA = database() and TABLE_NAME = %s and NON_UNIQUE = 0 and INDEX_NAME <> 'PRIMARY' "
        "order by INDEX_NAME, SEQ_IN_INDEX",
        (table,),
    )
    keys: dict[str, tuple[str, ...]] = {}
    for index, column in found:
        keys[index] = (*keys.get(index, ()), column)
    return keys


def primary_key(connection, table: str) -> tuple[str, ...]:
    return tuple(
        column
        for (column,) in rows(
            connection,
            "select COLUMN_NAME as column_name from information_schema.STATISTICS "
            "where TABLE_SCHEMA = database() and TABLE_NAME = %s and INDEX_NAME = 'PRIMARY' order by SEQ_IN_INDEX",
            (table,),
        )
    )


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # RESTRICT for both RESTRICT and NO ACTION: InnoDB treats them alike
    on_update: str

    def describe(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) → {self.ref_table}({', '.join(self.ref_columns)})"


def _rule(rule: str) -> str:
    return "RESTRICT" if rule.upper() in ("NO ACTION", "RESTRICT") else rule.upper()


def foreign_keys(connection) -> list[ForeignKey]:
    """Every foreign key of the current database."""
    found = rows(
        connection,
        "select k.CONSTRAINT_NAME as constraint_name, k.TABLE_NAME as table_name, k.COLUMN_NAME as column_name, "
        "k.REFERENCED_TABLE_NAME as referenced_table, k.REFERENCED_COLUMN_NAME as referenced_column, "
        "r.DELETE_RULE as delete_rule, r.UPDATE_RULE as update_rule "
        "from information_schema.KEY_COLUMN_USAGE k join information_schema.REFERENTIAL_CONSTRAINTS r "
        "on r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA and r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "and r.TABLE_NAME = k.TABLE_NAME "
        "where k.TABLE_SCHEMA = database() and k.REFERENCED_TABLE_NAME is not null "
        "order by k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    keys: dict[tuple[str, str], dict] = {}
    for name, table, column, ref_table, ref_column, on_delete, on_update in found:
        key = keys.setdefault(
            (table, name),
            {"columns": (), "ref_table": ref_table, "ref_columns": (), "rules": (on_delete, on_update)},
        )
        key["columns"] += (column,)
        key["ref_columns"] += (ref_column,)
    return [
        ForeignKey(
            name,
            table,
            key["columns"],
            key["ref_table"],
            key["ref_columns"],
            _rule(key["rules"][0]),
            _rule(key["rules"][1]),
        )
        for (table, name), key in keys.items()
    ]
