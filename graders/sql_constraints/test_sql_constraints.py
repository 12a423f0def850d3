"""Grades exercises/sql_constraints/constraints.sql: every constraint proved by behaviour and by information_schema.

A constraint is there when a row that breaks it is refused with the server's error for it (1048 NULL,
1062 duplicate, 1452 unknown parent, 1451 parent still referenced) while a valid row goes in, and when
information_schema (aliased, normalised: see graders/harness/sql/state.py) shows it on the right
column. Statements run as a user who may only touch this test's database; a statement that alters a table
starts from a table the checks made, so one wrong answer does not spill into the next.
"""

from __future__ import annotations

import random
import re

import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.sql import state as sql_state

CONSTRAINTS = "constraints.sql"

# A text in English and in Chinese, for the helpers that put a message together from parts.
Said = tuple[str, str]

ERRORS: dict[int, Said] = {
    1048: ("a NULL in a NOT NULL column", "往非空字段插入 NULL"),
    1062: ("a duplicate key", "键重复"),
    1451: ("a parent row still referenced", "父记录仍被引用"),
    1452: ("a foreign key with no parent row", "外键找不到对应的父记录"),
}

SCHOOL = "create table school (id int primary key, name varchar(10) not null)"
STUDENT = (
    "create table student (s_id int primary key auto_increment, s_name char(10) not null, d_id int not null, "
    "constraint ds_id foreign key(d_id) references school(id))"
)
STUDENT_DETAIL = (
    "create table student_detail (de_id int primary key auto_increment, info varchar(10) not null, "
    "foreign key(de_id) references student(s_id))"
)


@pytest.fixture
def scratch(mysql_database):
    connection = mysql_database.connect()
    yield connection
    connection.close()


@pytest.fixture
def run(mysql_database, scratch, graded):
    """run(name) runs the student's statement `name` as the scratch user."""
    denied = say(
        f"the checks run this statement as a user who may only touch the database in use ({mysql_database.name} "
        "in this check), already selected for you: name tables without a database in front",
        f"检查程序用一个只能访问当前数据库（这次检查中是 {mysql_database.name}）的用户运行这条语句，这个数据库已经为你"
        "选好了：表名前面不要加数据库名",
    )
    return lambda name: sql_state.execute(
        scratch, mysql_database, sql_state.statement(graded, CONSTRAINTS, name), denied=denied
    )


def setup(connection, *statements: str) -> None:
    """The checks' own tables and rows: the state a statement starts from."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def refused(connection, query: str, args: tuple, code: int, what: Said, fix: Said) -> None:
    """`query` (which tries `what`) must fail with the server's error `code`; `fix` says what is missing."""
    error = sql_state.fails_with(connection, query, args)
    if error is None:
        raise StudentError(say(f"{what[0]} was accepted: {fix[0]}", f"{what[1]}没有被拒绝：{fix[1]}"))
    if error[0] != code:
        raise StudentError(
            say(
                f"{what[0]} was refused, but with error {error[0]} ({error[1]}), not with {code}, "
                f"the error for {ERRORS[code][0]}",
                f"{what[1]}被拒绝了，但错误是 {error[0]}（{error[1]}），而不是 {code}（{ERRORS[code][1]}时的错误）",
            )
        )


def accepted(connection, query: str, args: tuple, what: Said) -> None:
    error = sql_state.fails_with(connection, query, args)
    if error is not None:
        raise StudentError(
            say(f"{what[0]} was refused: ({error[0]}) {error[1]}", f"{what[1]}被拒绝了：（{error[0]}）{error[1]}")
        )


def column(connection, table: str, name: str) -> sql_state.Column:
    found = {c.name: c for c in sql_state.columns(connection, table)}
    if not found:
        tables = sql_state.tables(connection)
        raise StudentError(
            say(
                f"there is no table {table}; the database holds {tables}",
                f"没有表 {table}；数据库里的表是 {tables}",
            )
        )
    if name not in found:
        raise StudentError(
            say(
                f"table {table} has no column {name}; its columns are {list(found)}",
                f"表 {table} 没有字段 {name}；它的字段是 {list(found)}",
            )
        )
    return found[name]


