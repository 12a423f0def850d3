"""Grades exercises/sql_basics/basics.sql by the state its statements leave on a real server.

Tables, rows and columns are read back through information_schema (aliased, normalised), rows through
plain selects, users by logging in as them. Statements of tasks 1, 3-6 and 9 run as the scratch user, who may
touch only this test's database; those of tasks 2, 7 and 8 run inside a sandbox (see sandbox.py).
"""

from __future__ import annotations

import datetime
import random
import re
from decimal import Decimal

import pymysql
import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.sql import state as sql_state
from graders.harness.sql import statements as sql
from graders.sql_basics.sandbox import Sandbox, close_sandbox, open_sandbox

BASICS = "basics.sql"

STUDENT_COLUMNS = [
    ("id", "int"),
    ("name", "varchar(20)"),
    ("phone", "char(11)"),
    ("score", "double(4,2)"),
    ("intro", "text"),
    ("enrolled", "datetime"),
    ("sex", "enum('male','female')"),
]
NAMES = ["张伟", "李娜", "王芳", "刘强", "陈静", "杨磊", "黄敏", "周杰", "吴秀英"]


def create(connection, table: str, columns: list[tuple[str, str]], rows: list[tuple] = ()) -> None:
    """The checks' own table: the state a statement starts from, independent of the student's other answers."""
    with connection.cursor() as cursor:
        cursor.execute(f"drop table if exists {table}")
        cursor.execute(f"create table {table} ({', '.join(f'{name} {kind}' for name, kind in columns)})")
        if rows:
            names = ", ".join(name for name, _ in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"insert into {table} ({names}) values ({marks})", rows)


def show(row: tuple) -> str:
    """A row as SQL would write it: (2, '赵六', 59.5, NULL, '2024-09-01 08:00:00')."""

    def value(item: object) -> str:
        if item is None:
            return "NULL"
        if isinstance(item, (int, float, Decimal)):
            return str(item)
        return repr(str(item))

    return "(" + ", ".join(value(item) for item in row) + ")"


@pytest.fixture
def scratch(mysql_database):
    """A connection as the scratch user, in the scratch database: where the student's DDL and DML run."""
    connection = mysql_database.connect()
    yield connection
    connection.close()


@pytest.fixture
def statement(graded):
    return lambda name: sql_state.statement(graded, BASICS, name)


def in_use_only(database) -> str:
    """What a student reads when the scratch user was denied: the statement reached outside the database in use."""
    return say(
        f"the checks run this statement as a user who may only touch the database in use ({database.name} in "
        "this check), already selected for you: name tables without a database in front (`student`, not "
        "`school_db.student`), and do not `use` another database",
        f"检查程序以一个只能访问当前数据库（本次检查中是 {database.name}，已经替你选中）的用户来执行这条语句："
        "表名前面不要加库名（写 `student`，而不是 `school_db.student`），也不要 `use` 别的数据库",
    )


@pytest.fixture
def run(mysql_database, scratch, statement):
    """run(name) runs the student's statement `name` as the scratch user; again=True for its second run."""
    denied = in_use_only(mysql_database)
    return lambda name, again=False: sql_state.execute(
        scratch, mysql_database, statement(name), again=again, denied=denied
    )


@pytest.fixture
def sandbox(mysql_database):
    opened = open_sandbox(mysql_database)
    yield opened
    close_sandbox(opened)


def query(connection, found, database) -> list[tuple]:
    try:
        return sql_state.rows(connection, found.text)
    except StudentError:
        raise
    except Exception as error:
        if error.args and isinstance(error.args[0], int):
            said = sql.failure(found.name, error, database, found.text, denied=in_use_only(database))
            raise StudentError(said, found.file, found.line) from None
        raise


