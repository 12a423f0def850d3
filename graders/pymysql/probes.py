"""Probes for the pymysql topic: they run in the worker, call the student's functions on a real server, and
report what happened, plain data only.

`config` is the scratch database's `student_config`: what `pymysql.connect(**config)` needs. Probes give
the student's functions a connection of their own (so task 1 does not decide the others), and look at
what was committed through a second connection, as any other program would see it.
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import pymysql
import pymysql.connections
import pymysql.cursors

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

FOUR_BYTE_TEXT = "𠮷野家😀"

_kept: list = []  # connections the student left open, kept alive until the grader has counted them


def _connect(config: dict):
    return pymysql.connect(**config)


def _committed(config: dict, query: str) -> list[tuple]:
    """What another connection sees: only what was committed."""
    with _connect(config) as other, other.cursor() as cursor:
        cursor.execute(query)
        return [tuple(row) for row in cursor.fetchall()]


def _error(error: BaseException) -> str:
    if isinstance(error, pymysql.Error) and len(error.args) >= 2:
        return f"{type(error).__name__} ({error.args[0]}) {error.args[1]}"
    return f"{type(error).__name__}: {error}"


class _Recorder:
    """Every connection and cursor pymysql makes, and each statement the student's code hands to a cursor."""

    def __init__(self) -> None:
        self.connections: list = []
        self.cursors: list = []
        self.executes: list[tuple[str, object]] = []
        self.executemanys: list[tuple[str, int]] = []
        self._depth = threading.local()


@contextlib.contextmanager
def recording() -> Iterator[_Recorder]:
    """Patch pymysql's classes (not the module's names, which a student may have imported under others)."""
    seen = _Recorder()
    connection_class, cursor_class = pymysql.connections.Connection, pymysql.cursors.Cursor
    original = {
        "connect": connection_class.connect,
        "init": cursor_class.__init__,
        "execute": cursor_class.execute,
        "executemany": cursor_class.executemany,
    }

    def connect(self, *args, **kwargs):
        seen.connections.append(self)
        return original["connect"](self, *args, **kwargs)

    def init(self, *args, **kwargs):
        seen.cursors.append(self)
        return original["init"](self, *args, **kwargs)

    def outermost(kind: str, call):
        # pymysql's executemany calls execute itself; only what the student's code called counts.
        def wrapper(self, query, args=None):
            depth = getattr(seen._depth, "value", 0)
            if depth == 0:
                text = query.decode("utf-8", "replace") if isinstance(query, (bytes, bytearray)) else str(query)
                if kind == "execute":
                    seen.executes.append((text, args))
                else:
                    seen.executemanys.append((text, len(args) if args is not None else 0))
            seen._depth.value = depth + 1
            try:
                return call(self, query, args)
            finally:
                seen._depth.value = depth

        return wrapper

    connection_class.connect = connect
    cursor_class.__init__ = init
    cursor_class.execute = outermost("execute", original["execute"])
    cursor_class.executemany = outermost("executemany", original["executemany"])
    try:
        yield seen
    finally:
        connection_class.connect = original["connect"]
        cursor_class.__init__ = original["init"]
        cursor_class.execute = original["execute"]
        cursor_class.executemany = original["executemany"]


# -- task 1 ---------------------------------------------------------------------------------------------------