def has_columns(connection, table: str, statement: str, expected: list[tuple[str, str, bool | None]]) -> None:
    """`table` has exactly the columns (name, type, nullable) of its task, in this order; nullable None where
    the task does not say. Types as MySQL 8.4 writes them: `int`, `varchar(20)`, `datetime`."""
    made = sql_state.columns(connection, table)
    if not made:
        present = sql_state.tables(connection)
        raise StudentError(
            say(
                f"after `{statement}` there is no table {table}; the database holds {present}",
                f"`{statement}` 之后没有表 {table}；数据库里的表是 {present}",
            )
        )
    names = [c.name for c in made]
    wanted = [name for name, _, _ in expected]
    assert names == wanted, say(
        f"`{statement}` should give {table} the columns {wanted}, in this order; it has {names}",
        f"`{statement}` 应当让 {table} 依次有字段 {wanted}；实际是 {names}",
    )
    for found, (name, kind, nullable) in zip(made, expected, strict=True):
        assert found.type == kind, say(
            f"`{statement}`: column {table}.{name} should be {kind}; it is {found.type}",
            f"`{statement}`：字段 {table}.{name} 应当是 {kind}；实际是 {found.type}",
        )
        if nullable is False:
            assert not found.nullable, say(
                f"`{statement}`: column {table}.{name} should be `not null`; it accepts NULL",
                f"`{statement}`：字段 {table}.{name} 应当是 `not null`；它现在可以为 NULL",
            )


def listed(keys) -> str:
    return ", ".join("(" + ", ".join(columns) + ")" for columns in sorted(keys))


def phone(rng: random.Random) -> str:
    return f"13{rng.randrange(10**9):09d}"


# -- task 1 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_not_null_created_added_and_removed(scratch, run):
    run("create_member")
    has_columns(scratch, "member", "create_member", [("id", "int", False), ("name", "varchar(20)", None)])
    assert column(scratch, "member", "name").nullable, say(
        "member.name should accept NULL in create_member", "在 create_member 中，member.name 应当可以为 NULL"
    )
    refused(
        scratch,
        "insert into member (id, name) values (null, %s)",
        ("张三",),
        1048,
        ("a member with a NULL id", "往 member 插入 id 为 NULL 的行"),
        ("the column id needs `not null`", "字段 id 需要 `not null`"),
    )
    accepted(
        scratch,
        "insert into member (id, name) values (1, null)",
        (),
        ("a member with a NULL name", "往 member 插入 name 为 NULL 的行"),
    )

    setup(scratch, "drop table member", "create table member (id int not null, name varchar(20))")
    setup(scratch, "insert into member values (1, '张三')")
    run("name_not_null")
    name = column(scratch, "member", "name")
    assert not name.nullable, say(
        "after `name_not_null`, member.name still accepts NULL", "`name_not_null` 之后，member.name 仍然可以为 NULL"
    )
    assert name.type == "varchar(20)", say(
        f"`name_not_null` should keep name a varchar(20); it is now {name.type}",
        f"`name_not_null` 应当让 name 保持 varchar(20)；它现在是 {name.type}",
    )
    refused(
        scratch,
        "insert into member (id, name) values (2, null)",
        (),
        1048,
        ("after `name_not_null`, a member with a NULL name", "`name_not_null` 之后，往 member 插入 name 为 NULL 的行"),
        ("modify the column name with `not null`", "modify 字段 name 时要加上 `not null`"),
    )

    setup(scratch, "drop table member", "create table member (id int not null, name varchar(20) not null)")
    run("name_nullable")
    name = column(scratch, "member", "name")
    assert name.nullable, say(
        "after `name_nullable`, member.name still refuses NULL: modify it without `not null`",
        "`name_nullable` 之后，member.name 仍然不能为 NULL：modify 时不要写 `not null`",
    )
    assert name.type == "varchar(20)", say(
        f"`name_nullable` should keep name a varchar(20); it is now {name.type}",
        f"`name_nullable` 应当让 name 保持 varchar(20)；它现在是 {name.type}",
    )
    accepted(
        scratch,
        "insert into member (id, name) values (3, null)",
        (),
        ("after `name_nullable`, a NULL name", "`name_nullable` 之后，往 member 插入 name 为 NULL 的行"),
    )


# -- task 2 ---------------------------------------------------------------------------------------------------


def check_unique_phone(connection, table: str, statement: str) -> None:
    keys = sql_state.unique_keys(connection, table)
    assert ("phone",) in keys.values(), say(
        f"after `{statement}`, {table} should have a unique key on phone; ",
        f"`{statement}` 之后，{table} 应当在 phone 上有唯一键；",
    ) + (
        say(f"its unique keys are on {listed(keys.values())}", f"它的唯一键在 {listed(keys.values())} 上")
        if keys
        else say("it has no unique key", "它没有唯一键")
    )
    rng = random.Random()
    number = phone(rng)
    accepted(
        connection,
        f"insert into {table} (id, phone) values (1, %s)",
        (number,),
        (f"a first row in {table}", f"往 {table} 插入第一行"),
    )
    refused(
        connection,
        f"insert into {table} (id, phone) values (2, %s)",
        (number,),
        1062,
        (f"the phone {number} twice in {table}", f"往 {table} 两次插入电话号码 {number}"),
        ("phone needs a unique key", "phone 需要唯一键"),
    )
    accepted(
        connection,
        f"insert into {table} (id, phone) values (1, %s)",
        (phone(rng),),
        (
            f"after `{statement}`, a second row with id 1 (only phone is unique) in {table}",
            f"`{statement}` 之后，往 {table} 再插入一行 id 为 1 的数据（只有 phone 是唯一的）",
        ),
    )