# -- task 1 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_looking_around_reports_this_session(mysql_database, scratch, statement):
    rng = random.Random()
    extra = f"note_{rng.randrange(10**6)}"
    create(scratch, "student", [*STUDENT_COLUMNS, (extra, "int")])
    others = sorted({f"{rng.choice(['tmp', 'old', 'log'])}_{rng.randrange(10**4)}" for _ in range(rng.randint(1, 3))})
    for table in others:
        create(scratch, table, [("id", "int")])

    got = query(scratch, statement("who_am_i"), mysql_database)
    values = [str(value) for row in got for value in row]
    assert len(values) == 1 and values[0].startswith(mysql_database.user + "@"), say(
        f"`who_am_i` should return one value, the current user ({mysql_database.user}@<host> in this check); "
        f"it returned {got}",
        f"`who_am_i` 应当返回一个值，即当前用户（本次检查中是 {mysql_database.user}@<host>）；它返回了 {got}",
    )
    got = query(scratch, statement("which_database"), mysql_database)
    assert got == [(mysql_database.name,)], say(
        f"`which_database` should return the database in use ({mysql_database.name} in this check); it returned {got}",
        f"`which_database` 应当返回当前使用的数据库（本次检查中是 {mysql_database.name}）；它返回了 {got}",
    )
    got = query(scratch, statement("list_databases"), mysql_database)
    names = {row[0] for row in got}
    assert {mysql_database.name, "information_schema"} <= names, say(
        f"`list_databases` should list every database this user can see, among them information_schema and "
        f"{mysql_database.name}; it returned {sorted(names)}",
        f"`list_databases` 应当列出这个用户能看到的所有数据库，其中包括 information_schema 和 "
        f"{mysql_database.name}；它返回了 {sorted(names)}",
    )
    got = query(scratch, statement("list_tables"), mysql_database)
    expected = sorted(["student", *others])
    assert sorted(row[0] for row in got) == expected, say(
        f"`list_tables` should list the tables of the database in use, here {expected}; "
        f"it returned {sorted(row[0] for row in got)}",
        f"`list_tables` 应当列出当前数据库中的表，这里是 {expected}；它返回了 {sorted(row[0] for row in got)}",
    )
    got = query(scratch, statement("describe_student"), mysql_database)
    fields = [row[0] for row in got]
    expected = [name for name, _ in STUDENT_COLUMNS] + [extra]
    assert fields == expected, say(
        f"`describe_student` should describe the table student, one row per column; the checks gave it the "
        f"columns {expected}, and it returned rows for {fields}",
        f"`describe_student` 应当描述表 student，每个字段一行；检查程序给这张表的字段是 {expected}，"
        f"而它返回的行对应的是 {fields}",
    )


# -- task 2 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_create_database_if_not_exists_runs_twice(mysql_database, statement, sandbox: Sandbox):
    found = statement("create_database")
    text = sandbox.renamed(found, "school_db")
    runner = sandbox.as_runner()
    try:
        sql_state.execute(
            runner, mysql_database, found, text=text, denied=sandbox.denied("create and drop", "执行创建和删除")
        )
        assert sandbox.database_exists(), say(
            "`create_database` ran without an error, but no database school_db exists",
            "`create_database` 执行时没有报错，但数据库 school_db 并不存在",
        )
        denied = sandbox.denied("create and drop", "执行创建和删除")
        sql_state.execute(runner, mysql_database, found, text=text, again=True, denied=denied)
    finally:
        runner.close()
    assert sandbox.database_exists(), say(
        "after running `create_database` again, school_db is gone", "再次执行 `create_database` 之后，school_db 不见了"
    )


@pytest.mark.task(2)
def test_drop_database_if_exists_runs_twice(mysql_database, statement, sandbox: Sandbox):
    found = statement("drop_database")
    text = sandbox.renamed(found, "school_db")
    admin = sandbox.admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database `{sandbox.school_db}`")
            cursor.execute(f"create table `{sandbox.school_db}`.student (id int)")
    finally:
        admin.close()
    runner = sandbox.as_runner()
    try:
        sql_state.execute(
            runner, mysql_database, found, text=text, denied=sandbox.denied("create and drop", "执行创建和删除")
        )
        assert not sandbox.database_exists(), say(
            "`drop_database` ran without an error, but school_db is still there",
            "`drop_database` 执行时没有报错，但 school_db 还在",
        )
        denied = sandbox.denied("create and drop", "执行创建和删除")
        sql_state.execute(runner, mysql_database, found, text=text, again=True, denied=denied)
    finally:
        runner.close()


