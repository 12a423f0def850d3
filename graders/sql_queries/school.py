"""A school made up afresh for every test, and the answers each query must give on it.

The answers are computed here in Python, independently of SQL, so a hard-coded result from another run
fails, and so does a query that happens to work only on some data: every school has NULL ages, three
students in no class (a NULL group as big as a class that counts), an empty class, a class of exactly 3,
and rows stored in an order that is neither the ids' order nor its reverse.

`student` is a MyISAM table: InnoDB stores rows in primary-key order, so there a query without `order by`
returns them sorted by id anyway and a missing `order by id` would pass; MyISAM returns them in the order
they were inserted, which `make_school` makes differ from the asked order. Both MySQL 8.4 and MariaDB have it.
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
) engine = MyISAM;
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

    def unplaced(self) -> int:
        return sum(1 for s in self.students if s.class_id is None)

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


def _sizes(rng: random.Random, placed: int, classes: int) -> list[int]:
    """Class sizes that add up to `placed`: one of exactly 3 (so `> 3` for `>= 3` shows), one bigger and
    one smaller, the rest at random."""
    sizes = [3, rng.randint(4, 6), rng.randint(1, 2)]
    rest = placed - sum(sizes)
    for _ in range(classes - len(sizes) - 1):
        share = rng.randint(1, rest - 1)
        sizes.append(share)
        rest -= share
    sizes.append(rest)
    rng.shuffle(sizes)
    return sizes


def make_school(rng: random.Random | None = None, *, average_is_an_age: bool = False) -> School:
    """A school with every case the queries must handle (see the module's docstring).

    The average age needs rounding (so a missing round() shows) and sits away from a rounding boundary (so
    MySQL's 4-decimal avg() and the exact average round alike); with `average_is_an_age` it is instead a
    whole number that some student's age equals, so `>=` where `>` is asked shows.
    """
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
        unplaced = (1, 4, 5)  # three students in no class, one of them (1) also without an age
        sizes = _sizes(rng, len(names) - len(unplaced), len(class_ids))
        placements = [c for c, size in zip(class_ids, sizes, strict=True) for _ in range(size)]
        rng.shuffle(placements)
        students = []
        for position, (student_id, name) in enumerate(zip(ids, names, strict=True)):
            age = None if position < 3 else rng.randint(16, 30)
            class_id = None if position in unplaced else placements.pop()
            students.append(Student(student_id, name, age, class_id))
        if average_is_an_age:
            students = _average_is_an_age(students)
            if students is None:
                continue
        rng.shuffle(students)
        school = School(classes, students)
        if students[:3] == sorted(students, key=lambda s: s.id)[:3]:
            continue
        if school.by_id(descending=True)[3:5] == [s.row for s in students[3:5]]:
            continue
        if average_is_an_age:
            return school
        fraction = (school.average_age() * 100) % 1
        margin = Decimal("0.02")
        if margin < fraction < 1 - margin and abs(fraction - Decimal("0.5")) > margin:
            return school


def _average_is_an_age(students: list[Student]) -> list[Student] | None:
    """The same students with two ages moved so that the average is a whole number that one of them has,
    or None when that would need an unlikely age."""
    aged = [s for s in students if s.age is not None]
    first, second, rest = aged[0], aged[1], aged[2:]
    average = round(sum(s.age for s in rest) / len(rest))
    balance = average * len(aged) - average - sum(s.age for s in rest)
    if not 14 <= balance <= 40:
        return None
    moved = {first.id: balance, second.id: average}
    return [Student(s.id, s.name, moved[s.id], s.class_id) if s.id in moved else s for s in students]


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