@pytest.mark.task(2)
def test_unique_key_three_ways_and_dropped(scratch, run):
    for statement, table in (("unique_in_column", "customer_a"), ("unique_as_table_key", "customer_b")):
        run(statement)
        has_columns(scratch, table, statement, [("id", "int", None), ("phone", "char(11)", None)])
        check_unique_phone(scratch, table, statement)

    rng = random.Random()
    setup(scratch, "create table customer_c (id int, phone char(11))")
    setup(scratch, f"insert into customer_c values (7, '{phone(rng)}'), (8, '{phone(rng)}')")
    run("unique_added")
    setup(scratch, "delete from customer_c")
    check_unique_phone(scratch, "customer_c", "unique_added")

    setup(scratch, "create table customer_d (id int, phone char(11), unique key(phone))")
    run("unique_dropped")
    keys = sql_state.unique_keys(scratch, "customer_d")
    assert not keys, say(
        f"after `unique_dropped`, customer_d still has unique keys on {listed(keys.values())}",
        f"`unique_dropped` 之后，customer_d 仍然在 {listed(keys.values())} 上有唯一键",
    )
    number = phone(rng)
    accepted(
        scratch,
        "insert into customer_d (id, phone) values (1, %s), (2, %s)",
        (number, number),
        ("after `unique_dropped`, the same phone twice", "`unique_dropped` 之后，两次插入同一个电话号码"),
    )


# -- task 3 ---------------------------------------------------------------------------------------------------


def check_primary_id(connection, table: str, statement: str) -> None:
    key = sql_state.primary_key(connection, table)
    assert key == ("id",), say(
        f"after `{statement}`, the primary key of {table} should be (id); ",
        f"`{statement}` 之后，{table} 的主键应当是 (id)；",
    ) + (say(f"it is ({', '.join(key)})", f"实际是 ({', '.join(key)})") if key else say("it has none", "它没有主键"))
    accepted(
        connection,
        f"insert into {table} (id, title) values (1, '三国演义')",
        (),
        (f"a first book in {table}", f"往 {table} 插入第一本书"),
    )
    refused(
        connection,
        f"insert into {table} (id, title) values (1, '红楼梦')",
        (),
        1062,
        (f"the id 1 twice in {table}", f"往 {table} 两次插入 id 1"),
        ("a primary key is unique", "主键是唯一的"),
    )
    refused(
        connection,
        f"insert into {table} (id, title) values (null, '水浒传')",
        (),
        1048,
        (f"a NULL id in {table}", f"往 {table} 插入为 NULL 的 id"),
        ("a primary key is never NULL", "主键不能为 NULL"),
    )


@pytest.mark.task(3)
def test_primary_key_created_added_and_dropped(scratch, run):
    run("primary_in_column")
    has_columns(scratch, "book", "primary_in_column", [("id", "int", False), ("title", "varchar(20)", False)])
    refused(
        scratch,
        "insert into book (id, title) values (9, null)",
        (),
        1048,
        ("a book with a NULL title", "往 book 插入 title 为 NULL 的行"),
        ("title needs `not null`", "title 需要 `not null`"),
    )
    check_primary_id(scratch, "book", "primary_in_column")

    setup(scratch, "create table book_b (id int, title varchar(20))", "insert into book_b values (5, '西游记')")
    run("primary_added")
    setup(scratch, "delete from book_b")
    check_primary_id(scratch, "book_b", "primary_added")

    setup(scratch, "create table book_c (id int primary key, title varchar(20))")
    run("primary_dropped")
    key = sql_state.primary_key(scratch, "book_c")
    assert not key, say(
        f"after `primary_dropped`, book_c still has the primary key ({', '.join(key)})",
        f"`primary_dropped` 之后，book_c 仍然有主键 ({', '.join(key)})",
    )
    accepted(
        scratch,
        "insert into book_c (id, title) values (1, '三国演义'), (1, '红楼梦')",
        (),
        ("after `primary_dropped`, the id 1 twice", "`primary_dropped` 之后，两次插入 id 1"),
    )


# -- task 4 ---------------------------------------------------------------------------------------------------


def new_ids(connection, table: str, count: int) -> list[int]:
    ids = []
    with connection.cursor() as cursor:
        for number in range(count):
            try:
                cursor.execute(f"insert into {table} (title) values (%s)", (f"第{number + 1}张",))
            except Exception as error:
                if error.args and isinstance(error.args[0], int):
                    raise StudentError(
                        say(
                            f"inserting into {table} without an id was refused: ({error.args[0]}) {error.args[1]}",
                            f"不给 id 往 {table} 插入数据被拒绝了：（{error.args[0]}）{error.args[1]}",
                        )
                    ) from None
                raise
            ids.append(cursor.lastrowid)
    return ids


