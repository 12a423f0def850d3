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

from graders.harness.core.student import StudentError
from graders.harness.sql import state as sql_state

CONSTRAINTS = "constraints.sql"

ERRORS = {
    1048: "a NULL in a NOT NULL column",
    1062: "a duplicate key",
    1451: "a parent row still referenced",
    1452: "a foreign key with no parent row",
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
    denied = (
        f"the checks run this statement as a user who may only touch the database in use ({mysql_database.name} "
        "in this check), already selected for you: name tables without a database in front"
    )
    return lambda name: sql_state.execute(
        scratch, mysql_database, sql_state.statement(graded, CONSTRAINTS, name), denied=denied
    )


def setup(connection, *statements: str) -> None:
    """The checks' own tables and rows: the state a statement starts from."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def refused(connection, query: str, args: tuple, code: int, what: str, fix: str) -> None:
    """`query` (which tries `what`) must fail with the server's error `code`; `fix` says what is missing."""
    error = sql_state.fails_with(connection, query, args)
    if error is None:
        raise StudentError(f"{what} was accepted: {fix}")
    if error[0] != code:
        raise StudentError(
            f"{what} was refused, but with error {error[0]} ({error[1]}), not with {code}, the error for {ERRORS[code]}"
        )


def accepted(connection, query: str, args: tuple, what: str) -> None:
    error = sql_state.fails_with(connection, query, args)
    if error is not None:
        raise StudentError(f"{what} was refused: ({error[0]}) {error[1]}")


def column(connection, table: str, name: str) -> sql_state.Column:
    found = {c.name: c for c in sql_state.columns(connection, table)}
    if not found:
        raise StudentError(f"there is no table {table}; the database holds {sql_state.tables(connection)}")
    if name not in found:
        raise StudentError(f"table {table} has no column {name}; its columns are {list(found)}")
    return found[name]


def has_columns(connection, table: str, statement: str, expected: list[tuple[str, str, bool | None]]) -> None:
    """`table` has exactly the columns (name, type, nullable) of its task, in this order; nullable None where
    the task does not say. Types as MySQL 8.4 writes them: `int`, `varchar(20)`, `datetime`."""
    made = sql_state.columns(connection, table)
    if not made:
        present = sql_state.tables(connection)
        raise StudentError(f"after `{statement}` there is no table {table}; the database holds {present}")
    names = [c.name for c in made]
    wanted = [name for name, _, _ in expected]
    assert names == wanted, f"`{statement}` should give {table} the columns {wanted}, in this order; it has {names}"
    for found, (name, kind, nullable) in zip(made, expected, strict=True):
        assert found.type == kind, f"`{statement}`: column {table}.{name} should be {kind}; it is {found.type}"
        if nullable is False:
            assert not found.nullable, f"`{statement}`: column {table}.{name} should be `not null`; it accepts NULL"


def listed(keys) -> str:
    return ", ".join("(" + ", ".join(columns) + ")" for columns in sorted(keys))


def phone(rng: random.Random) -> str:
    return f"13{rng.randrange(10**9):09d}"


# -- task 1 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_not_null_created_added_and_removed(scratch, run):
    run("create_member")
    has_columns(scratch, "member", "create_member", [("id", "int", False), ("name", "varchar(20)", None)])
    assert column(scratch, "member", "name").nullable, "member.name should accept NULL in create_member"
    refused(
        scratch,
        "insert into member (id, name) values (null, %s)",
        ("张三",),
        1048,
        "a member with a NULL id",
        "the column id needs `not null`",
    )
    accepted(scratch, "insert into member (id, name) values (1, null)", (), "a member with a NULL name")

    setup(scratch, "drop table member", "create table member (id int not null, name varchar(20))")
    setup(scratch, "insert into member values (1, '张三')")
    run("name_not_null")
    name = column(scratch, "member", "name")
    assert not name.nullable, "after `name_not_null`, member.name still accepts NULL"
    assert name.type == "varchar(20)", f"`name_not_null` should keep name a varchar(20); it is now {name.type}"
    refused(
        scratch,
        "insert into member (id, name) values (2, null)",
        (),
        1048,
        "after `name_not_null`, a member with a NULL name",
        "modify the column name with `not null`",
    )

    setup(scratch, "drop table member", "create table member (id int not null, name varchar(20) not null)")
    run("name_nullable")
    name = column(scratch, "member", "name")
    assert name.nullable, "after `name_nullable`, member.name still refuses NULL: modify it without `not null`"
    assert name.type == "varchar(20)", f"`name_nullable` should keep name a varchar(20); it is now {name.type}"
    accepted(scratch, "insert into member (id, name) values (3, null)", (), "after `name_nullable`, a NULL name")


# -- task 2 ---------------------------------------------------------------------------------------------------


def check_unique_phone(connection, table: str, statement: str) -> None:
    keys = sql_state.unique_keys(connection, table)
    assert ("phone",) in keys.values(), f"after `{statement}`, {table} should have a unique key on phone; " + (
        f"its unique keys are on {listed(keys.values())}" if keys else "it has no unique key"
    )
    rng = random.Random()
    number = phone(rng)
    accepted(connection, f"insert into {table} (id, phone) values (1, %s)", (number,), f"a first row in {table}")
    refused(
        connection,
        f"insert into {table} (id, phone) values (2, %s)",
        (number,),
        1062,
        f"the phone {number} twice in {table}",
        "phone needs a unique key",
    )
    accepted(
        connection,
        f"insert into {table} (id, phone) values (1, %s)",
        (phone(rng),),
        f"after `{statement}`, a second row with id 1 (only phone is unique) in {table}",
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
    assert not keys, f"after `unique_dropped`, customer_d still has unique keys on {listed(keys.values())}"
    number = phone(rng)
    accepted(
        scratch,
        "insert into customer_d (id, phone) values (1, %s), (2, %s)",
        (number, number),
        "after `unique_dropped`, the same phone twice",
    )


# -- task 3 ---------------------------------------------------------------------------------------------------


def check_primary_id(connection, table: str, statement: str) -> None:
    key = sql_state.primary_key(connection, table)
    assert key == ("id",), f"after `{statement}`, the primary key of {table} should be (id); " + (
        f"it is ({', '.join(key)})" if key else "it has none"
    )
    accepted(connection, f"insert into {table} (id, title) values (1, '三国演义')", (), f"a first book in {table}")
    refused(
        connection,
        f"insert into {table} (id, title) values (1, '红楼梦')",
        (),
        1062,
        f"the id 1 twice in {table}",
        "a primary key is unique",
    )
    refused(
        connection,
        f"insert into {table} (id, title) values (null, '水浒传')",
        (),
        1048,
        f"a NULL id in {table}",
        "a primary key is never NULL",
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
        "a book with a NULL title",
        "title needs `not null`",
    )
    check_primary_id(scratch, "book", "primary_in_column")

    setup(scratch, "create table book_b (id int, title varchar(20))", "insert into book_b values (5, '西游记')")
    run("primary_added")
    setup(scratch, "delete from book_b")
    check_primary_id(scratch, "book_b", "primary_added")

    setup(scratch, "create table book_c (id int primary key, title varchar(20))")
    run("primary_dropped")
    key = sql_state.primary_key(scratch, "book_c")
    assert not key, f"after `primary_dropped`, book_c still has the primary key ({', '.join(key)})"
    accepted(
        scratch,
        "insert into book_c (id, title) values (1, '三国演义'), (1, '红楼梦')",
        (),
        "after `primary_dropped`, the id 1 twice",
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
                        f"inserting into {table} without an id was refused: ({error.args[0]}) {error.args[1]}"
                    ) from None
                raise
            ids.append(cursor.lastrowid)
    return ids


@pytest.mark.task(4)
def test_auto_increment_starts_at_100_and_can_be_added(scratch, run):
    run("create_ticket")
    has_columns(scratch, "ticket", "create_ticket", [("id", "int", False), ("title", "varchar(20)", False)])
    ticket_id = column(scratch, "ticket", "id")
    assert "auto_increment" in ticket_id.extra, "ticket.id should be auto_increment"
    ids = new_ids(scratch, "ticket", 2)
    assert ids == [100, 101], (
        f"two tickets inserted without an id got the ids {ids}, expected [100, 101]: "
        "`auto_increment = 100` after the closing parenthesis sets where counting starts"
    )

    rng = random.Random()
    last = rng.randint(5, 40)
    setup(
        scratch,
        "create table ticket_b (id int primary key, title varchar(20))",
        f"insert into ticket_b values (3, '旧票'), ({last}, '旧票')",
    )
    run("auto_increment_added")
    assert "auto_increment" in column(scratch, "ticket_b", "id").extra, (
        "after `auto_increment_added`, ticket_b.id should be auto_increment"
    )
    assert sql_state.primary_key(scratch, "ticket_b") == ("id",), (
        "after `auto_increment_added`, ticket_b.id should still be the primary key"
    )
    ids = new_ids(scratch, "ticket_b", 1)
    assert ids == [last + 1], f"ticket_b held ids 3 and {last}; the next ticket should get {last + 1}, it got {ids}"


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
        assert found == default, f"profile.{name} should default to {default}; " + (
            f"its default is {found}" if found else "it has none"
        )
    accepted(scratch, "insert into profile (id) values (1)", (), "a profile with only an id")
    row = sql_state.rows(
        scratch, "select city, level, timestampdiff(second, joined, now()) as age from profile where id = 1"
    )[0]
    assert row[:2] == ("北京", 10), f"a profile inserted with only an id got city {row[0]!r} and level {row[1]!r}"
    assert row[2] is not None and 0 <= row[2] < 300, (
        "a profile inserted with only an id should get the current time as joined; "
        + ("it got NULL" if row[2] is None else f"it got a time {row[2]} s away from now")
    )
    accepted(
        scratch,
        "insert into profile (id, city, level, joined) values (2, '上海', 3, '2024-01-01 00:00:00')",
        (),
        "a profile with every value given",
    )
    row = sql_state.rows(scratch, "select city, level from profile where id = 2")[0]
    assert row == ("上海", 3), f"values given in the insert must win over the defaults; got {row!r}"


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
    assert not d_id.nullable, "student.d_id should be not null: every student belongs to a school"
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
    assert link, "student should have a foreign key d_id → school(id); " + (
        f"its foreign keys: {[key.describe() for key in links.values()]}" if links else "it has none"
    )
    code = sql_state.code_of(sql_state.statement(graded, CONSTRAINTS, "create_student").text)
    if not NAMED_DS_ID.search(code) and INDEX_NAMED_DS_ID.search(code):
        raise StudentError(
            "`create_student` writes `foreign key ds_id (d_id)`: that names the constraint ds_id on MariaDB only. "
            "MySQL 8.4 (the server of GitHub Actions and of docker-compose.yml) gives the name to the index and "
            "calls the constraint student_ibfk_1, so `drop foreign key ds_id` would fail there. Name the "
            "constraint itself: `constraint ds_id foreign key(d_id) references school(id)`"
        )
    assert link.name == "ds_id", (
        f"the foreign key student(d_id) → school(id) should be named ds_id, not {link.name}: "
        "write `constraint ds_id foreign key(d_id) references school(id)`"
    )
    assert link.on_delete == "RESTRICT", (
        f"the foreign key ds_id says on delete {link.on_delete.lower()}; write no `on delete` clause, so a school "
        "that still has students cannot be deleted"
    )
    details = [key.describe() for key in keys_of(scratch, "student_detail")]
    assert "student_detail(de_id) → student(s_id)" in details, (
        f"student_detail should have a foreign key de_id → student(s_id); it has {details or 'none'}"
    )

    school = random.randint(1, 50)
    setup(scratch, f"insert into school values ({school}, '一中')")
    accepted(
        scratch, "insert into student (s_name, d_id) values ('张三', %s)", (school,), f"a student of school {school}"
    )
    refused(
        scratch,
        "insert into student (s_name, d_id) values ('李四', %s)",
        (school + 100,),
        1452,
        f"a student of school {school + 100}, which does not exist,",
        "d_id needs a foreign key to school(id)",
    )
    refused(
        scratch,
        "insert into student (s_name, d_id) values ('王五', null)",
        (),
        1048,
        "a student with a NULL d_id",
        "student.d_id needs `not null`: every student belongs to a school",
    )
    refused(
        scratch,
        "delete from school where id = %s",
        (school,),
        1451,
        "deleting a school that still has students",
        "the foreign key should refuse it (write no `on delete` clause)",
    )
    (s_id,) = sql_state.rows(scratch, "select s_id from student")[0]
    accepted(
        scratch, "insert into student_detail (de_id, info) values (%s, '爱好篮球')", (s_id,), "a detail of a student"
    )
    refused(
        scratch,
        "insert into student_detail (de_id, info) values (%s, '无')",
        (s_id + 100,),
        1452,
        f"a detail of student {s_id + 100}, who does not exist,",
        "de_id needs a foreign key to student(s_id)",
    )


@pytest.mark.task(6)
def test_drop_foreign_key_by_its_name(scratch, run):
    setup(scratch, SCHOOL, STUDENT, STUDENT_DETAIL)
    run("drop_student_fk")
    left = [key.describe() for key in keys_of(scratch, "student")]
    assert not left, f"after `drop_student_fk`, student still has the foreign keys {left}"
    details = [key.describe() for key in keys_of(scratch, "student_detail")]
    assert details, "`drop_student_fk` should drop only student's foreign key; student_detail lost its own"
    accepted(
        scratch,
        "insert into student (s_name, d_id) values ('张三', 999)",
        (),
        "after `drop_student_fk`, a student of a school that does not exist",
    )


# -- task 7 ---------------------------------------------------------------------------------------------------


@pytest.mark.task(7)
def test_choose_links_students_and_courses_many_to_many(scratch, run):
    setup(scratch, SCHOOL, STUDENT)
    run("create_cours")
    run("create_choose")
    has_columns(scratch, "cours", "create_cours", [("c_id", "int", False), ("c_name", "char(10)", False)])
    has_columns(scratch, "choose", "create_choose", [("cs_id", "int", False), ("cours_id", "int", False)])
    assert sql_state.primary_key(scratch, "cours") == ("c_id",), "the primary key of cours should be c_id"
    key = sql_state.primary_key(scratch, "choose")
    assert sorted(key) == ["cours_id", "cs_id"], (
        "choose should have one composite primary key on (cs_id, cours_id); "
        + (f"its primary key is ({', '.join(key)})" if key else "it has none")
    )
    links = sorted(key.describe() for key in keys_of(scratch, "choose"))
    for wanted, column_name in (
        ("choose(cs_id) → student(s_id)", "cs_id"),
        ("choose(cours_id) → cours(c_id)", "cours_id"),
    ):
        assert wanted in links, (
            f"choose should have the foreign key {wanted}, so {column_name} names a row that exists; "
            f"its foreign keys: {links or 'none'}"
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
        accepted(scratch, "insert into choose (cs_id, cours_id) values (%s, %s)", pair, f"the choice {pair}")
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        pairs[0],
        1062,
        f"the choice {pairs[0]} twice",
        "(cs_id, cours_id) should be the primary key",
    )
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        (second + 100, courses[0]),
        1452,
        f"a choice of student {second + 100}, who does not exist,",
        "cs_id needs a foreign key to student(s_id)",
    )
    refused(
        scratch,
        "insert into choose (cs_id, cours_id) values (%s, %s)",
        (first, 999),
        1452,
        "a choice of course 999, which does not exist,",
        "cours_id needs a foreign key to cours(c_id)",
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
            f"`{name}` should add the key with the outline's `modify` form, which restates the column with the key "
            f"at its end: `{whole}` (`add ...` was the way of tasks 2 and 3)",
            found.file,
            found.line,
        )
    try:
        run(name)
    except StudentError as error:
        if MODIFY_WITHOUT_TYPE.search(code):
            raise StudentError(
                f"{error.message}\n  modify restates the whole column: its name, its type, then the key: `{whole}`",
                error.file,
                error.line,
            ) from None
        raise


def kept(connection, table: str, name: str, statement: str, kind: str, nullable: bool) -> None:
    """`modify` must leave the column's type as it was; nullable says whether it should still accept NULL."""
    found = column(connection, table, name)
    assert found.type == kind, (
        f"`{statement}` should keep {table}.{name} a {kind}, restating its type; it made it {found.type}"
    )
    if nullable:
        assert found.nullable, (
            f"`{statement}` made {table}.{name} `not null`; the task keeps it accepting NULL: modify restates the "
            f"whole column, so write it as it was ({kind}) with only the key added"
        )


@pytest.mark.task(8)
def test_unique_and_primary_key_added_by_modify(scratch, run, graded):
    rng = random.Random()
    setup(scratch, "create table customer_e (id int, phone char(11))")
    setup(scratch, f"insert into customer_e values (3, '{phone(rng)}'), (4, '{phone(rng)}')")
    run_modify(run, graded, "unique_modified", "customer_e", "phone", "char(11)", "unique key")
    kept(scratch, "customer_e", "phone", "unique_modified", "char(11)", nullable=True)
    count = sql_state.rows(scratch, "select count(*) as n from customer_e")[0][0]
    assert count == 2, f"`unique_modified` should keep the rows of customer_e; it holds {count} of 2"
    setup(scratch, "delete from customer_e")
    check_unique_phone(scratch, "customer_e", "unique_modified")
    accepted(
        scratch,
        "insert into customer_e (id, phone) values (5, null), (6, null)",
        (),
        "after `unique_modified`, two customers without a phone (NULL)",
    )

    setup(scratch, "create table book_d (id int, title varchar(20))")
    setup(scratch, f"insert into book_d values ({rng.randint(2, 9)}, '西游记'), ({rng.randint(10, 99)}, '水浒传')")
    run_modify(run, graded, "primary_modified", "book_d", "id", "int", "primary key")
    kept(scratch, "book_d", "id", "primary_modified", "int", nullable=False)
    count = sql_state.rows(scratch, "select count(*) as n from book_d")[0][0]
    assert count == 2, f"`primary_modified` should keep the rows of book_d; it holds {count} of 2"
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
    assert not declared, (
        f"`create_login` declares the primary key ({', '.join(declared)}); declare none: the task shows the rule "
        "that, without a primary key, the first NOT NULL unique key acts as one"
    )
    has_columns(scratch, "login", "create_login", LOGIN_COLUMNS)
    keys = {c.name: c.key for c in sql_state.columns(scratch, "login")}
    email = column(scratch, "login", "email")
    assert email.nullable, (
        "login.email should accept NULL (a user may have no email): with `not null` it would be the first NOT NULL "
        "unique column and act as the primary key instead of username"
        + (f"; desc login shows it as {keys['email']}" if keys["email"] else "")
    )
    username = column(scratch, "login", "username")
    assert not username.nullable, (
        "login.username should be `not null`: a unique column that accepts NULL never acts as the primary key, so "
        f"desc login shows it as {keys['username'] or 'no key'}"
        + (f" and PRI went to {', '.join(n for n, k in keys.items() if k == 'PRI')}" if "PRI" in keys.values() else "")
    )
    uniques = sorted(cols for cols in sql_state.unique_keys(scratch, "login").values())
    assert uniques == [("email",), ("nickname",), ("username",)], (
        "login should have one unique key on each of email, username and nickname; "
        + (f"its unique keys are on {listed(uniques)}" if uniques else "it has none")
    )
    shown_keys = ", ".join(f"{name} {key or '(none)'}" for name, key in keys.items())
    assert keys == LOGIN_KEYS, (
        f"desc login should show the Key column id (none), email UNI, username PRI, nickname UNI: with no primary "
        f"key declared, the first unique key whose columns are all NOT NULL acts as the primary key. It shows "
        f"{shown_keys}"
    )

    rng = random.Random()
    name = f"user{rng.randrange(10**6)}"
    accepted(
        scratch,
        "insert into login (id, email, username, nickname) values (1, null, %s, %s)",
        (name, "小明"),
        "a first login without an email",
    )
    accepted(
        scratch,
        "insert into login (id, email, username, nickname) values (2, null, %s, %s)",
        (name + "x", "小红"),
        "a second login without an email (a unique key allows NULL many times)",
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (3, %s, %s, %s)",
        ("a@example.com", name, "小刚"),
        1062,
        f"the username {name} twice",
        "username needs a unique key",
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (4, %s, null, %s)",
        ("b@example.com", "小李"),
        1048,
        "a login with a NULL username",
        "username needs `not null`",
    )
    refused(
        scratch,
        "insert into login (id, email, username, nickname) values (5, %s, %s, %s)",
        ("c@example.com", name + "y", "小明"),
        1062,
        "the nickname 小明 twice",
        "nickname needs a unique key",
    )