# -- task 3 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_create_table_has_the_seven_types_and_runs_twice(mysql_database, scratch, run):
    run("create_table")
    made = sql_state.columns(scratch, "student")
    assert made, say(
        f"after `create_table` there is no table student; the database holds {sql_state.tables(scratch)}",
        f"执行 `create_table` 之后没有表 student；数据库里的表是 {sql_state.tables(scratch)}",
    )
    names = [column.name for column in made]
    expected_names = [name for name, _ in STUDENT_COLUMNS]
    assert names == expected_names, say(
        f"student should have the columns {expected_names}, in this order; it has {names}",
        f"student 应当按这个顺序有字段 {expected_names}；它的字段是 {names}",
    )
    by_name = {column.name: column for column in made}
    for name, kind in STUDENT_COLUMNS:
        expected_type = kind.split("(")[0]
        assert by_name[name].data_type == expected_type, say(
            f"column {name} should be {kind}; it is {by_name[name].type}",
            f"字段 {name} 应当是 {kind}；它是 {by_name[name].type}",
        )
    for name, length in (("name", 20), ("phone", 11)):
        assert by_name[name].length == length, say(
            f"column {name} should be {by_name[name].data_type}({length}), not {by_name[name].type}",
            f"字段 {name} 应当是 {by_name[name].data_type}({length})，而不是 {by_name[name].type}",
        )
    assert sql_state.enum_values(by_name["sex"].type) == ["male", "female"], say(
        f"column sex should be enum('male', 'female'); it is {by_name['sex'].type}",
        f"字段 sex 应当是 enum('male', 'female')；它是 {by_name['sex'].type}",
    )

    def insert(score: float, sex: str) -> tuple[int, str] | None:
        return sql_state.fails_with(
            scratch,
            "insert into student values (1, '张三', '13800000001', %s, '你好', '2024-09-01 08:00:00', %s)",
            (score, sex),
        )

    refused = insert(99.99, "female")
    assert refused is None, say(
        f"a valid row (score 99.99, sex 'female') was refused: {refused}",
        f"一行合法的数据（score 99.99，sex 'female'）被拒绝了：{refused}",
    )
    assert insert(100, "male") is not None, say(
        "score accepted 100: double(4,2) means 4 digits, 2 of them after the point, so its largest value is 99.99",
        "score 接受了 100：double(4,2) 表示一共 4 位数字，其中 2 位在小数点后，所以最大值是 99.99",
    )
    assert insert(50, "other") is not None, say(
        "sex accepted 'other': an enum column takes only the values it lists ('male', 'female')",
        "sex 接受了 'other'：enum 字段只接受它列出的值（'male'、'female'）",
    )
    run("create_table", again=True)
    with scratch.cursor() as cursor:
        cursor.execute("select count(*) as n from student")
        (count,) = cursor.fetchone()
    assert count == 1, say(
        f"running `create_table` again should keep the table and its row; student now has {count} rows",
        f"再次执行 `create_table` 应当保留这张表和其中的行；student 现在有 {count} 行",
    )


@pytest.mark.task(3)
def test_drop_table_if_exists_runs_twice(scratch, run):
    create(scratch, "student", STUDENT_COLUMNS, [(1, "张三", None, None, None, None, None)])
    run("drop_table")
    assert "student" not in sql_state.tables(scratch), say(
        "`drop_table` ran, but the table student is still there", "`drop_table` 执行了，但表 student 还在"
    )
    run("drop_table", again=True)


# -- task 4 ---------------------------------------------------------------------------------------------------

D = datetime.datetime
INSERTS = [
    ("insert_one", [(1, "张三", "13800000001", 88.5, "喜欢打篮球", D(2024, 9, 1, 8, 0), "male")]),
    (
        "insert_rows",
        [
            (3, "李四", "13800000003", 92, "爱看书", D(2024, 9, 1, 8, 30), "female"),
            (4, "王五", "13800000004", 59.5, None, D(2024, 9, 2, 9, 0), "male"),
        ],
    ),
    ("insert_columns", [(2, None, None, None, None, None, "male")]),
]


def table_rows(connection, table: str = "student") -> list[tuple]:
    names = ", ".join(name for name, _ in STUDENT_COLUMNS)
    return sql_state.rows(connection, f"select {names} from {table}")


@pytest.mark.task(4)
def test_inserts_add_exactly_the_rows_asked(scratch, run):
    create(scratch, "student", STUDENT_COLUMNS)
    expected: list[tuple] = []
    for name, added in INSERTS:
        before = table_rows(scratch)
        run(name)
        after = table_rows(scratch)
        expected += [tuple(sql.normalise(value) for value in row) for row in added]
        new = [row for row in after if row not in before] if len(after) >= len(before) else []
        assert sorted(after, key=repr) == sorted(expected, key=repr), say(
            f"`{name}` should add {' and '.join(show(row) for row in added)} (columns "
            f"{', '.join(c for c, _ in STUDENT_COLUMNS)}); it added {', '.join(show(r) for r in new) or 'nothing'}"
            + (f" and student now has {len(after)} rows" if len(after) != len(expected) else ""),
            f"`{name}` 应当添加 {' 和 '.join(show(row) for row in added)}（字段依次为 "
            f"{', '.join(c for c, _ in STUDENT_COLUMNS)}）；"
            + (f"它添加了 {', '.join(show(r) for r in new)}" if new else "它什么也没有添加")
            + (f"，student 现在有 {len(after)} 行" if len(after) != len(expected) else ""),
        )


# -- task 5 ---------------------------------------------------------------------------------------------------


def seeded_rows(rng: random.Random) -> list[tuple]:
    """Rows with ids 2 and 3 among others, scores below, at and above 60, and a NULL score."""
    ids = rng.sample(range(1, 12), rng.randint(6, 9))
    ids = list(dict.fromkeys([2, 3, *ids]))
    scores = [rng.choice([35, 42.5, 51, 58.5]), rng.choice([45, 59.5]), 60, None]
    scores += [rng.choice([61, 72.5, 80, 95.5]) for _ in range(len(ids) - len(scores))]
    rng.shuffle(scores)
    return [
        (i, rng.choice(NAMES), f"1380000{i:04d}", score, None, D(2024, 9, 1, 8, 0), rng.choice(["male", "female"]))
        for i, score in zip(ids, scores, strict=True)
    ]