@pytest.mark.task(4)
def test_auto_increment_starts_at_100_and_can_be_added(scratch, run):
    run("create_ticket")
    has_columns(scratch, "ticket", "create_ticket", [("id", "int", False), ("title", "varchar(20)", False)])
    ticket_id = column(scratch, "ticket", "id")
    assert "auto_increment" in ticket_id.extra, say(
        "ticket.id should be auto_increment", "ticket.id 应当是 auto_increment"
    )
    ids = new_ids(scratch, "ticket", 2)
    assert ids == [100, 101], say(
        f"two tickets inserted without an id got the ids {ids}, expected [100, 101]: "
        "`auto_increment = 100` after the closing parenthesis sets where counting starts",
        f"不给 id 插入的两张票得到的 id 是 {ids}，应当是 [100, 101]：写在右括号之后的 "
        "`auto_increment = 100` 设定从几开始计数",
    )

    rng = random.Random()
    last = rng.randint(5, 40)
    setup(
        scratch,
        "create table ticket_b (id int primary key, title varchar(20))",
        f"insert into ticket_b values (3, '旧票'), ({last}, '旧票')",
    )
    run("auto_increment_added")
    assert "auto_increment" in column(scratch, "ticket_b", "id").extra, say(
        "after `auto_increment_added`, ticket_b.id should be auto_increment",
        "`auto_increment_added` 之后，ticket_b.id 应当是 auto_increment",
    )
    assert sql_state.primary_key(scratch, "ticket_b") == ("id",), say(
        "after `auto_increment_added`, ticket_b.id should still be the primary key",
        "`auto_increment_added` 之后，ticket_b.id 应当仍然是主键",
    )
    ids = new_ids(scratch, "ticket_b", 1)
    assert ids == [last + 1], say(
        f"ticket_b held ids 3 and {last}; the next ticket should get {last + 1}, it got {ids}",
        f"ticket_b 里已有 id 3 和 {last}；下一张票应当得到 {last + 1}，实际得到 {ids}",
    )


# -- task 5 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(5)
def test_defaults_fill_the_columns_left_out(scratch, run):
    run("create_profile")
    has_columns(
        scratch,
        "profile",
        "create_profile",
        [("id", "int", False), ("city", "varchar(20)", None), ("level", "int", None), ("joined", "datetime", None)],
    )
    expected = {"city": "北京", "level": "10", "joined": "current_timestamp"}
    for name, default in expected.items():
        found = column(scratch, "profile", name).default
        assert found == default, say(
            f"profile.{name} should default to {default}; ", f"profile.{name} 的默认值应当是 {default}；"
        ) + (say(f"its default is {found}", f"它的默认值是 {found}") if found else say("it has none", "它没有默认值"))
    accepted(
        scratch,
        "insert into profile (id) values (1)",
        (),
        ("a profile with only an id", "往 profile 插入只有 id 的一行"),
    )
    row = sql_state.rows(
        scratch, "select city, level, timestampdiff(second, joined, now()) as age from profile where id = 1"
    )[0]
    assert row[:2] == ("北京", 10), say(
        f"a profile inserted with only an id got city {row[0]!r} and level {row[1]!r}",
        f"只给 id 插入的 profile 得到的 city 是 {row[0]!r}，level 是 {row[1]!r}",
    )
    assert row[2] is not None and 0 <= row[2] < 300, say(
        "a profile inserted with only an id should get the current time as joined; ",
        "只给 id 插入的 profile，joined 应当是当前时间；",
    ) + (
        say("it got NULL", "实际是 NULL")
        if row[2] is None
        else say(f"it got a time {row[2]} s away from now", f"实际得到的时间与现在相差 {row[2]} 秒")
    )
    accepted(
        scratch,
        "insert into profile (id, city, level, joined) values (2, '上海', 3, '2024-01-01 00:00:00')",
        (),
        ("a profile with every value given", "往 profile 插入一行，所有值都给出"),
    )
    row = sql_state.rows(scratch, "select city, level from profile where id = 2")[0]
    assert row == ("上海", 3), say(
        f"values given in the insert must win over the defaults; got {row!r}",
        f"insert 里给出的值必须优先于默认值；实际得到 {row!r}",
    )


# -- task 6 ---------------------------------------------------------------------------------------------------


# Only `constraint <name> foreign key ...` names the constraint on both servers.
NAMED_DS_ID = re.compile(r"\bconstraint\s+`?ds_id`?\s+foreign\s+key\b", re.IGNORECASE)
INDEX_NAMED_DS_ID = re.compile(r"\bforeign\s+key\s+`?ds_id`?\s*\(", re.IGNORECASE)


