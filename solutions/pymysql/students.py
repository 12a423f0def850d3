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
    return pymysql.connect(**config, charset="utf8mb4")


def execute(conn: pymysql.connections.Connection, sql: str, args: tuple | None = None) -> int:
    """Run one statement that changes rows, commit it, and return how many rows it affected."""
    with conn.cursor() as cursor:
        row = cursor.execute(sql, args)
    conn.commit()
    return row


def first_student(conn: pymysql.connections.Connection) -> tuple | None:
    """(id, name, age) of the student with the smallest id, or None when there is none."""
    with conn.cursor() as cursor:
        cursor.execute("select id, name, age from students order by id")
        return cursor.fetchone()


def some_students(conn: pymysql.connections.Connection, n: int) -> list[tuple]:
    """The first `n` students by id (fewer when there are fewer), each as (id, name, age)."""
    with conn.cursor() as cursor:
        cursor.execute("select id, name, age from students order by id")
        return list(cursor.fetchmany(n))


def all_students(conn: pymysql.connections.Connection) -> list[tuple]:
    """Every student by id, each as (id, name, age)."""
    with conn.cursor() as cursor:
        cursor.execute("select id, name, age from students order by id")
        return list(cursor.fetchall())


def add_student(conn: pymysql.connections.Connection, name: str, age: int) -> int:
    """Insert one student, commit, and return the id the database gave it."""
    with conn.cursor() as cursor:
        # %s placeholders: pymysql sends the values escaped, so a name can never become SQL.
        cursor.execute("insert into students (name, age) values (%s, %s)", (name, age))
        new_id = cursor.lastrowid
    conn.commit()
    return new_id


def add_students(conn: pymysql.connections.Connection, rows: list[tuple[str, int]]) -> int:
    """Insert every (name, age) of `rows` with one executemany, commit, and return how many were inserted."""
    with conn.cursor() as cursor:
        count = cursor.executemany("insert into students (name, age) values (%s, %s)", rows)
    conn.commit()
    return count


def count_students(config: dict) -> int:
    """Open a connection of its own, count the students, and close the cursor and the connection,
    also when the query fails."""
    with connect(config) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*) from students")
        return cursor.fetchone()[0]


def students_in_batches(conn: pymysql.connections.Connection, size: int) -> Iterator[list[tuple]]:
    """Yield every student by id, each as (id, name, age), in lists of `size` rows (the last one may be shorter).

    A generator: the rows stay on the server until the caller asks for the next batch, so only one batch is in
    memory at a time, however big the table. A caller that stops early closes the generator; the cursor must
    be closed then too.
    """
    # conn.cursor() would read the whole result into memory inside execute(); an SSCursor leaves the rows on the
    # server and reads them as fetchmany asks. The with block closes it also when the caller stops early.
    with conn.cursor(pymysql.cursors.SSCursor) as cursor:
        cursor.execute("select id, name, age from students order by id")
        while batch := cursor.fetchmany(size):
            yield list(batch)