def compare_rows(name: str, before: list[tuple], got: list[tuple], expected: list[tuple]) -> None:
    """Say which rows `name` changed that it should have left alone, and which it missed."""
    old = {row[0]: row for row in before}
    now = {row[0]: row for row in got}
    want = {row[0]: row for row in expected}
    problems = []
    for key in sorted(set(old) | set(now) | set(want), key=repr):
        if now.get(key) == want.get(key):
            continue
        if key not in now:
            problems.append(
                say(
                    f"row id={key} was deleted but should still be there: {show(want[key])}",
                    f"id={key} 的行被删除了，但它应当还在：{show(want[key])}",
                )
            )
        elif key not in want:
            problems.append(
                say(
                    f"row id={key} should be gone but is still there: {show(now[key])}",
                    f"id={key} 的行应当被删除，但它还在：{show(now[key])}",
                )
            )
        elif want[key] == old.get(key):
            problems.append(
                say(
                    f"row id={key} should have been left alone, but changed from {show(old[key])} to {show(now[key])}",
                    f"id={key} 的行不应当被改动，但它从 {show(old[key])} 变成了 {show(now[key])}",
                )
            )
        else:
            problems.append(
                say(
                    f"row id={key} should have become {show(want[key])}, but is {show(now[key])}",
                    f"id={key} 的行应当变成 {show(want[key])}，但它是 {show(now[key])}",
                )
            )
    if problems:
        more = say(f" (and {len(problems) - 3} more)", f"（还有 {len(problems) - 3} 处）") if len(problems) > 3 else ""
        raise StudentError(say(f"after `{name}`:", f"执行 `{name}` 之后：") + "\n  " + "\n  ".join(problems[:3]) + more)


@pytest.mark.task(5)
def test_update_and_delete_touch_only_the_rows_named(scratch, run):
    rows = seeded_rows(random.Random())
    create(scratch, "student", STUDENT_COLUMNS, rows)
    state = [tuple(sql.normalise(value) for value in row) for row in rows]
    steps = [
        ("rename_student", lambda r: (r[0], "赵六", *r[2:]) if r[0] == 2 else r),
        ("raise_low_scores", lambda r: (*r[:3], 60, *r[4:]) if r[3] is not None and r[3] < 60 else r),
        ("delete_student", lambda r: None if r[0] == 3 else r),
    ]
    for name, change in steps:
        expected = [changed for changed in map(change, state) if changed is not None]
        run(name)
        got = table_rows(scratch)
        compare_rows(name, state, got, expected)
        state = got


# -- task 6 ---------------------------------------------------------------------------------------------------


def _alter_steps() -> list[tuple[str, str, list, str, list, set[str]]]:
    """(statement, table before, columns before, table after, columns after, new columns) for each alter."""
    base = list(STUDENT_COLUMNS)
    changed = [("mobile", "varchar(20)") if name == "phone" else (name, kind) for name, kind in base]
    first = [("stu_no", "char(8)"), *changed]
    at = [name for name, _ in first].index("name") + 1
    after = [*first[:at], ("address", "varchar(50)"), *first[at:]]
    dropped = [(name, kind) for name, kind in after if name != "intro"]
    return [
        ("rename_table", "student", base, "students", base, set()),
        ("change_column", "students", base, "students", changed, {"mobile"}),
        ("add_first", "students", changed, "students", first, {"stu_no"}),
        ("add_after", "students", first, "students", after, {"address"}),
        ("drop_column", "students", after, "students", dropped, set()),
    ]