def keys_of(connection, table: str) -> list[sql_state.ForeignKey]:
    return [key for key in sql_state.foreign_keys(connection) if key.table == table]


@pytest.mark.task(6)
def test_school_student_and_detail_are_linked_by_foreign_keys(scratch, run, graded):
    for name in ("create_school", "create_student", "create_student_detail"):
        run(name)
    has_columns(scratch, "school", "create_school", [("id", "int", False), ("name", "varchar(10)", False)])
    d_id = column(scratch, "student", "d_id")
    assert not d_id.nullable, say(
        "student.d_id should be not null: every student belongs to a school",
        "student.d_id 应当是 not null：每个学生都属于一所学校",
    )
    has_columns(
        scratch,
        "student",
        "create_student",
        [("s_id", "int", False), ("s_name", "char(10)", False), ("d_id", "int", False)],
    )
    has_columns(
        scratch, "student_detail", "create_student_detail", [("de_id", "int", False), ("info", "varchar(10)", False)]
    )
    links = {(key.columns, key.ref_table, key.ref_columns): key for key in keys_of(scratch, "student")}
    link = links.get((("d_id",), "school", ("id",)))
    assert link, say(
        "student should have a foreign key d_id → school(id); ", "student 应当有外键 d_id → school(id)；"
    ) + (
        say(
            f"its foreign keys: {[key.describe() for key in links.values()]}",
            f"它的外键是：{[key.describe() for key in links.values()]}",
        )
        if links
        else say("it has none", "它没有外键")
    )
    code = sql_state.code_of(sql_state.statement(graded, CONSTRAINTS, "create_student").text)
    if not NAMED_DS_ID.search(code) and INDEX_NAMED_DS_ID.search(code):
        raise StudentError(
            say(
                "`create_student` writes `foreign key ds_id (d_id)`: that names the constraint ds_id on MariaDB only. "
                "MySQL 8.4 (the server of GitHub Actions and of docker-compose.yml) gives the name to the index and "
                "calls the constraint student_ibfk_1, so `drop foreign key ds_id` would fail there. Name the "
                "constraint itself: `constraint ds_id foreign key(d_id) references school(id)`",
                "`create_student` 写的是 `foreign key ds_id (d_id)`：只有 MariaDB 会把 ds_id 当作约束名。"
                "MySQL 8.4（GitHub Actions 和 docker-compose.yml 用的服务器）把这个名字给了索引，约束本身叫 "
                "student_ibfk_1，所以在那里 `drop foreign key ds_id` 会失败。请给约束本身命名："
                "`constraint ds_id foreign key(d_id) references school(id)`",
            )
        )
    assert link.name == "ds_id", say(
        f"the foreign key student(d_id) → school(id) should be named ds_id, not {link.name}: "
        "write `constraint ds_id foreign key(d_id) references school(id)`",
        f"外键 student(d_id) → school(id) 应当名为 ds_id，而不是 {link.name}："
        "请写 `constraint ds_id foreign key(d_id) references school(id)`",
    )
    assert link.on_delete == "RESTRICT", say(
        f"the foreign key ds_id says on delete {link.on_delete.lower()}; write no `on delete` clause, so a school "
        "that still has students cannot be deleted",
        f"外键 ds_id 写了 on delete {link.on_delete.lower()}；不要写 `on delete` 子句，这样还有学生的学校就不能被删除",
    )
    details = [key.describe() for key in keys_of(scratch, "student_detail")]
    assert "student_detail(de_id) → student(s_id)" in details, say(
        f"student_detail should have a foreign key de_id → student(s_id); it has {details or 'none'}",
        f"student_detail 应当有外键 de_id → student(s_id)；它的外键是：{details or '无'}",
    )

    school = random.randint(1, 50)
    setup(scratch, f"insert into school values ({school}, '一中')")
    accepted(
        scratch,
        "insert into student (s_name, d_id) values ('张三', %s)",
        (school,),
        (f"a student of school {school}", f"插入学校 {school} 的学生"),
    )
    refused(
        scratch,
        "insert into student (s_name, d_id) values ('李四', %s)",
        (school + 100,),
        1452,
        (f"a student of school {school + 100}, which does not exist,", f"插入不存在的学校 {school + 100} 的学生"),
        ("d_id needs a foreign key to school(id)", "d_id 需要一个指向 school(id) 的外键"),
    )
    refused(
        scratch,
        "insert into student (s_name, d_id) values ('王五', null)",
        (),
        1048,
        ("a student with a NULL d_id", "插入 d_id 为 NULL 的学生"),
        (
            "student.d_id needs `not null`: every student belongs to a school",
            "student.d_id 需要 `not null`：每个学生都属于一所学校",
        ),
    )
    refused(
        scratch,
        "delete from school where id = %s",
        (school,),
        1451,
        ("deleting a school that still has students", "删除还有学生的学校"),
        (
            "the foreign key should refuse it (write no `on delete` clause)",
            "外键应当拒绝这个操作（不要写 `on delete` 子句）",
        ),
    )
    (s_id,) = sql_state.rows(scratch, "select s_id from student")[0]
    accepted(
        scratch,
        "insert into student_detail (de_id, info) values (%s, '爱好篮球')",
        (s_id,),
        ("a detail of a student", "插入一个学生的详情"),
    )
    refused(
        scratch,
        "insert into student_detail (de_id, info) values (%s, '无')",
        (s_id + 100,),
        1452,
        (f"a detail of student {s_id + 100}, who does not exist,", f"插入不存在的学生 {s_id + 100} 的详情"),
        ("de_id needs a foreign key to student(s_id)", "de_id 需要一个指向 student(s_id) 的外键"),
    )