def connect_check(config: dict) -> dict:
    """Open a connection with the student's connect(config) and ask it who, where and in which charset it is."""
    try:
        conn = student_module("students").connect(dict(config))
    except (StudentMistake, NotImplementedError):
        raise
    except Exception as error:
        note = ""
        if "encoding" in str(error):
            note = say(
                "; pymysql did not know the charset: MySQL's name for full UTF-8 is utf8mb4 (not utf-8)",
                "；pymysql 不认识这个字符集：MySQL 中完整的 UTF-8 叫 utf8mb4（而不是 utf-8）",
            )
        raised = _error(error)
        said = say(f"connect(config) raised {raised}", f"connect(config) 抛出了 {raised}")
        raise StudentMistake(said + note) from None
    if not isinstance(conn, pymysql.connections.Connection):
        raise StudentMistake(
            say(
                f"connect(config) should return the connection, not {type(conn).__name__}",
                f"connect(config) 应当返回连接，而不是 {type(conn).__name__}",
            )
        )
    try:
        with conn.cursor() as cursor:
            cursor.execute("select database(), substring_index(current_user(), '@', 1), @@character_set_client")
            database, user, charset = cursor.fetchone()
            cursor.execute("create temporary table probe_text (s varchar(20)) character set utf8mb4")
            try:
                cursor.execute("insert into probe_text values (%s)", (FOUR_BYTE_TEXT,))
                cursor.execute("select s from probe_text")
                stored = cursor.fetchone()[0]
            except pymysql.Error as error:
                stored = {"refused": _error(error)}
        return {
            "database": database,
            "user": user,
            "charset": charset,
            "stored": stored,
            "autocommit": conn.get_autocommit(),
        }
    finally:
        conn.close()


# -- one connection across several calls: the grader looks at the database between them -----------------

_session: dict = {}


def open_connection(config: dict) -> None:
    """A connection for the student's functions that outlives this call, so the grader can read the database
    through its own connection between two calls (a missing commit cannot hide behind a later one)."""
    _session["conn"] = _connect(config)


def close_connection() -> None:
    conn = _session.pop("conn", None)
    if conn is not None and conn.open:
        conn.close()


def call_with_connection(module: str, function: str, *args: object, values: tuple[str, ...] = ()) -> dict:
    """module.function(conn, *args) on the open connection: what it returned or raised, how it called the
    cursor, and the first statement it sent with one of `values` pasted into the SQL text."""
    target = getattr(student_module(module), function)
    with recording() as seen:
        try:
            outcome: dict = {"returned": target(_session["conn"], *args)}
        except (StudentMistake, NotImplementedError):
            raise
        except Exception as error:
            outcome = {"raised": _error(error)}
    pasted = [sql for sql, _ in seen.executes if any(value in sql for value in values)]
    return {
        **outcome,
        "pasted": pasted[:1],
        "executes": len(seen.executes),
        "executemany": [count for _, count in seen.executemanys],
    }


# -- task 3 ---------------------------------------------------------------------------------------------------


def _rows(value: object) -> dict:
    """The rows, and the type the student's function returned them as (a list is asked for, fetchall gives a
    tuple)."""
    rows = value
    if isinstance(value, (list, tuple)) and all(isinstance(row, (list, tuple)) for row in value):
        rows = [tuple(row) for row in value]
    return {"type": type(value).__name__, "rows": rows}


def fetch_check(config: dict, n: int, more_than_all: int) -> dict:
    students = student_module("students")
    conn = _connect(config)
    try:
        seen = {
            "first": students.first_student(conn),
            "some": _rows(students.some_students(conn, n)),
            "too_many": _rows(students.some_students(conn, more_than_all)),
            "all": _rows(students.all_students(conn)),
        }
        with conn.cursor() as cursor:
            cursor.execute("delete from students")
        conn.commit()
        seen["first_of_none"] = students.first_student(conn)
    finally:
        conn.close()
    return seen


# -- task 5 ---------------------------------------------------------------------------------------------------


def _balances(config: dict) -> dict[int, str]:
    return {id_: str(balance) for id_, balance in _committed(config, "select id, balance from accounts")}


def transfer_check(config: dict, good: tuple[int, int, str], bad: tuple[int, int, str]) -> dict:
    """A transfer that works, then one whose second update fails (the credit overflows decimal(8,2))."""
    transfer = student_module("accounts").transfer
    conn = _connect(config)
    report: dict = {}
    try:
        from_id, to_id, amount = good
        transfer(conn, from_id, to_id, Decimal(amount))
        report["after_good"] = _balances(config)

        from_id, to_id, amount = bad
        try:
            transfer(conn, from_id, to_id, Decimal(amount))
            report["bad_raised"] = None
        except NotImplementedError:
            raise
        except Exception as error:
            report["bad_raised"] = _error(error)
        report["after_bad"] = _balances(config)
        # The program goes on using the connection, and commits its next piece of work.
        conn.commit()
        report["after_next_commit"] = _balances(config)
    finally:
        conn.close()
    return report