@pytest.mark.task(6)
def test_alter_renames_changes_adds_and_drops_columns(scratch, run):
    rng = random.Random()
    for name, table, before, table_after, after, new in _alter_steps():
        with scratch.cursor() as cursor:
            for old in sql_state.tables(scratch):
                cursor.execute(f"drop table {old}")
        values = {"id": 0, "name": "", "phone": "", "mobile": "", "stu_no": "", "address": "", "score": 0}
        seeded = []
        for number in range(2):
            row = {**values, "id": number + 1, "name": rng.choice(NAMES), "phone": f"1390000{rng.randrange(10**4):04d}"}
            row["mobile"], row["stu_no"], row["address"] = row["phone"], f"S{number:07d}", "北京"
            seeded.append(row)
        create(scratch, table, before, [tuple(row.get(column) for column, _ in before) for row in seeded])
        run(name)
        present = sql_state.tables(scratch)
        assert table_after in present, say(
            f"after `{name}` there should be a table {table_after}; there are {present}",
            f"执行 `{name}` 之后应当有表 {table_after}；现有的表是 {present}",
        )
        if table != table_after:
            assert table not in present, say(
                f"after `{name}` the table {table} should no longer exist",
                f"执行 `{name}` 之后表 {table} 应当已经不存在",
            )
        got = sql_state.columns(scratch, table_after)
        got_names = [column.name for column in got]
        want_names = [column for column, _ in after]
        assert got_names == want_names, say(
            f"after `{name}` the columns of {table_after} should be {', '.join(want_names)}; "
            f"they are {', '.join(got_names)}",
            f"执行 `{name}` 之后 {table_after} 的字段应当是 {', '.join(want_names)}；实际是 {', '.join(got_names)}",
        )
        for column in got:
            if column.name in new:
                kind = dict(after)[column.name]
                data_type, length = kind.split("(")[0], int(kind.split("(")[1].rstrip(")"))
                assert (column.data_type, column.length) == (data_type, length), say(
                    f"after `{name}` column {column.name} should be {kind}; it is {column.type}",
                    f"执行 `{name}` 之后字段 {column.name} 应当是 {kind}；它是 {column.type}",
                )
        kept = sql_state.rows(scratch, f"select id, name from {table_after} order by id")
        assert kept == [(row["id"], row["name"]) for row in seeded], say(
            f"`{name}` should keep the rows of {table}; before it the table held ids/names "
            f"{[(row['id'], row['name']) for row in seeded]}, after it {kept}",
            f"`{name}` 应当保留 {table} 中的行；执行之前表中的 id/name 是 "
            f"{[(row['id'], row['name']) for row in seeded]}，执行之后是 {kept}",
        )
        if name == "change_column":
            moved = sql_state.rows(scratch, "select mobile from students order by id")
            assert moved == [(row["phone"],) for row in seeded], say(
                f"`change_column` should keep the phone numbers in the renamed column mobile; it holds {moved}",
                f"`change_column` 应当把电话号码保留在改名后的字段 mobile 中；它里面是 {moved}",
            )


# -- task 7 ---------------------------------------------------------------------------------------------------

PASSWORD = "qwe123"


def login(sandbox: Sandbox, database: str | None = None):
    try:
        return sandbox.connect(sandbox.test28, PASSWORD, database)
    except Exception as error:
        if error.args and isinstance(error.args[0], int):
            raise StudentError(
                say(
                    f"could not log in as test28 with the password {PASSWORD}"
                    + (" into school_db" if database else "")
                    + f": ({error.args[0]}) {error.args[1]}",
                    f"无法用密码 {PASSWORD} 以 test28 的身份登录"
                    + (" school_db" if database else "")
                    + f"：({error.args[0]}) {error.args[1]}",
                )
                + (
                    ""
                    if database
                    else "\n  "
                    + say(
                        f"was the user created with `identified by '{PASSWORD}'`?",
                        f"创建用户时写了 `identified by '{PASSWORD}'` 吗？",
                    )
                )
            ) from None
        raise


# Granting to an account that does not exist: 1133, or 1410 when the account that runs the grant may not create
# users (MySQL 8.4 always; MariaDB for our runner), worded like a missing right of that account, not the student's.
NO_SUCH_USER = {1133, 1410}


def privileges(sandbox: Sandbox, user: str | None = None) -> set[str]:
    """The rights of `user` (test28 by default) on school_db."""
    admin = sandbox.admin()
    try:
        found = sql_state.rows(
            admin,
            "select PRIVILEGE_TYPE as privilege_type from information_schema.SCHEMA_PRIVILEGES "
            "where GRANTEE = %s and TABLE_SCHEMA = %s",
            (f"'{user or sandbox.test28}'@'%'", sandbox.school_db),
        )
    finally:
        admin.close()
    return {privilege for (privilege,) in found}


@pytest.mark.task(7)
def test_create_user_makes_test28_who_can_log_in(mysql_database, statement, sandbox: Sandbox):
    found = statement("create_user")
    text = sandbox.renamed(found, "test28")
    sandbox.check_create_user(found, text)
    admin = sandbox.admin()
    try:
        sql_state.execute(admin, mysql_database, found, text=text)
    finally:
        admin.close()
    connection = login(sandbox)
    try:
        (user,) = sql_state.rows(connection, "select current_user() as account")[0]
    finally:
        connection.close()
    assert user == f"{sandbox.test28}@%", say(
        f"logged in as {user}, expected test28@% (renamed {sandbox.test28}@%)",
        f"登录后的身份是 {user}，应当是 test28@%（检查时换名为 {sandbox.test28}@%）",
    )