@pytest.mark.task(6)
def test_drop_foreign_key_by_its_name(scratch, run):
    setup(scratch, SCHOOL, STUDENT, STUDENT_DETAIL)
    run("drop_student_fk")
    left = [key.describe() for key in keys_of(scratch, "student")]
    assert not left, say(
        f"after `drop_student_fk`, student still has the foreign keys {left}",
        f"`drop_student_fk` 之后，student 仍然有外键 {left}",
    )
    details = [key.describe() for key in keys_of(scratch, "student_detail")]
    assert details, say(
        "`drop_student_fk` should drop only student's foreign key; student_detail lost its own",
        "`drop_student_fk` 应当只删除 student 的外键；student_detail 自己的外键也没了",
    )
    accepted(
        scratch,
        "insert into student (s_name, d_id) values ('张三', 999)",
        (),
        (
            "after `drop_student_fk`, a student of a school that does not exist",
            "`drop_student_fk` 之后，插入一所不存在的学校的学生",
        ),
    )


# -- task 7 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(7)
def test_choose_links_students_and_courses_many_to_many(scratch, run):
    setup(scratch, SCHOOL, STUDENT)
    run("create_cours")
    run("create_choose")
    has_columns(scratch, "cours", "create_cours", [("c_id", "int", False), ("c_name", "char(10)", False)])
    has_columns(scratch, "choose", "create_choose", [("cs_id", "int", False), ("cours_id", "int", False)])
    assert sql_state.primary_key(scratch, "cours") == ("c_id",), say(
        "the primary key of cours should be c_id", "cours 的主键应当是 c_id"
    )
    key = sql_state.primary_key(scratch, "choose")
    assert sorted(key) == ["cours_id", "cs_id"], say(
        "choose should have one composite primary key on (cs_id, cours_id); ",
        "choose 应当有一个建在 (cs_id, cours_id) 上的联合主键；",
    ) + (
        say(f"its primary key is ({', '.join(key)})", f"它的主键是 ({', '.join(key)})")
        if key
        else say("it has none", "它没有主键")
    )
    links = sorted(key.describe() for key in keys_of(scratch, "choose"))
    for wanted, column_name in (
        ("choose(cs_id) → student(s_id)", "cs_id"),
        ("choose(cours_id) → cours(c_id)", "cours_id"),
    ):
        assert wanted in links, say(
            f"choose should have the foreign key {wanted}, so {column_name} names a row that exists; "
            f"its foreign keys: {links or 'none'}",
            f"choose 应当有外键 {wanted}，这样 {column_name} 指向的行才一定存在；它的外键是：{links or '无'}",
        )

    rng = random.Random()
    school, courses = rng.randint(1, 9), rng.sample(range(1, 90), 2)
    setup(
        scratch,
        f"insert into school values ({school}, '一中')",
        f"insert into student (s_name, d_id) values ('张三', {school}), ('李四', {school})",
        f"insert into cours values ({courses[0]}, '数学'), ({courses[1]}, '语文')",
    )
    first, second = (row[0] for row in sql_state.rows(scratch, "select s_id from student order by s_id"))
    pairs = [(first, courses[0]), (first, courses[1]), (second, courses[0])]
    for pair in pairs:
        accepted(
            scratch,
            "insert into choose (cs_id, cours_id) values (%s, %s)",
            pair,
            (f"the choice {pair}", f"插入选课 {pair}"),
        )
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        pairs[0],
        1062,
        (f"the choice {pairs[0]} twice", f"两次插入选课 {pairs[0]}"),
        ("(cs_id, cours_id) should be the primary key", "(cs_id, cours_id) 应当是主键"),
    )
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        (second + 100, courses[0]),
        1452,
        (f"a choice of student {second + 100}, who does not exist,", f"插入不存在的学生 {second + 100} 的选课"),
        ("cs_id needs a foreign key to student(s_id)", "cs_id 需要一个指向 student(s_id) 的外键"),
    )
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        (first, 999),
        1452,
        ("a choice of course 999, which does not exist,", "插入不存在的课程 999 的选课"),
        ("cours_id needs a foreign key to cours(c_id)", "cours_id 需要一个指向 cours(c_id) 的外键"),
    )


