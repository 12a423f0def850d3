"""The outline's python操作MySQL: connect, run statements through a cursor, fetch rows, insert safely, close.

Every function but `connect` and `count_students` gets an open connection; the table is
`students (id int primary key auto_increment, name varchar(100) not null, age int)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pymysql.cursors


def connect(config: dict) -> pymysql.connections.Connection:
    """Open a connection with the settings in `config` (host, port, user, password, database, ...).

    utf8mb4 is MySQL's full UTF-8: the old `utf8` (utf8mb3) cannot store 𠮷 or emoji.
    """
    # TODO(task 1): pass every setting of config to pymysql.connect, with charset utf8mb4.
    raise NotImplementedError("task 1")


def execute(conn: pymysql.connections.Connection, sql: str, args: tuple | None = None) -> int:
    """Run one statement that changes rows, commit it, and return how many rows it affected."""
    # TODO(task 2): execute sql with args through a cursor, commit, return the affected-row count.
    raise NotImplementedError("task 2")


def first_student(conn: pymysql.connections.Connection) -> tuple | None:
    """(id, name, age) of the student with the smallest id, or None when there is none."""
    # TODO(task 3): select the students ordered by id and return cursor.fetchone().
    raise NotImplementedError("task 3")


def some_students(conn: pymysql.connections.Connection, n: int) -> list[tuple]:
    """The first `n` students by id (fewer when there are fewer), each as (id, name, age)."""
    raise NotImplementedError("task 3")


def all_students(conn: pymysql.connections.Connection) -> list[tuple]:
    """Every student by id, each as (id, name, age)."""
    raise NotImplementedError("task 3")


def add_student(conn: pymysql.connections.Connection, name: str, age: int) -> int:
    """Insert one student, commit, and return the id the database gave it."""
    # TODO(task 4): insert with %s placeholders (never put the name into the SQL text), commit, return lastrowid.
    raise NotImplementedError("task 4")


def add_students(conn: pymysql.connections.Connection, rows: list[tuple[str, int]]) -> int:
    """Insert every (name, age) of `rows` with one executemany, commit, and return how many were inserted."""
    raise NotImplementedError("task 4")


def count_students(config: dict) -> int:
    """Open a connection of its own, count the students, and close the cursor and the connection,
    also when the query fails."""
    # TODO(task 6): open the connection and the cursor in `with` blocks, so both are closed whatever happens.
    raise NotImplementedError("task 6")


def students_in_batches(conn: pymysql.connections.Connection, size: int) -> Iterator[list[tuple]]:
    """Yield every student by id, each as (id, name, age), in lists of `size` rows (the last one may be shorter).

    A generator: the rows stay on the server until the caller asks for the next batch, so only one batch is in
    memory at a time, however big the table. A caller that stops early closes the generator; the cursor must
    be closed then too.
    """
    # TODO(task 7): open an unbuffered cursor, conn.cursor(pymysql.cursors.SSCursor), in a with block; execute the
    # select; yield cursor.fetchmany(size) as a list until it returns no rows. (fetchall() is no generator: it
    # returns every remaining row at once.)
    raise NotImplementedError("task 7")
