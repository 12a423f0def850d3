"""Grades exercises/pymysql: the student's functions run in the worker against the scratch database.

What counts is what another connection can see afterwards (committed rows, balances), what the server
counts (its connections of the scratch user, in information_schema.PROCESSLIST), and how hostile values
end up stored.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

import pytest

from graders.harness.core.student import StudentError
from graders.pymysql import probes

NAMES = ["张伟", "李娜", "王芳", "刘强", "陈静", "杨磊", "黄敏", "周杰", "吴秀英", "赵丽", "孙浩", "郑爽"]
HOSTILE = [
    "O'Brien'); DROP TABLE students; --",
    'Robert"); DROP TABLE students; --',
    "back\\slash \\' 张",
    probes.FOUR_BYTE_TEXT,
]

CENT = Decimal("0.01")

STUDENTS = "create table students (id int primary key auto_increment, name varchar(100) not null, age int)"
ACCOUNTS = "create table accounts (id int primary key, owner varchar(20) not null, balance decimal(8,2) not null)"


def admin_run(mysql_database, *statements: str, rows: list[tuple] = (), into: str = "") -> None:
    admin = mysql_database.connect(as_student=False)
    try:
        with admin.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            if rows:
                marks = ", ".join(["%s"] * len(rows[0]))
                cursor.executemany(f"insert into {into} values ({marks})", rows)
    finally:
        admin.close()


@pytest.fixture
def config(mysql_database) -> dict:
    """What the student's functions get: where to connect and as whom; the charset is theirs to choose."""
    return {key: value for key, value in mysql_database.student_config.items() if key != "charset"}


def seed_students(mysql_database, rng: random.Random, count: int) -> list[tuple]:
    """Rows (id, name, age) inserted in random order, some ages NULL; returned sorted by id."""
    ids = rng.sample(range(1, 200), count)
    rows = [(i, rng.choice(NAMES), rng.choice([None, *range(15, 31)])) for i in ids]
    admin_run(mysql_database, STUDENTS, rows=rows, into="students")
    return sorted(rows)


def connections_of(mysql_database) -> int:
    """How many connections of the scratch user the server has right now."""
    admin = mysql_database.connect(as_student=False)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "select count(*) as connections from information_schema.PROCESSLIST where USER = %s",
                (mysql_database.user,),
            )
            return cursor.fetchone()[0]
    finally:
        admin.close()


def settled_connections(mysql_database, expected: int, wait: float = 2.0) -> int:
    """The server's count once it has caught up with closed connections (it forgets them a moment later)."""
    deadline = time.monotonic() + wait
    while True:
        count = connections_of(mysql_database)
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def shown(balances: dict[int, Decimal]) -> str:
    return ", ".join(f"account {key}: {value}" for key, value in sorted(balances.items()))


# -- task 1 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_connect_uses_the_config_and_utf8mb4(student, mysql_database, config):
    seen = student.run(probes.connect_check, config)
    assert (seen["database"], seen["user"]) == (mysql_database.name, mysql_database.user), (
        f"connect(config) should open the database {mysql_database.name} as {mysql_database.user}, as the config "
        f"says; the connection is in {seen['database']!r} as {seen['user']!r}"
    )
    assert seen["charset"] == "utf8mb4", (
        f"the connection talks {seen['charset']}; pass charset='utf8mb4' (the outline's utf8 is MySQL's old "
        "three-byte UTF-8, which cannot store 𠮷 or emoji)"
    )
    assert seen["stored"] == probes.FOUR_BYTE_TEXT, (
        f"storing {probes.FOUR_BYTE_TEXT!r} through your connection gave {seen['stored']!r}: use charset='utf8mb4'"
    )
    assert seen["autocommit"] is False, (
        "connect(config) turned autocommit on; leave it off (pymysql's default), so that changes wait for "
        "conn.commit() and a failed transfer can be rolled back"
    )