# -- task 8 ---------------------------------------------------------------------------------------------------

# `modify phone unique key`: the type is missing, a syntax error (1064) on both servers.
MODIFY_WITHOUT_TYPE = re.compile(r"\bmodify\s+(?:column\s+)?`?\w+`?\s+(?:unique|primary)\b", re.IGNORECASE)


def run_modify(run, graded, name: str, table: str, column: str, definition: str, key: str) -> None:
    """Run the student's `alter table ... modify` statement `name`, which must use the modify form."""
    found = sql_state.statement(graded, CONSTRAINTS, name)
    code = sql_state.code_of(found.text)
    whole = f"alter table {table} modify {column} {definition} {key}"
    if not re.search(r"\bmodify\b", code, re.IGNORECASE):
        raise StudentError(
            say(
                f"`{name}` should add the key with the outline's `modify` form, which restates the column with the "
                f"key at its end: `{whole}` (`add ...` was the way of tasks 2 and 3)",
                f"`{name}` 应当用大纲中 `modify` 的写法添加键，也就是把字段重新写一遍，把键写在最后：`{whole}`"
                "（`add ...` 是任务 2 和 3 的写法）",
            ),
            found.file,
            found.line,
        )
    try:
        run(name)
    except StudentError as error:
        if MODIFY_WITHOUT_TYPE.search(code):
            raise StudentError(
                f"{error.message}\n  "
                + say(
                    f"modify restates the whole column: its name, its type, then the key: `{whole}`",
                    f"modify 要把整个字段重新写一遍：先是字段名，再是类型，然后是键：`{whole}`",
                ),
                error.file,
                error.line,
            ) from None
        raise


def kept(connection, table: str, name: str, statement: str, kind: str, nullable: bool) -> None:
    """`modify` must leave the column's type as it was; nullable says whether it should still accept NULL."""
    found = column(connection, table, name)
    assert found.type == kind, say(
        f"`{statement}` should keep {table}.{name} a {kind}, restating its type; it made it {found.type}",
        f"`{statement}` 应当让 {table}.{name} 保持 {kind}，把它的类型再写一遍；它却把它改成了 {found.type}",
    )
    if nullable:
        assert found.nullable, say(
            f"`{statement}` made {table}.{name} `not null`; the task keeps it accepting NULL: modify restates the "
            f"whole column, so write it as it was ({kind}) with only the key added",
            f"`{statement}` 把 {table}.{name} 变成了 `not null`；任务要求它仍然可以为 NULL：modify 要把整个字段"
            f"重新写一遍，所以要照原样写（{kind}），只加上键",
        )


@pytest.mark.task(8)
def test_unique_and_primary_key_added_by_modify(scratch, run, graded):
    rng = random.Random()
    setup(scratch, "create table customer_e (id int, phone char(11))")
    setup(scratch, f"insert into customer_e values (3, '{phone(rng)}'), (4, '{phone(rng)}')")
    run_modify(run, graded, "unique_modified", "customer_e", "phone", "char(11)", "unique key")
    kept(scratch, "customer_e", "phone", "unique_modified", "char(11)", nullable=True)
    count = sql_state.rows(scratch, "select count(*) as n from customer_e")[0][0]
    assert count == 2, say(
        f"`unique_modified` should keep the rows of customer_e; it holds {count} of 2",
        f"`unique_modified` 应当保留 customer_e 里的数据；原来的 2 行现在剩 {count} 行",
    )
    setup(scratch, "delete from customer_e")
    check_unique_phone(scratch, "customer_e", "unique_modified")
    accepted(
        scratch,
        "insert into customer_e (id, phone) values (5, null), (6, null)",
        (),
        (
            "after `unique_modified`, two customers without a phone (NULL)",
            "`unique_modified` 之后，插入两个没有电话号码（NULL）的客户",
        ),
    )

    setup(scratch, "create table book_d (id int, title varchar(20))")
    setup(scratch, f"insert into book_d values ({rng.randint(2, 9)}, '西游记'), ({rng.randint(10, 99)}, '水浒传')")
    run_modify(run, graded, "primary_modified", "book_d", "id", "int", "primary key")
    kept(scratch, "book_d", "id", "primary_modified", "int", nullable=False)
    count = sql_state.rows(scratch, "select count(*) as n from book_d")[0][0]
    assert count == 2, say(
        f"`primary_modified` should keep the rows of book_d; it holds {count} of 2",
        f"`primary_modified` 应当保留 book_d 里的数据；原来的 2 行现在剩 {count} 行",
    )
    setup(scratch, "delete from book_d")
    check_primary_id(scratch, "book_d", "primary_modified")


# -- task 9 ---------------------------------------------------------------------------------------------------