@pytest.mark.task(7)
def test_grant_gives_test28_every_right_on_school_db_only(mysql_database, statement, sandbox: Sandbox):
    found = statement("grant_rights")
    if "*.*" in sql_state.code_of(found.text):
        raise StudentError(
            say(
                "`grant_rights` grants on *.*, every table of every database on the server; the task asks for the "
                "rights on school_db only: school_db.*",
                "`grant_rights` 授权的范围是 *.*，即服务器上所有数据库的所有表；"
                "题目只要求 school_db 上的权限：school_db.*",
            ),
            found.file,
            found.line,
        )
    text = sandbox.renamed(found, "school_db", "test28")
    admin = sandbox.admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database `{sandbox.school_db}`")
            cursor.execute(f"create user '{sandbox.test28}'@'%' identified by '{PASSWORD}'")
    finally:
        admin.close()
    runner = sandbox.as_runner()
    try:
        error = sql_state.fails_with(runner, text)
    finally:
        runner.close()
    if error and error[0] in NO_SUCH_USER:
        grantee = re.search(r"\bto\s+(.+?)\s*(?:with\b|;|$)", sql_state.code_of(found.text), re.IGNORECASE | re.DOTALL)
        raise StudentError(
            say(
                f"`grant_rights` grants to {grantee[1] if grantee else 'a user'}, a user that does not exist: "
                f"({error[0]}) {error[1]}. `create_user` made 'test28'@'%'; a user is its name and its host "
                "together, so 'test28'@'localhost' would be another user. Grant to 'test28'@'%' (or just test28, "
                "which means the same)",
                f"`grant_rights` 授权给了 {grantee[1] if grantee else '一个用户'}，这个用户并不存在："
                f"({error[0]}) {error[1]}。`create_user` 创建的是 'test28'@'%'；用户由用户名和主机共同确定，"
                "所以 'test28'@'localhost' 是另一个用户。请授权给 'test28'@'%'（或者只写 test28，意思相同）",
            ),
            found.file,
            found.line,
        )
    if error:
        denied = sandbox.denied("grant rights on", "授权")
        said = sql.failure(found.name, pymysql.err.OperationalError(*error), mysql_database, text, denied=denied)
        raise StudentError(said, found.file, found.line)
    granted = privileges(sandbox)
    # What `all` means on this server (MariaDB adds DELETE HISTORY): the rights of the account that ran the
    # grant, which holds `all` on school_db.
    wanted = privileges(sandbox, sandbox.runner)
    assert wanted <= granted, say(
        f"test28 should have all rights on school_db (grant all privileges on school_db.*); it has "
        f"{sorted(granted) or 'none'} there, missing {sorted(wanted - granted)}. Listing rights one by one "
        "gives only those: `grant all` gives every right there is on the database",
        f"test28 应当拥有 school_db 上的全部权限（grant all privileges on school_db.*）；它在那里的权限是 "
        f"{sorted(granted) or '无'}，缺少 {sorted(wanted - granted)}。逐个列出权限只会得到列出的那些："
        "`grant all` 才会给出这个数据库上的所有权限",
    )
    connection = login(sandbox, sandbox.school_db)
    try:
        with connection.cursor() as cursor:
            cursor.execute("create table note (id int)")
            cursor.execute("insert into note values (28)")
            cursor.execute("select id from note")
            assert cursor.fetchall() == ((28,),), say(
                "test28 created a table in school_db but could not read back its row",
                "test28 在 school_db 中建了表，却读不回刚插入的行",
            )
    except Exception as error:
        if error.args and isinstance(error.args[0], int):
            raise StudentError(
                say(
                    f"logged in as test28, but could not create and use a table in school_db: {error}",
                    f"以 test28 的身份登录成功，但无法在 school_db 中建表并使用它：{error}",
                )
            ) from None
        raise
    finally:
        connection.close()


# -- task 8 ---------------------------------------------------------------------------------------------------

# What a syntax error in `use_school` most likely comes from, in English and in Chinese.
USE_HINTS = [
    (
        re.compile(r"^\s*use\s+database\b", re.IGNORECASE),
        "`use` takes only the name: `use school_db`, no `database`",
        "`use` 后面只写库名：`use school_db`，不要写 `database`",
    ),
    (
        re.compile(r"^\s*use\s+['\"]", re.IGNORECASE),
        "the name after `use` is not a string: write it bare, `use school_db` (backquotes are allowed, quotes not; "
        "the mysql command-line client accepts quotes because it handles `use` itself, the server does not)",
        "`use` 后面的库名不是字符串：直接写，`use school_db`（可以用反引号，不能用引号；mysql 命令行客户端接受引号，"
        "是因为它自己处理 `use`，服务器并不接受）",
    ),
]


def database_in_use(connection) -> str | None:
    return sql_state.rows(connection, "select database() as in_use")[0][0]


