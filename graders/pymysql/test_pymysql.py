"""Grades exercises/pymysql: the student's functions run in the worker against the scratch database.

What counts is what another connection can see afterwards (committed rows, balances), what the server
counts (its connections of the scratch user, and the statements they are still running, in
information_schema.PROCESSLIST), and how hostile values end up stored.
"""

from __future__ import annotations

import contextlib
import random
import time
from decimal import Decimal

import pymysql
import pytest

from graders.harness.core.curriculum import say
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


def seed_students(
    mysql_database, rng: random.Random, count: int, *, stored_out_of_order: bool = False
) -> list[tuple]:
    """Rows (id, name, age) inserted in random order, some ages NULL; returned sorted by id.

    InnoDB keeps rows in primary-key order, so a select without `order by id` returns them by id anyway;
    `stored_out_of_order` makes the table MyISAM, which returns them in the order they were inserted, and
    inserts them so that order is not by id from the first row on.
    """
    ids = rng.sample(range(1, 200), count)
    if stored_out_of_order and ids[0] == min(ids):
        ids.append(ids.pop(0))
    rows = [(i, rng.choice(NAMES), rng.choice([None, *range(15, 31)])) for i in ids]
    table = f"{STUDENTS} engine = MyISAM" if stored_out_of_order else STUDENTS
    admin_run(mysql_database, table, rows=rows, into="students")
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


def shown(balances: dict[int, Decimal], zh: bool = False) -> str:
    if zh:
        return "，".join(f"账户 {key}：{value}" for key, value in sorted(balances.items()))
    return ", ".join(f"account {key}: {value}" for key, value in sorted(balances.items()))


# -- task 1 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_connect_uses_the_config_and_utf8mb4(student, mysql_database, config):
    seen = student.run(probes.connect_check, config)
    assert (seen["database"], seen["user"]) == (mysql_database.name, mysql_database.user), say(
        f"connect(config) should open the database {mysql_database.name} as {mysql_database.user}, as the config "
        f"says; the connection is in {seen['database']!r} as {seen['user']!r}",
        f"connect(config) 应当按 config 以 {mysql_database.user} 的身份打开数据库 {mysql_database.name}；"
        f"这个连接却是以 {seen['user']!r} 的身份连到 {seen['database']!r}",
    )
    assert seen["charset"] == "utf8mb4", say(
        f"the connection talks {seen['charset']}; pass charset='utf8mb4' (the outline's utf8 is MySQL's old "
        "three-byte UTF-8, which cannot store 𠮷 or emoji)",
        f"这个连接使用的字符集是 {seen['charset']}；请传入 charset='utf8mb4'（大纲中的 utf8 是 MySQL 旧的三字节 "
        "UTF-8，存不了 𠮷 或 emoji）",
    )
    stored = seen["stored"]
    refused = stored["refused"] if isinstance(stored, dict) else None  # the server's error, when it refused the text
    assert stored == probes.FOUR_BYTE_TEXT, say(
        f"storing {probes.FOUR_BYTE_TEXT!r} through your connection gave "
        f"{(stored if refused is None else f'refused: {refused}')!r}: use charset='utf8mb4'",
        f"通过你的连接存入 {probes.FOUR_BYTE_TEXT!r}，"
        + (f"得到的是 {stored!r}" if refused is None else f"被拒绝了：{refused}")
        + "：请使用 charset='utf8mb4'",
    )
    assert seen["autocommit"] is False, say(
        "connect(config) turned autocommit on; leave it off (pymysql's default), so that changes wait for "
        "conn.commit() and a failed transfer can be rolled back",
        "connect(config) 打开了 autocommit；请保持关闭（pymysql 的默认值），这样修改要等到 conn.commit() 才生效，"
        "失败的转账也能回滚",
    )


# -- task 2 ---------------------------------------------------------------------------------------------------


def committed_rows(mysql_database, query: str) -> list[tuple]:
    """What the grader's own connection sees: only committed rows."""
    admin = mysql_database.connect(as_student=False)
    try:
        with admin.cursor() as cursor:
            cursor.execute(query)
            return [tuple(row) for row in cursor.fetchall()]
    finally:
        admin.close()