LOGIN_COLUMNS = [
    ("id", "int", None),
    ("email", "varchar(50)", None),
    ("username", "varchar(20)", None),  # nullability checked below, with what desc then shows
    ("nickname", "varchar(20)", False),
]
# COLUMN_KEY, as `desc login` shows it in its Key column: alike on MySQL 8.4 and MariaDB 10.11.
LOGIN_KEYS = {"id": "", "email": "UNI", "username": "PRI", "nickname": "UNI"}


@pytest.mark.task(9)
def test_first_not_null_unique_key_acts_as_the_primary_key(scratch, run):
    run("create_login")
    declared = sql_state.primary_key(scratch, "login")
    assert not declared, say(
        f"`create_login` declares the primary key ({', '.join(declared)}); declare none: the task shows the rule "
        "that, without a primary key, the first NOT NULL unique key acts as one",
        f"`create_login` 声明了主键 ({', '.join(declared)})；不要声明主键：这个任务展示的规则是，没有主键时，"
        "第一个 NOT NULL 的唯一键会充当主键",
    )
    has_columns(scratch, "login", "create_login", LOGIN_COLUMNS)
    keys = {c.name: c.key for c in sql_state.columns(scratch, "login")}
    email = column(scratch, "login", "email")
    email_key = keys["email"]
    assert email.nullable, say(
        "login.email should accept NULL (a user may have no email): with `not null` it would be the first NOT NULL "
        "unique column and act as the primary key instead of username",
        "login.email 应当可以为 NULL（用户可以没有邮箱）：加上 `not null` 后，它就成了第一个 NOT NULL 的唯一字段，"
        "会代替 username 充当主键",
    ) + (say(f"; desc login shows it as {email_key}", f"；desc login 把它显示为 {email_key}") if email_key else "")
    username = column(scratch, "login", "username")
    primary = [n for n, k in keys.items() if k == "PRI"]
    assert not username.nullable, say(
        "login.username should be `not null`: a unique column that accepts NULL never acts as the primary key, so "
        f"desc login shows it as {keys['username'] or 'no key'}",
        "login.username 应当是 `not null`：可以为 NULL 的唯一字段永远不会充当主键，所以 desc login 把它显示为 "
        f"{keys['username'] or '没有键'}",
    ) + (say(f" and PRI went to {', '.join(primary)}", f"，而 PRI 给了 {', '.join(primary)}") if primary else "")
    uniques = sorted(cols for cols in sql_state.unique_keys(scratch, "login").values())
    assert uniques == [("email",), ("nickname",), ("username",)], say(
        "login should have one unique key on each of email, username and nickname; ",
        "login 应当在 email、username 和 nickname 上各有一个唯一键；",
    ) + (
        say(f"its unique keys are on {listed(uniques)}", f"它的唯一键在 {listed(uniques)} 上")
        if uniques
        else say("it has none", "它没有唯一键")
    )
    shown_keys = ", ".join(f"{name} {key or say('(none)', '（无）')}" for name, key in keys.items())
    assert keys == LOGIN_KEYS, say(
        f"desc login should show the Key column id (none), email UNI, username PRI, nickname UNI: with no primary "
        f"key declared, the first unique key whose columns are all NOT NULL acts as the primary key. It shows "
        f"{shown_keys}",
        f"desc login 的 Key 一栏应当显示 id（无）、email UNI、username PRI、nickname UNI：没有声明主键时，"
        f"第一个所有字段都是 NOT NULL 的唯一键会充当主键。实际显示的是 {shown_keys}",
    )

    rng = random.Random()
    name = f"user{rng.randrange(10**6)}"
    accepted(
        scratch,
        "insert into login (id, email, username, nickname) values (1, null, %s, %s)",
        (name, "小明"),
        ("a first login without an email", "插入第一个没有邮箱的用户"),
    )
    accepted(
        scratch,
        "insert into login (id, email, username, nickname) values (2, null, %s, %s)",
        (name + "x", "小红"),
        (
            "a second login without an email (a unique key allows NULL many times)",
            "插入第二个没有邮箱的用户（唯一键允许多个 NULL）",
        ),
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (3, %s, %s, %s)",
        ("a@example.com", name, "小刚"),
        1062,
        (f"the username {name} twice", f"两次插入 username {name}"),
        ("username needs a unique key", "username 需要唯一键"),
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (4, %s, null, %s)",
        ("b@example.com", "小李"),
        1048,
        ("a login with a NULL username", "插入 username 为 NULL 的用户"),
        ("username needs `not null`", "username 需要 `not null`"),
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (5, %s, %s, %s)",
        ("c@example.com", name + "y", "小明"),
        1062,
        ("the nickname 小明 twice", "两次插入 nickname 小明"),
        ("nickname needs a unique key", "nickname 需要唯一键"),
    )