@pytest.mark.task(8)
def test_use_selects_school_db_and_create_table_lands_there(mysql_database, statement, sandbox: Sandbox):
    used = statement("use_school")
    text = sandbox.renamed(used, "school_db")
    made = statement("create_teacher")
    if re.search(r"\bschool_db\b", sql_state.code_of(made.text)):
        raise StudentError(
            say(
                "`create_teacher` names the database school_db itself; the task is to let `use` choose it: after "
                "`use school_db`, name only the table, `create table teacher (...)`",
                "`create_teacher` 自己写出了数据库 school_db；题目要求由 `use` 来选择数据库：在 `use school_db` 之后"
                "只写表名，`create table teacher (...)`",
            ),
            made.file,
            made.line,
        )
    admin = sandbox.admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"create database `{sandbox.school_db}`")
    finally:
        admin.close()
    denied = sandbox.denied("use", "执行 use")
    runner = sandbox.as_runner()  # connected with no database in use
    try:
        try:
            sql_state.execute(runner, mysql_database, used, text=text, denied=denied)
        except StudentError as error:
            hints = [say(en, zh) for pattern, en, zh in USE_HINTS if pattern.search(sql_state.code_of(used.text))]
            if not hints:
                raise
            raise StudentError(f"{error.message}\n  {hints[0]}", error.file, error.line) from None
        in_use = database_in_use(runner)
        assert in_use == sandbox.school_db, say(
            f"after `use_school` the database in use is {in_use!r}; it should be school_db (renamed "
            f"{sandbox.school_db} in this check): `use school_db`",
            f"执行 `use_school` 之后当前使用的数据库是 {in_use!r}；应当是 school_db（本次检查中换名为 "
            f"{sandbox.school_db}）：`use school_db`",
        )
        sql_state.execute(runner, mysql_database, made, denied=denied)
    finally:
        runner.close()

    admin = sandbox.admin()
    try:
        admin.select_db(sandbox.school_db)
        present = sql_state.tables(admin)
        assert "teacher" in present, say(
            "after `use_school` and `create_teacher` on one connection, school_db should hold the table teacher; "
            f"it holds {present or 'no table'}",
            "在同一个连接上执行 `use_school` 和 `create_teacher` 之后，school_db 中应当有表 teacher；"
            + (f"它里面的表是 {present}" if present else "它里面没有任何表"),
        )
        columns = [(column.name, column.type) for column in sql_state.columns(admin, "teacher")]
    finally:
        admin.close()
    expected = [("id", "int"), ("name", "varchar(20)")]
    assert columns == expected, say(
        f"teacher should have the columns id int, name varchar(20); it has "
        f"{', '.join(f'{name} {kind}' for name, kind in columns)}",
        f"teacher 的字段应当是 id int, name varchar(20)；它的字段是 "
        f"{', '.join(f'{name} {kind}' for name, kind in columns)}",
    )


# -- task 9 ---------------------------------------------------------------------------------------------------

SCHOOL = "create table school (id int primary key, name varchar(10) not null)"


def student_with_link(extra: str) -> str:
    """The outline's student, its foreign key written without a name: the server names it student_ibfk_1."""
    return (
        "create table student (s_id int primary key auto_increment, s_name char(10) not null, d_id int not null, "
        f"{extra}, foreign key(d_id) references school(id))"
    )


# The parts of shape() in Chinese, for the message that names those that differ.
PARTS_ZH = {"columns": "字段", "primary key": "主键", "unique keys": "唯一键", "foreign keys": "外键"}


def shape(connection, table: str) -> dict:
    """What makes a table what it is, read from information_schema: columns, keys and foreign keys."""
    return {
        "columns": sql_state.columns(connection, table),
        "primary key": sql_state.primary_key(connection, table),
        "unique keys": sql_state.unique_keys(connection, table),
        "foreign keys": [key for key in sql_state.foreign_keys(connection) if key.table == table],
    }


@pytest.mark.task(9)
def test_show_create_table_gives_the_statement_that_makes_student(mysql_database, scratch, graded):
    rng = random.Random()
    default = rng.choice(["无", "none", "待定"])
    extra = f"note_{rng.randrange(10**4)} varchar({rng.randint(5, 40)}) default '{default}'"
    with scratch.cursor() as cursor:
        cursor.execute(SCHOOL)
        cursor.execute(student_with_link(extra))
    before = shape(scratch, "student")

    got = sql.run(mysql_database, graded, BASICS, "show_student")
    if got.columns[:1] == ["Field"]:
        raise StudentError(
            say(
                f"`show_student` returned {len(got.rows)} rows with the columns {', '.join(got.columns)}: that is "
                "what desc shows, one row per column. `show create table student` returns one row: the table's name "
                "and the whole statement that creates it, keys and foreign keys included",
                f"`show_student` 返回了 {len(got.rows)} 行，列为 {', '.join(got.columns)}：这是 desc 显示的内容，"
                "每个字段一行。`show create table student` 只返回一行：表名，以及创建这张表的完整语句，包括键和外键",
            )
        )
    assert len(got.rows) == 1 and len(got.rows[0]) == 2, say(
        f"`show_student` should return one row of two values (Table, Create Table), as `show create table "
        f"student` does; it returned {len(got.rows)} rows with the columns {', '.join(got.columns)}",
        f"`show_student` 应当像 `show create table student` 那样返回一行两个值（Table, Create Table）；"
        f"它返回了 {len(got.rows)} 行，列为 {', '.join(got.columns)}",
    )
    ((table, text),) = got.rows
    assert table == "student", say(
        f"`show_student` shows the table {table}; the task asks for student",
        f"`show_student` 显示的是表 {table}；题目要求的是 student",
    )

    with scratch.cursor() as cursor:
        cursor.execute("drop table student")
        cursor.execute(text)
    after = shape(scratch, "student")
    differ = [part for part in before if before[part] != after[part]]
    assert not differ, say(
        f"the statement `show_student` returned does not make the same table student again (its {', '.join(differ)} "
        "differ): `show create table student`",
        f"`show_student` 返回的语句建不出一模一样的表 student（{'、'.join(PARTS_ZH[part] for part in differ)}不同）："
        "`show create table student`",
    )