def pasted(call: dict, what: str, value: str) -> None:
    if call["pasted"]:
        raise StudentError(
            say(
                f"{what} put the value {value!r} into the SQL text itself ({call['pasted'][0][:90]!r}): a value with "
                "a quote then breaks the statement or becomes SQL. Leave the %s placeholders in the text and pass the "
                "values apart: cursor.execute(sql, args)",
                f"{what} 把值 {value!r} 直接拼进了 SQL 文本（{call['pasted'][0][:90]!r}）：这样一来，带引号的值会"
                "破坏语句，甚至变成 SQL 被执行。请在文本中保留 %s 占位符，把值单独传入：cursor.execute(sql, args)",
            )
        )


@pytest.mark.task(2)
def test_execute_returns_affected_rows_and_commits(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(6, 10))
    ages = [age for _, _, age in rows if age is not None]
    limit = sorted(ages)[len(ages) // 2]
    victim, renamed = (row[0] for row in rng.sample(rows, 2))
    new_name = rng.choice(HOSTILE[:2])
    newcomer = (f"{rng.choice(NAMES)}'{rng.choice(NAMES)}", rng.randint(15, 30))
    statements = [
        ("update students set age = age + 1 where age < %s", (limit,), sum(1 for age in ages if age < limit)),
        ("update students set name = %s where id = %s", (new_name, renamed), 1),
        ("delete from students where id = %s", (victim,), 1),
        ("insert into students (name, age) values (%s, %s)", newcomer, 1),
        ("insert into students (name, age) values ('赵六', 20)", None, 1),
    ]
    state = {i: (name, age) for i, name, age in rows}
    student.run(probes.open_connection, config)
    try:
        for sql, args, count in statements:
            before = committed_rows(mysql_database, "select id, name, age from students order by id")
            strings = tuple(value for value in args or () if isinstance(value, str))
            call = student.run(probes.call_with_connection, "students", "execute", sql, args, values=strings)
            shown = f"execute(conn, {sql!r}, {args!r})"
            pasted(call, "execute", strings[0] if strings else "")
            assert "raised" not in call, say(
                f"{shown} raised {call.get('raised')}", f"{shown} 抛出了 {call.get('raised')}"
            )
            assert call["returned"] == count, say(
                f"{shown} returned {call['returned']!r}; it should return the number of rows the statement "
                f"affected, here {count} (what cursor.execute returns)",
                f"{shown} 返回了 {call['returned']!r}；它应当返回语句影响的行数，这里是 {count}"
                "（即 cursor.execute 的返回值）",
            )
            after = committed_rows(mysql_database, "select id, name, age from students order by id")
            if after == before and count:
                raise StudentError(
                    say(
                        f"{shown} ran, but another connection sees none of its change: it was never committed; call "
                        "conn.commit() after the statement",
                        f"{shown} 执行了，但另一个连接看不到它做的任何修改：修改从未提交；"
                        "请在语句之后调用 conn.commit()",
                    )
                )
            if sql.startswith("update students set age"):
                state = {i: (n, a + 1 if a is not None and a < limit else a) for i, (n, a) in state.items()}
            elif sql.startswith("update students set name"):
                state[renamed] = (new_name, state[renamed][1])
            elif sql.startswith("delete"):
                del state[victim]
            added = [row for row in after if row[0] not in state]
            state.update({i: (n, a) for i, n, a in added})
            expected = sorted((i, *value) for i, value in state.items())
            assert after == expected, say(
                f"after {shown} another connection sees {after}; expected {expected}",
                f"执行 {shown} 之后，另一个连接看到的是 {after}；应当是 {expected}",
            )
    finally:
        student.run(probes.close_connection)


# -- task 3 ---------------------------------------------------------------------------------------------------


def as_list(seen: dict, call: str) -> list:
    """The rows of a function that must return a list, or a failure that says what it returned instead."""
    if seen["type"] == "tuple":
        raise StudentError(
            say(
                f"{call} returned a tuple of rows (what the fetch methods give); the task asks for a list: "
                "wrap it, list(cursor.fetchall())",
                f"{call} 返回了由行组成的元组（fetch 方法给出的就是元组）；题目要求返回列表：把它包起来，"
                "list(cursor.fetchall())",
            )
        )
    if seen["type"] != "list":
        raise StudentError(
            say(
                f"{call} should return a list of rows, not a {seen['type']}: {seen['rows']!r}",
                f"{call} 应当返回由行组成的列表，而不是 {seen['type']}：{seen['rows']!r}",
            )
        )
    return seen["rows"]


@pytest.mark.task(3)
def test_fetchone_fetchmany_and_fetchall(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(6, 9), stored_out_of_order=True)
    n = rng.randint(2, 4)
    seen = student.run(probes.fetch_check, config, n, len(rows) + 3)
    first = seen["first"]
    assert first == rows[0], say(
        f"first_student should return the row with the smallest id, {rows[0]!r}; it returned "
        + (f"a list of {len(first)} rows: fetchone() returns one row" if isinstance(first, list) else repr(first)),
        f"first_student 应当返回 id 最小的那一行，{rows[0]!r}；它返回了"
        + (f"一个含 {len(first)} 行的列表：fetchone() 只返回一行" if isinstance(first, list) else f" {first!r}"),
    ) + order_note()
    some = seen["some"]["rows"]
    assert some == rows[:n], say(
        f"some_students(conn, {n}) should return the first {n} students by id, {rows[:n]!r}; it returned {some!r}",
        f"some_students(conn, {n}) 应当按 id 返回前 {n} 个学生，{rows[:n]!r}；它返回了 {some!r}",
    ) + (
        say(": fetchmany(n) fetches n rows", "：fetchmany(n) 取 n 行")
        if isinstance(some, list) and len(some) != n
        else order_note()
    )
    as_list(seen["some"], f"some_students(conn, {n})")
    too_many = as_list(seen["too_many"], f"some_students(conn, {len(rows) + 3})")
    assert too_many == rows, say(
        f"some_students(conn, {len(rows) + 3}) with only {len(rows)} students should return them all; "
        f"it returned {too_many!r}",
        f"只有 {len(rows)} 个学生时，some_students(conn, {len(rows) + 3}) 应当把他们全部返回；它返回了 {too_many!r}",
    )
    everyone = seen["all"]["rows"]
    assert everyone == rows, say(
        f"all_students should return every student by id, {rows!r}; it returned {everyone!r}",
        f"all_students 应当按 id 返回所有学生，{rows!r}；它返回了 {everyone!r}",
    ) + order_note()
    as_list(seen["all"], "all_students(conn)")
    assert seen["first_of_none"] is None, say(
        "first_student on an empty table should return None (what fetchone gives); "
        f"it returned {seen['first_of_none']!r}",
        f"表为空时 first_student 应当返回 None（fetchone 给出的就是 None）；它返回了 {seen['first_of_none']!r}",
    )


def order_note() -> str:
    """Why rows come back in the wrong order, added to the messages of tasks 3 and 7."""
    return say(
        " (the checks store the rows in another order than by id: without `order by id` a select returns them "
        "in whatever order the table keeps them)",
        "（检查程序存放这些行的顺序不是按 id 排的：没有 `order by id`，select 会按表里存放的顺序返回它们）",
    )


# -- task 4 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_parameters_store_hostile_names_literally(student, mysql_database, config):
    rng = random.Random()
    people = [(name, rng.randint(15, 30)) for name in [*HOSTILE, rng.choice(NAMES)]]
    group = [(name, rng.randint(15, 30)) for name in [*rng.sample(NAMES, 3), rng.choice(HOSTILE)]]
    rng.shuffle(group)
    admin_run(mysql_database, STUDENTS)
    student.run(probes.open_connection, config)
    try:
        for name, age in people:
            call = student.run(probes.call_with_connection, "students", "add_student", name, age, values=(name,))
            shown = f"add_student(conn, {name!r}, {age})"
            pasted(call, "add_student", name)
            assert "raised" not in call, say(f"{shown} raised {call['raised']}", f"{shown} 抛出了 {call['raised']}")
            tables = committed_rows(
                mysql_database,
                "select TABLE_NAME as table_name from information_schema.TABLES where TABLE_SCHEMA = database()",
            )
            assert ("students",) in tables, say(
                f"after {shown} the table students is gone: the name was run as SQL",
                f"执行 {shown} 之后表 students 不见了：名字被当作 SQL 执行了",
            )
            by_id = {i: (n, a) for i, n, a in committed_rows(mysql_database, "select id, name, age from students")}
            assert (name, age) in by_id.values(), say(
                f"{shown} returned, but another connection does not see that row: "
                + (
                    "it was never committed; call conn.commit() after the insert"
                    if len(by_id) < people.index((name, age)) + 1
                    else f"the rows are {list(by_id.values())}: the name must be stored exactly"
                ),
                f"{shown} 返回了，但另一个连接看不到这一行："
                + (
                    "它从未提交；请在 insert 之后调用 conn.commit()"
                    if len(by_id) < people.index((name, age)) + 1
                    else f"表中的行是 {list(by_id.values())}：名字必须原样保存"
                ),
            )
            assert by_id.get(call["returned"]) == (name, age), say(
                f"{shown} should return the new row's id (cursor.lastrowid); it returned {call['returned']!r}, "
                + (f"the id of {by_id[call['returned']]}" if call["returned"] in by_id else "no id"),
                f"{shown} 应当返回新行的 id（cursor.lastrowid）；它返回了 {call['returned']!r}，"
                + (f"这是 {by_id[call['returned']]} 的 id" if call["returned"] in by_id else "这不是任何一行的 id"),
            )
        names = tuple(name for name, _ in group)
        many = student.run(probes.call_with_connection, "students", "add_students", group, values=names)
    finally:
        student.run(probes.close_connection)
    pasted(many, "add_students", next((n for n in names if any(n in sql for sql in many["pasted"])), names[0]))
    assert "raised" not in many, say(
        f"add_students(conn, rows) raised {many.get('raised')}", f"add_students(conn, rows) 抛出了 {many.get('raised')}"
    )
    assert many["executemany"] == [len(group)], say(
        f"add_students should insert the {len(group)} rows with one cursor.executemany(sql, rows); it called "
        f"executemany {len(many['executemany'])} times and execute {many['executes']} times",
        f"add_students 应当用一次 cursor.executemany(sql, rows) 插入这 {len(group)} 行；它调用了 "
        f"{len(many['executemany'])} 次 executemany 和 {many['executes']} 次 execute",
    )
    stored = [(n, a) for _, n, a in committed_rows(mysql_database, "select id, name, age from students")]
    missing = [row for row in group if row not in stored]
    assert not missing, say(
        f"after add_students another connection does not see {missing}: were they committed?",
        f"执行 add_students 之后，另一个连接看不到 {missing}：它们提交了吗？",
    )
    assert many["returned"] == len(group), say(
        f"add_students should return how many rows it inserted ({len(group)}); it returned {many['returned']!r}",
        f"add_students 应当返回它插入的行数（{len(group)}）；它返回了 {many['returned']!r}",
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
    assert after_good != start, say(
        f"transfer(conn, {a}, {b}, {amount}) changed no balance another connection can see: commit after the "
        "two updates",
        f"transfer(conn, {a}, {b}, {amount}) 没有改变另一个连接能看到的任何余额：请在两条 update 之后提交",
    )
    assert after_good == moved, say(
        f"after transfer(conn, {a}, {b}, {amount}) the balances are {shown(after_good)}; expected {shown(moved)}",
        f"执行 transfer(conn, {a}, {b}, {amount}) 之后余额是 {shown(after_good, zh=True)}；"
        f"应当是 {shown(moved, zh=True)}",
    )
    after_bad = balances("after_bad")
    assert after_bad == moved, say(
        f"transfer(conn, {a}, {full}, 50) failed in its second update (account {full} would exceed 999999.99), "
        f"yet another connection sees account {a} at {after_bad[a]} instead of {moved[a]}: the first update was "
        "committed before the second ran; commit only once both updates worked",
        f"transfer(conn, {a}, {full}, 50) 在第二条 update 上失败了（账户 {full} 的余额会超过 999999.99），"
        f"但另一个连接看到账户 {a} 的余额是 {after_bad[a]}，而不是 {moved[a]}：第一条 update 在第二条执行之前就"
        "提交了；请在两条 update 都成功之后才提交",
    )
    after_commit = balances("after_next_commit")
    assert after_commit == moved, say(
        f"transfer(conn, {a}, {full}, 50) failed in its second update, and left the first one pending: the "
        f"connection's next commit saved it, so account {a} lost 50 ({after_commit[a]}) while account {full} got "
        "nothing. Call conn.rollback() when a step fails",
        f"transfer(conn, {a}, {full}, 50) 在第二条 update 上失败了，却把第一条 update 留着没有撤销：这个连接的"
        f"下一次提交把它保存了下来，于是账户 {a} 少了 50（{after_commit[a]}），而账户 {full} 什么也没得到。"
        "某一步失败时请调用 conn.rollback()",
    )
    assert seen["bad_raised"], say(
        f"transfer(conn, {a}, {full}, 50) failed in its second update but returned as if the money had moved: "
        "after conn.rollback(), raise the error again (a bare `raise`) so the caller knows",
        f"transfer(conn, {a}, {full}, 50) 在第二条 update 上失败了，却像转账成功一样正常返回："
        "在 conn.rollback() 之后把错误重新抛出（直接写 `raise`），让调用者知道",
    )


# -- task 6 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(6)
def test_count_students_closes_cursor_and_connection(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(3, 9))
    before = connections_of(mysql_database)
    try:
        seen = student.run(probes.count_check, config)
        assert "raised" not in seen, say(
            f"count_students(config) raised {seen.get('raised')}", f"count_students(config) 抛出了 {seen.get('raised')}"
        )
        assert seen["returned"] == len(rows), say(
            f"count_students should return the number of students, {len(rows)}; it returned {seen['returned']!r}",
            f"count_students 应当返回学生人数 {len(rows)}；它返回了 {seen['returned']!r}",
        )
        assert seen["opened"] >= 1, say(
            "count_students should open a connection of its own with connect(config)",
            "count_students 应当用 connect(config) 打开一个自己的连接",
        )
        assert seen["open"] == 0, say(
            f"count_students left {seen['open']} connection(s) still open: close it, best with "
            "`with connect(config) as conn:`",
            f"count_students 留下了 {seen['open']} 个仍然打开的连接：请关闭它，最好用 `with connect(config) as conn:`",
        )
        assert seen["open_cursors"] == 0, say(
            f"count_students left {seen['open_cursors']} cursor(s) open: `with conn.cursor() as cursor:` closes it",
            f"count_students 留下了 {seen['open_cursors']} 个打开的游标：`with conn.cursor() as cursor:` 会关闭它",
        )
        after = settled_connections(mysql_database, before)
        assert after == before, say(
            f"the server counted {before} connection(s) of this user before count_students and {after} after it: "
            "a connection was left open",
            f"调用 count_students 之前，服务器上这个用户有 {before} 个连接，之后有 {after} 个：有连接没有关闭",
        )

        nowhere = {**config, "database": None}  # connects, but `select ... from students` finds no table
        seen = student.run(probes.count_check, nowhere)
        assert "raised" in seen, say(
            "count_students returned although its query failed: let the error out",
            "count_students 的查询失败了，它却正常返回：应当让错误抛出去",
        )
        assert seen["open"] == 0 and seen["open_cursors"] == 0, say(
            f"when its query fails ({seen['raised']}), count_students leaves {seen['open']} connection(s) and "
            f"{seen['open_cursors']} cursor(s) open: `with` blocks (or try/finally) close them also then",
            f"查询失败时（{seen['raised']}），count_students 留下了 {seen['open']} 个打开的连接和 "
            f"{seen['open_cursors']} 个打开的游标：`with` 块（或 try/finally）在这种情况下也会关闭它们",
        )
        after = settled_connections(mysql_database, before)
        assert after == before, say(
            f"after count_students failed, the server counts {after} connection(s) of this user instead of {before}",
            f"count_students 失败之后，服务器上这个用户有 {after} 个连接，而不是 {before} 个",
        )
    finally:
        student.run(probes.release)


# -- task 7 ---------------------------------------------------------------------------------------------------


def batch_sizes(batches: list[dict]) -> list[int]:
    return [len(batch["rows"]) if isinstance(batch["rows"], (list, tuple)) else -1 for batch in batches]


@pytest.mark.task(7)
def test_batches_hold_every_student_in_order(student, mysql_database, config):
    rng = random.Random()
    rows = seed_students(mysql_database, rng, rng.randint(20, 45), stored_out_of_order=True)
    size = rng.choice([s for s in range(3, 8) if len(rows) % s])
    seen = student.run(probes.batches_check, config, size, len(rows) + 5)
    call = f"students_in_batches(conn, {size})"
    got = seen["batches"]
    for batch in got:
        if batch["type"] not in ("list", "tuple"):
            raise StudentError(
                say(
                    f"{call} should yield lists of rows; one of its batches is a {batch['type']}",
                    f"{call} 应当产出由行组成的列表；它的某一批却是 {batch['type']}",
                )
            )
    expected = [rows[i : i + size] for i in range(0, len(rows), size)]
    assert batch_sizes(got) == [len(batch) for batch in expected], say(
        f"{call} on {len(rows)} students should yield batches of {size} rows, the last one shorter: sizes "
        f"{[len(batch) for batch in expected]}; it yielded batches of {batch_sizes(got)}",
        f"在 {len(rows)} 个学生上，{call} 应当产出每批 {size} 行的批次，最后一批可以少一些：大小依次为 "
        f"{[len(batch) for batch in expected]}；它产出的批次大小是 {batch_sizes(got)}",
    ) + (
        say(
            ": fetchmany() without a size takes cursor.arraysize rows, 1",
            "：不带参数的 fetchmany() 取 cursor.arraysize 行，也就是 1 行",
        )
        if set(batch_sizes(got)) == {1}
        else ""
    )
    together = [row for batch in got for row in batch["rows"]]
    assert together == rows, say(
        f"the batches of {call}, put together, should be every student by id, {rows[:3]!r}...; they are "
        f"{together[:3]!r}...",
        f"{call} 的各批合在一起，应当是按 id 排列的所有学生，{rows[:3]!r}...；实际是 {together[:3]!r}...",
    ) + order_note()
    one = seen["one"]
    assert [batch["rows"] for batch in one] == [rows], say(
        f"students_in_batches(conn, {len(rows) + 5}) on {len(rows)} students should yield one batch of all of them; "
        f"it yielded batches of {batch_sizes(one)}",
        f"在 {len(rows)} 个学生上，students_in_batches(conn, {len(rows) + 5}) 应当只产出一批，包含所有学生；"
        f"它产出的批次大小是 {batch_sizes(one)}",
    )
    assert seen["none"] == [], say(
        f"{call} on an empty table should yield no batch at all; it yielded {[b['rows'] for b in seen['none']]!r}: "
        "stop when fetchmany returns no rows, before yielding",
        f"表为空时 {call} 应当一批也不产出；它产出了 {[b['rows'] for b in seen['none']]!r}："
        "fetchmany 返回空时就停止，不要再 yield",
    )


BIG_TABLE = 10_000


def seed_big_table(mysql_database) -> None:
    """10 000 students with names of 1 000 four-byte characters: about 40 MB to send, far more than the socket
    buffers between the server and the client hold (a few MB; some 15 MB through Docker's port proxy), so a select
    the client stops reading keeps running on the server until the client reads on or closes its cursor. Few wide
    rows rather than many narrow ones: closing an SSCursor early reads the rest of the result row by row, and
    100 000 rows of 100 characters took the solution's worker 0.4 s of CPU to skip.

    Made by the server itself (a cross join of ten digits), in a MEMORY table (half the time of InnoDB's redo log
    and buffer pool, and the select streams the same), and kept out of the binary log where the account may do
    so: MySQL 8.4 logs by default."""
    admin = mysql_database.connect(as_student=False)
    try:
        with admin.cursor() as cursor:
            with contextlib.suppress(pymysql.err.MySQLError):
                cursor.execute("set session sql_log_bin = 0")
            cursor.execute("set session max_heap_table_size = 64 * 1024 * 1024")  # 16 MB by default
            cursor.execute(f"{STUDENTS.replace('varchar(100)', 'varchar(1000)')} engine = memory")
            cursor.execute("create table digits (d int)")
            cursor.execute("insert into digits values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)")
            cursor.execute(
                "insert into students (id, name, age) "
                "select 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d, repeat('😀', 1000), 15 + a.d "
                "from digits a, digits b, digits c, digits e"
            )
            cursor.execute("drop table digits")
    finally:
        admin.close()


def selects_running(mysql_database) -> int:
    """How many connections of the scratch user are running a statement on students right now (the server's
    own account of it, in information_schema.PROCESSLIST)."""
    admin = mysql_database.connect(as_student=False)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "select count(*) as running from information_schema.PROCESSLIST "
                "where USER = %s and COMMAND = 'Query' and INFO like %s",
                (mysql_database.user, "%students%"),
            )
            return cursor.fetchone()[0]
    finally:
        admin.close()


def still_running(mysql_database, checks: int = 3, pause: float = 0.05) -> bool:
    """The select is running and stays so for a moment: one that had sent everything ends within microseconds."""
    for check in range(checks):
        if check:
            time.sleep(pause)
        if not selects_running(mysql_database):
            return False
    return True


def ends(mysql_database, wait: float = 10.0) -> bool:
    deadline = time.monotonic() + wait
    while selects_running(mysql_database):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.task(7)
def test_batches_stream_from_the_server(student, mysql_database, config):
    seed_big_table(mysql_database)
    size = random.randint(20, 60)
    call = f"students_in_batches(conn, {size})"
    try:
        started = student.run(probes.start_batches, config, size, timeout=60)
        first = started["first"]
        ids = [row[0] for row in first["rows"]] if first and isinstance(first["rows"], list) else None
        some = (ids or [])[:5]
        assert ids == list(range(1, size + 1)), say(
            f"the first batch of {call} on {BIG_TABLE} students should hold the ids 1 to {size}; "
            + ("it yielded nothing" if first is None else f"it held {len(first['rows'])} rows, ids {some}..."),
            f"在 {BIG_TABLE} 个学生上，{call} 的第一批应当包含 id 1 到 {size}；"
            + ("它什么也没有产出" if first is None else f"它包含 {len(first['rows'])} 行，id 为 {some}..."),
        )
        if not still_running(mysql_database):
            if not any(kind.startswith("SS") for kind in started["cursors"]):
                why, why_zh = (
                    "conn.cursor() makes a buffered cursor, whose execute() reads every row into memory before it "
                    "returns. Open conn.cursor(pymysql.cursors.SSCursor): it leaves the rows on the server until "
                    "fetchmany asks for them",
                    "conn.cursor() 创建的是带缓冲的游标，它的 execute() 在返回之前就把所有行读进了内存。请用 "
                    "conn.cursor(pymysql.cursors.SSCursor) 打开游标：它把行留在服务器上，等 fetchmany 要时才传过来",
                )
            elif not started["generator"]:
                why, why_zh = (
                    f"{call} returned a {started['type']}, which it could build only by reading every row first. "
                    "Make it a generator: `yield` each cursor.fetchmany(size) as soon as you have it",
                    f"{call} 返回了一个 {started['type']}，而要构造它就必须先读完所有行。请把它写成生成器："
                    "每拿到一个 cursor.fetchmany(size) 就立即 `yield`",
                )
            else:
                why, why_zh = (
                    "the cursor is an SSCursor, but something read every row before the first batch was handed out. "
                    "fetchall() returns all the remaining rows at once, as a tuple: it is no generator, whatever the "
                    "outline says; and a list of all the batches is built only after reading them all. Yield each "
                    "cursor.fetchmany(size) as soon as you have it",
                    "游标是 SSCursor，但在交出第一批之前，已经有代码读完了所有行。fetchall() 会一次性以元组形式返回"
                    "剩下的所有行：不管大纲怎么说，它都不是生成器；而由所有批次组成的列表也只有在全部读完之后才能建好。"
                    "请每拿到一个 cursor.fetchmany(size) 就立即 yield",
                )
            raise StudentError(
                say(
                    f"when the first batch of {call} reached the caller, the server had already sent all {BIG_TABLE} "
                    f"students, about 40 MB, and the select was over: {why}",
                    f"当 {call} 的第一批到达调用者时，服务器已经发送完全部 {BIG_TABLE} 个学生（约 40 MB），"
                    f"查询已经结束：{why_zh}",
                )
            )
        student.run(probes.stop_batches, timeout=60)
        assert ends(mysql_database), say(
            f"the caller stopped after the first batch of {call} and closed the generator (generator.close(), what "
            "becomes of a generator dropped after a `break`), yet the select still runs on the server, waiting to "
            "send the other rows: the cursor was never closed. Open it in a with block "
            "(`with conn.cursor(pymysql.cursors.SSCursor) as cursor:`), which closes it also when the generator is "
            "closed early; the garbage collector closes a forgotten cursor only when nothing refers to it any more, "
            "which may be much later (on PyPy, or with another reference to it)",
            f"调用者在 {call} 的第一批之后就停下，并关闭了生成器（generator.close()，在 `break` 跳出循环后被丢弃的"
            "生成器就会这样），但查询仍在服务器上运行，等着发送其余的行：游标从未被关闭。请在 with 块中打开它"
            "（`with conn.cursor(pymysql.cursors.SSCursor) as cursor:`），这样生成器被提前关闭时也会关闭游标；"
            "垃圾回收器只有在没有任何东西引用一个被遗忘的游标时才会关闭它，这可能要晚得多（在 PyPy 上，"
            "或者还有别的引用指向它时）",
        )
    finally:
        student.run(probes.end_stream, timeout=30)