# -- task 2 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_execute_returns_affected_rows_and_commits(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(6, 10))
    ages = [age for _, _, age in rows if age is not None]
    limit = sorted(ages)[len(ages) // 2]
    victim = rng.choice(rows)[0]
    statements = [
        ("update students set age = age + 1 where age < %s", (limit,)),
        ("delete from students where id = %s", (victim,)),
        ("insert into students (name, age) values ('赵六', 20)", None),
    ]
    expected_counts = [sum(1 for age in ages if age < limit), 1, 1]
    seen = student.run(probes.execute_check, config, statements)
    for (sql, args), returned, count in zip(statements, seen["returned"], expected_counts, strict=True):
        assert returned == count, (
            f"execute(conn, {sql!r}, {args!r}) returned {returned!r}; it should return the number of rows the "
            f"statement affected, here {count} (what cursor.execute returns)"
        )
    expected = [(i, name, age + 1 if age is not None and age < limit else age) for i, name, age in rows if i != victim]
    committed = seen["rows"]
    inserted = [row for row in committed if row[1:] == ("赵六", 20)]
    others = sorted(row for row in committed if row[1:] != ("赵六", 20))
    if others == rows and not inserted:
        raise StudentError(
            "execute ran the statements, but another connection sees none of their changes: they were never "
            "committed; call conn.commit() after the statement"
        )
    assert others == sorted(expected) and len(inserted) == 1, (
        f"after the three statements another connection sees {committed}; expected {sorted(expected)} and one new "
        "row ('赵六', 20)"
    )


# -- task 3 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_fetchone_fetchmany_and_fetchall(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(6, 9))
    n = rng.randint(2, 4)
    seen = student.run(probes.fetch_check, config, n, len(rows) + 3)
    first = seen["first"]
    assert first == rows[0], f"first_student should return the row with the smallest id, {rows[0]!r}; it returned " + (
        f"a list of {len(first)} rows: fetchone() returns one row" if isinstance(first, list) else repr(first)
    )
    assert seen["some"] == rows[:n], (
        f"some_students(conn, {n}) should return the first {n} students, {rows[:n]!r}; it returned {seen['some']!r}"
        + (": fetchmany(n) fetches n rows" if isinstance(seen["some"], list) and len(seen["some"]) != n else "")
    )
    assert seen["too_many"] == rows, (
        f"some_students(conn, {len(rows) + 3}) with only {len(rows)} students should return them all; "
        f"it returned {seen['too_many']!r}"
    )
    assert seen["all"] == rows, f"all_students should return every student by id, {rows!r}; it returned {seen['all']!r}"
    assert seen["first_of_none"] is None, (
        "first_student on an empty table should return None (what fetchone gives); "
        f"it returned {seen['first_of_none']!r}"
    )


# -- task 4 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_parameters_store_hostile_names_literally(student, mysql_database, config):
    rng = random.Random()
    people = [(name, rng.randint(15, 30)) for name in [*HOSTILE, rng.choice(NAMES)]]
    group = [(name, rng.randint(15, 30)) for name in [*rng.sample(NAMES, 3), rng.choice(HOSTILE)]]
    rng.shuffle(group)
    admin_run(mysql_database, STUDENTS)
    seen = student.run(probes.insert_check, config, people, group)
    for call in seen["calls"]:
        if call["formatted"]:
            raise StudentError(
                f"add_student put the name into the SQL text itself ({call['formatted'][0][:90]!r}): a name like "
                f"{call['name']!r} then becomes SQL. Write %s placeholders and pass the values apart: "
                "cursor.execute(sql, (name, age))"
            )
        assert "raised" not in call, f"add_student(conn, {call['name']!r}, ...) raised {call['raised']}"
    assert "students" in seen["tables"], "the table students is gone: a name was run as SQL"
    by_id = {i: (name, age) for i, name, age in seen["stored"]}
    for call, (name, age) in zip(seen["calls"], people, strict=True):
        assert (name, age) in by_id.values(), (
            f"add_student(conn, {name!r}, {age}) should store that name exactly, and commit; another connection "
            f"sees the rows {list(by_id.values())}"
        )
        assert by_id.get(call["returned"]) == (name, age), (
            f"add_student(conn, {name!r}, {age}) should return the new row's id (cursor.lastrowid); it returned "
            f"{call['returned']!r}, "
            + (f"the id of {by_id[call['returned']]}" if call["returned"] in by_id else "no id")
        )
    many = seen["many"]
    assert "raised" not in many, f"add_students(conn, rows) raised {many.get('raised')}"
    assert [count for _, count in many["executemany"]] == [len(group)], (
        f"add_students should insert the {len(group)} rows with one cursor.executemany(sql, rows); it called "
        f"executemany {len(many['executemany'])} times and execute {many['executes']} times"
    )
    missing = [row for row in group if row not in by_id.values()]
    assert not missing, f"after add_students another connection does not see {missing}: were they committed?"
    assert many["returned"] == len(group), (
        f"add_students should return how many rows it inserted ({len(group)}); it returned {many['returned']!r}"
    )


# -- task 5 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(5)
def test_transfer_commits_both_updates_or_neither(student, mysql_database, config):
    rng = random.Random()
    a, b, full = rng.sample(range(1, 100), 3)
    start = {a: Decimal(rng.randint(500, 900)), b: Decimal(rng.randint(100, 300)), full: Decimal("999990")}
    start = {key: value.quantize(CENT) for key, value in start.items()}
    admin_run(
        mysql_database,
        ACCOUNTS,
        rows=[(a, "张三", start[a]), (b, "李四", start[b]), (full, "王五", start[full])],
        into="accounts",
    )
    amount = Decimal(rng.randint(10, 90))
    seen = student.run(probes.transfer_check, config, (a, b, str(amount)), (a, full, "50"))

    def balances(key: str) -> dict[int, Decimal]:
        return {int(i): Decimal(value).quantize(CENT) for i, value in seen[key].items()}

    moved = {**start, a: start[a] - amount, b: start[b] + amount}
    after_good = balances("after_good")
    assert after_good != start, (
        f"transfer(conn, {a}, {b}, {amount}) changed no balance another connection can see: commit after the "
        "two updates"
    )
    assert after_good == moved, (
        f"after transfer(conn, {a}, {b}, {amount}) the balances are {shown(after_good)}; expected {shown(moved)}"
    )
    after_bad = balances("after_bad")
    assert after_bad == moved, (
        f"transfer(conn, {a}, {full}, 50) failed in its second update (account {full} would exceed 999999.99), "
        f"yet another connection sees account {a} at {after_bad[a]} instead of {moved[a]}: the first update was "
        "committed before the second ran; commit only once both updates worked"
    )
    after_commit = balances("after_next_commit")
    assert after_commit == moved, (
        f"transfer(conn, {a}, {full}, 50) failed in its second update, and left the first one pending: the "
        f"connection's next commit saved it, so account {a} lost 50 ({after_commit[a]}) while account {full} got "
        "nothing. Call conn.rollback() when a step fails"
    )
    assert seen["bad_raised"], (
        f"transfer(conn, {a}, {full}, 50) failed in its second update but returned as if the money had moved: "
        "after conn.rollback(), raise the error again (a bare `raise`) so the caller knows"
    )


# -- task 6 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(6)
def test_count_students_closes_cursor_and_connection(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(3, 9))
    before = connections_of(mysql_database)
    try:
        seen = student.run(probes.count_check, config)
        assert "raised" not in seen, f"count_students(config) raised {seen.get('raised')}"
        assert seen["returned"] == len(rows), (
            f"count_students should return the number of students, {len(rows)}; it returned {seen['returned']!r}"
        )
        assert seen["opened"] >= 1, "count_students should open a connection of its own with connect(config)"
        assert seen["open"] == 0, (
            f"count_students left {seen['open']} connection(s) still open: close it, best with "
            "`with connect(config) as conn:`"
        )
        assert seen["open_cursors"] == 0, (
            f"count_students left {seen['open_cursors']} cursor(s) open: `with conn.cursor() as cursor:` closes it"
        )
        after = settled_connections(mysql_database, before)
        assert after == before, (
            f"the server counted {before} connection(s) of this user before count_students and {after} after it: "
            "a connection was left open"
        )

        nowhere = {**config, "database": None}  # connects, but `select ... from students` finds no table
        seen = student.run(probes.count_check, nowhere)
        assert "raised" in seen, "count_students returned although its query failed: let the error out"
        assert seen["open"] == 0 and seen["open_cursors"] == 0, (
            f"when its query fails ({seen['raised']}), count_students leaves {seen['open']} connection(s) and "
            f"{seen['open_cursors']} cursor(s) open: `with` blocks (or try/finally) close them also then"
        )
        after = settled_connections(mysql_database, before)
        assert after == before, (
            f"after count_students failed, the server counts {after} connection(s) of this user instead of {before}"
        )
    finally:
        student.run(probes.release)