def drop_link_failed(found, error: tuple[int, str], database) -> StudentError:
    """Why dropping the foreign key failed, in terms of what `show create table student` prints."""
    code, message = error
    server = sql.server_name(database)
    said = say(
        f"`{found.name}` failed on {server}: ({code}) {message}",
        f"`{found.name}` 在 {server} 上执行失败：({code}) {message}",
    )
    reading = "\n  " + say(
        "`show create table student` prints the foreign key as CONSTRAINT `<its name>` FOREIGN KEY (`d_id`) "
        "REFERENCES `school` (`id`): drop it by the name after CONSTRAINT",
        "`show create table student` 会把外键显示为 CONSTRAINT `<它的名字>` FOREIGN KEY (`d_id`) "
        "REFERENCES `school` (`id`)：按 CONSTRAINT 后面的名字删除它",
    )
    if code == 1091:
        name = re.search(r"\bforeign\s+key\s+`?(\w+)`?", sql_state.code_of(found.text), re.IGNORECASE)
        if name:
            what = say(f"there is no foreign key named {name[1]}", f"没有名为 {name[1]} 的外键")
        else:
            what = say("there is no such foreign key", "没有这样的外键")
        if name and name[1] == "d_id":
            what += say(
                " (KEY `d_id` in that output is the index the server made for the foreign key, not its name)",
                "（输出中的 KEY `d_id` 是服务器为外键建的索引，不是外键的名字）",
            )
        return StudentError(f"{said}\n  {what}{reading}", found.file, found.line)
    if code == 1553:
        return StudentError(
            f"{said}\n  "
            + say(
                "d_id is the index the foreign key needs (KEY `d_id`), not the foreign key: drop the foreign "
                "key itself, `alter table student drop foreign key ...`",
                "d_id 是外键需要的索引（KEY `d_id`），不是外键本身：要删除的是外键，"
                "`alter table student drop foreign key ...`",
            )
            + reading,
            found.file,
            found.line,
        )
    if code == 1064 and re.search(r"\bforeign\s+key\s*\(", found.text, re.IGNORECASE):
        return StudentError(
            f"{said}\n  "
            + say(
                "a foreign key is dropped by its name, without parentheses (the outline's "
                "`drop foreign key(s_id)` is not SQL)",
                "删除外键时写它的名字，不加括号（大纲中的 `drop foreign key(s_id)` 不是合法的 SQL）",
            )
            + reading,
            found.file,
            found.line,
        )
    return StudentError(
        sql.failure(found.name, pymysql.err.OperationalError(*error), database, found.text), found.file, found.line
    )


@pytest.mark.task(9)
def test_drop_the_foreign_key_by_the_name_show_create_table_gives(mysql_database, scratch, statement):
    school = random.randint(1, 50)
    with scratch.cursor() as cursor:
        cursor.execute(SCHOOL)
        cursor.execute(student_with_link("note varchar(20)"))
        cursor.execute("insert into school values (%s, '一中')", (school,))
        cursor.execute("insert into student (s_name, d_id) values ('张三', %s)", (school,))
    found = statement("drop_school_link")
    error = sql_state.fails_with(scratch, found.text)
    if error:
        raise drop_link_failed(found, error, mysql_database)
    left = [key.describe() for key in sql_state.foreign_keys(scratch) if key.table == "student"]
    assert not left, say(
        f"after `drop_school_link`, student still has the foreign key {', '.join(left)}",
        f"执行 `drop_school_link` 之后，student 仍然有外键 {', '.join(left)}",
    )
    names = [column.name for column in sql_state.columns(scratch, "student")]
    assert names == ["s_id", "s_name", "d_id", "note"], say(
        f"`drop_school_link` should drop only the foreign key; student's columns are now {', '.join(names)}",
        f"`drop_school_link` 应当只删除外键；student 的字段现在是 {', '.join(names)}",
    )
    error = sql_state.fails_with(scratch, "insert into student (s_name, d_id) values ('李四', %s)", (school + 100,))
    assert error is None, say(
        f"after `drop_school_link`, a student of a school that does not exist should go in; it was refused: {error}",
        f"执行 `drop_school_link` 之后，属于一个不存在的学校的学生应当能插入；但被拒绝了：{error}",
    )