# -- task 6 ---------------------------------------------------------------------------------------------------


def count_check(config: dict) -> dict:
    """count_students(config), watching every connection and cursor it opens; they are kept alive for the grader
    to count on the server, and closed by release()."""
    with recording() as seen:
        try:
            outcome = {"returned": student_module("students").count_students(dict(config))}
        except (StudentMistake, NotImplementedError):
            raise
        except Exception as error:
            outcome = {"raised": _error(error)}
    _kept.extend(seen.connections)
    return {
        **outcome,
        "opened": len(seen.connections),
        "open": sum(1 for conn in seen.connections if conn.open),
        "cursors": len(seen.cursors),
        "open_cursors": sum(1 for cursor in seen.cursors if cursor.connection is not None),
    }


def release() -> int:
    """Close what the student's code left open."""
    left = 0
    while _kept:
        conn = _kept.pop()
        if conn.open:
            left += 1
            conn.close()
    return left


# -- task 7 ---------------------------------------------------------------------------------------------------


def _batches(result: object, call: str) -> list[dict]:
    if not hasattr(result, "__iter__") or isinstance(result, (str, bytes, dict)):
        raise StudentMistake(_not_batches(call, result))
    return [_rows(batch) for batch in result]


def _not_batches(call: str, result: object) -> str:
    return say(
        f"{call} should yield batches of rows (a generator); it returned {result!r}",
        f"{call} 应当分批产出行（写成生成器）；它返回了 {result!r}",
    )


def batches_check(config: dict, size: int, more_than_all: int) -> dict:
    """Every batch of students_in_batches(conn, size), then with a size above the row count, then on an empty
    table."""
    batches = student_module("students").students_in_batches
    conn = _connect(config)
    try:
        seen = {
            "batches": _batches(batches(conn, size), f"students_in_batches(conn, {size})"),
            "one": _batches(batches(conn, more_than_all), f"students_in_batches(conn, {more_than_all})"),
        }
        with conn.cursor() as cursor:
            cursor.execute("delete from students")
        conn.commit()
        seen["none"] = _batches(batches(conn, size), f"students_in_batches(conn, {size})")
    finally:
        conn.close()
    return seen


_stream: dict = {}


def start_batches(config: dict, size: int) -> dict:
    """students_in_batches(conn, size) up to its first batch, then left suspended there, so that the grader can
    look at the server while the caller holds one batch. The connection's socket takes little at a time
    (a receive buffer of 64 KiB), so rows the caller has not asked for stay on the server's side."""
    conn = _connect(config)
    conn._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    _stream["conn"] = conn
    call = f"students_in_batches(conn, {size})"
    with recording() as seen:
        result = student_module("students").students_in_batches(conn, size)
        if not hasattr(result, "__iter__") or isinstance(result, (str, bytes, dict)):
            raise StudentMistake(_not_batches(call, result))
        iterator = iter(result)
        _stream["iterator"] = iterator
        first = next(iterator, None)
    # Kept until end_stream(): a cursor the generator does not close itself must stay open, as it would wherever
    # the garbage collector does not free it at once (PyPy, or another reference to it).
    _stream["cursors"] = list(seen.cursors)
    return {
        "first": None if first is None else _rows(first),
        "generator": inspect.isgenerator(result),
        "type": type(result).__name__,
        "cursors": [type(cursor).__name__ for cursor in seen.cursors],
    }


def stop_batches() -> None:
    """The caller stops after the first batch: generator.close(), what becomes of a generator dropped after a
    `break`. It runs the generator's with blocks and finally clauses."""
    iterator = _stream.pop("iterator", None)
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def end_stream() -> None:
    """Close the connection, also when the student's cursor left a result half read."""
    _stream.pop("iterator", None)
    conn = _stream.pop("conn", None)
    if conn is not None and conn.open:
        result = getattr(conn, "_result", None)
        if result is not None and getattr(result, "unbuffered_active", False):
            result.unbuffered_active = False  # closing the socket ends the query; nothing left to read
        conn.close()
    _stream.clear()
