"""A school made up afresh for every test, and the answers each query must give on it.

The answers are computed here in Python, independently of SQL, so a hard-coded result from another run
fails, and so does a query that happens to work only on some data (no NULL ages, no empty class...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SCHEMA = """
create table class (
    id int primary key,
    name varchar(20) not null
);
create table student (
    id int primary key,
    name varchar(20) not null,
    age int null,
    class_id int null
);
"""

SURNAMES = "王李赵刘陈杨黄周吴"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
CLASS_NAMES = ["一班", "二班", "三班", "四班", "五班"]


@dataclass(frozen=True)
class Student:
    id: int
    name: str
    age: int | None
    class_id: int | None

    @property
    def row(self) -> tuple:
        return (self.id, self.name, self.age, self.class_id)


@dataclass(frozen=True)
class School:
    classes: dict[int, str]
    students: list[Student]

    # -- the answers ---------------------------------------------------------------------------------------

    def zhang_students(self) -> list[tuple]:
        return [(s.id, s.name) for s in self.students if s.name.startswith("张")]

    def two_char_li(self) -> list[tuple]:
        return [(s.id, s.name) for s in self.students if s.name.startswith("李") and len(s.name) == 2]

    def by_id(self, descending: bool = False) -> list[tuple]:
        return [s.row for s in sorted(self.students, key=lambda s: s.id, reverse=descending)]

    @property
    def ages(self) -> list[int]:
        return [s.age for s in self.students if s.age is not None]

    def average_age(self) -> Decimal:
        return Decimal(sum(self.ages)) / Decimal(len(self.ages))

    def age_stats(self) -> list[tuple]:
        rounded = self.average_age().quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return [(max(self.ages), min(self.ages), sum(self.ages), rounded, len(self.students))]

    def class_sizes(self) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for s in self.students:
            if s.class_id is not None:
                sizes[s.class_id] = sizes.get(s.class_id, 0) + 1
        return sizes

    def big_classes(self) -> list[tuple]:
        return [(class_id, size) for class_id, size in self.class_sizes().items() if size >= 3]

    def older_than_average(self) -> list[tuple]:
        average = self.average_age()
        return [s.row for s in self.students if s.age is not None and s.age > average]

    def inner_join(self) -> list[tuple]:
        return [(s.name, self.classes[s.class_id]) for s in self.students if s.class_id is not None]

    def left_join(self) -> list[tuple]:
        return [(s.name, self.classes.get(s.class_id)) for s in self.students]

    def right_join(self) -> list[tuple]:
        rows = [(self.classes[s.class_id], s.name) for s in self.students if s.class_id is not None]
        rows += [(name, None) for class_id, name in self.classes.items() if class_id not in self.class_sizes()]
        return rows


def _name(rng: random.Random, surname: str, length: int) -> str:
    return surname + "".join(rng.choice(GIVEN) for _ in range(length - 1))


def make_school(rng: random.Random | None = None) -> School:
    """A school with every case the queries must handle: 张 and 李 names of both lengths, a name with 张
    inside it, NULL ages, students without a class, a class without students, small and big classes."""
    rng = rng or random.Random()
    while True:
        names = [_name(rng, "张", rng.choice((2, 3))) for _ in range(rng.randint(3, 5))]
        names += [_name(rng, "李", 2) for _ in range(rng.randint(2, 3))]
        names += [_name(rng, "李", 3) for _ in range(rng.randint(1, 3))]
        names += [rng.choice(SURNAMES[2:]) + "张" + rng.choice(GIVEN)]
        names += [_name(rng, rng.choice(SURNAMES[2:]), rng.choice((2, 3))) for _ in range(rng.randint(8, 14))]
        rng.shuffle(names)
        ids = rng.sample(range(1, 500), len(names))
        classes = dict(enumerate(rng.sample(CLASS_NAMES, 5), start=1))
        empty_class = rng.choice(list(classes))
        class_ids = [c for c in classes if c != empty_class]
        students = []
        for position, (student_id, name) in enumerate(zip(ids, names, strict=True)):
            age = None if position < 3 else rng.randint(16, 30)
            class_id = None if position in (1, 4) else rng.choice(class_ids)
            students.append(Student(student_id, name, age, class_id))
        rng.shuffle(students)
        school = School(classes, students)
        sizes = school.class_sizes().values()
        # The average must need rounding (so a missing round() shows) and not sit near a rounding boundary
        # (so MySQL's 4-decimal avg() and the exact average round alike).
        fraction = (school.average_age() * 100) % 1
        margin = Decimal("0.02")
        rounding_is_clear = margin < fraction < 1 - margin and abs(fraction - Decimal("0.5")) > margin
        if any(size >= 3 for size in sizes) and any(size < 3 for size in sizes) and rounding_is_clear:
            return school


def seed(connection, school: School) -> None:
    with connection.cursor() as cursor:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                cursor.execute(statement)
        cursor.executemany("insert into class (id, name) values (%s, %s)", list(school.classes.items()))
        cursor.executemany(
            "insert into student (id, name, age, class_id) values (%s, %s, %s, %s)",
            [s.row for s in school.students],
        )
