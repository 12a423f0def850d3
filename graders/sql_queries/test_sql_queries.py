"""Grades exercises/sql_queries/queries.sql on a school seeded afresh for every test."""

from collections.abc import Callable

import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.sql import statements as sql
from graders.sql_queries.school import School, make_school, seed

QUERIES = "queries.sql"


@pytest.fixture
def seeded(mysql_database) -> Callable[..., School]:
    """seeded(**options) makes a school (see make_school) and stores it in the test's database."""

    def seed_school(**options: bool) -> School:
        made = make_school(**options)
        admin = mysql_database.connect(as_student=False)
        try:
            seed(admin, made)
        finally:
            admin.close()
        return made

    return seed_school


@pytest.fixture
def school(seeded) -> School:
    return seeded()


@pytest.fixture
def query(mysql_database, graded):
    """query(name) runs the student's statement `name` and returns its rows."""
    return lambda name: sql.run(mysql_database, graded, QUERIES, name)


@pytest.mark.task(1)
def test_like_with_percent_and_aliases(school, query):
    rows = query("zhang_students")
    assert rows.columns == ["学号", "姓名"], say(
        f"`zhang_students` should name its columns 学号 and 姓名, not {rows.columns}",
        f"`zhang_students` 的列名应当是 学号 和 姓名，而不是 {rows.columns}",
    )
    sql.compare("zhang_students", rows, school.zhang_students())


@pytest.mark.task(1)
def test_like_with_underscore(school, query):
    sql.compare("two_char_li", query("two_char_li"), school.two_char_li())


@pytest.mark.task(2)
def test_first_three_by_id(school, query):
    sql.compare("first_three", query("first_three"), school.by_id()[:3], ordered=True)


@pytest.mark.task(2)
def test_limit_with_offset(school, query):
    expected = school.by_id(descending=True)[3:5]
    sql.compare("fourth_and_fifth_from_the_end", query("fourth_and_fifth_from_the_end"), expected, ordered=True)


@pytest.mark.task(3)
def test_age_statistics(school, query):
    rows = query("age_stats")
    expected = school.age_stats()
    try:
        sql.compare("age_stats", rows, expected)
    except StudentError as error:
        if len(rows.rows) == 1 and len(rows.rows[0]) == 5:
            names = ["max(age)", "min(age)", "sum(age)", "round(avg(age), 2)", "count(*)"]
            wanted = [sql.normalise(value) for value in expected[0]]
            pairs = zip(names, wanted, rows.rows[0], strict=True)
            wrong = [
                say(f"{name}: expected {want}, got {got}", f"{name}：应当是 {want}，实际是 {got}")
                for name, want, got in pairs
                if want != got
            ]
            raise StudentError(
                say("`age_stats` has wrong values: ", "`age_stats` 的值不对：") + "; ".join(wrong)
            ) from None
        raise error


@pytest.mark.task(4)
def test_group_by_having(school, query):
    rows = query("big_classes")
    expected = school.big_classes()
    if len(rows.columns) == 2:
        if any(row[0] is None for row in rows.rows):
            raise StudentError(
                say(
                    f"`big_classes` returned a row for class_id NULL ({school.unplaced()} students in no class): "
                    "students in no class do not form a class; leave them out with `where class_id is not null`",
                    f"`big_classes` 返回了一行 class_id 为 NULL 的结果（{school.unplaced()} 名学生不属于任何班级）："
                    "不属于任何班级的学生不算一个班；用 `where class_id is not null` 把他们排除掉",
                )
            )
        exact = [row for row in expected if row[1] == 3]
        if exact and not any(row in rows.rows for row in exact):
            raise StudentError(
                say(
                    f"`big_classes` left out class {exact[0][0]}, which has exactly 3 students: at least 3 means >= 3",
                    f"`big_classes` 漏掉了班级 {exact[0][0]}，它恰好有 3 名学生：至少 3 名的意思是 >= 3",
                )
            )
    sql.compare("big_classes", rows, expected)


@pytest.mark.task(5)
def test_subquery_against_average_age(seeded, query):
    school = seeded(average_is_an_age=True)
    rows = query("older_than_average")
    average = int(school.average_age())
    if any(len(row) == 4 and row[2] == average for row in rows.rows):
        raise StudentError(
            say(
                f"`older_than_average` returned a student aged {average}, exactly the average age in this school: "
                "older than the average means >, not >=",
                f"`older_than_average` 返回了一名 {average} 岁的学生，这正好是这所学校的平均年龄："
                "大于平均年龄的意思是 >，而不是 >=",
            )
        )
    sql.compare("older_than_average", rows, school.older_than_average())


@pytest.mark.task(6)
def test_inner_join(school, query):
    sql.compare("students_with_class", query("students_with_class"), school.inner_join())


@pytest.mark.task(6)
def test_left_join_keeps_students_without_class(school, query):
    sql.compare("every_student_and_class", query("every_student_and_class"), school.left_join())


@pytest.mark.task(6)
def test_right_join_keeps_empty_classes(school, query):
    sql.compare("every_class_and_student", query("every_class_and_student"), school.right_join())
