"""The outline's `student` collection from Python: insert, find, update, replace, delete and drop.

Every function receives `db`, a pymongo database (the outline's `db = client['test']`); the collection is
`db["student"]`, or `db.student`.
"""

from typing import Any

from pymongo.database import Database

COLLECTION = "student"

# -- task 1: create and insert -------------------------------------------------------------------------------


def create_student_collection(db: Database) -> None:
    """Create the empty collection `student` (the outline's db.createCollection('student'))."""
    # TODO(task 1): create the collection 'student' with db.create_collection.
    raise NotImplementedError("task 1")


def enroll(db: Database, student_id: Any, name: str, age: int) -> Any:
    """Insert one student whose `_id` is `student_id`; return the inserted id."""
    # TODO(task 1): insert_one a document whose _id is student_id; return its inserted_id.
    raise NotImplementedError("task 1")


def enroll_many(db: Database, students: list[dict]) -> list:
    """Insert all `students` (dicts without `_id`) in one call; return the ids MongoDB gave them, in order."""
    # TODO(task 1): insert_many the whole list in one call; return its inserted_ids.
    raise NotImplementedError("task 1")


# -- task 2: find ------------------------------------------------------------------------------------------------


def all_students(db: Database) -> list[dict]:
    """Every document of the collection, as a list."""
    # TODO(task 2): return every document of the collection as a list (find() gives a cursor).
    raise NotImplementedError("task 2")


def find_student(db: Database, name: str) -> dict | None:
    """One student called `name`, or None when there is none."""
    # TODO(task 2): return one document whose name is `name` (find_one), or None.
    raise NotImplementedError("task 2")


def name_of(db: Database, student_id: Any) -> dict | None:
    """Only the name of the student `student_id`, e.g. {"name": "Sam"}: no other field, not even `_id`."""
    # TODO(task 2): find_one by _id with a projection that keeps only name and leaves out _id.
    raise NotImplementedError("task 2")


def younger_than(db: Database, age: int) -> list[str]:
    """The names of the students strictly younger than `age`, filtered by the server."""
    # TODO(task 2): let the server filter with {'age': {'$lt': age}}; return the names.
    raise NotImplementedError("task 2")


# -- task 3: update the first match or all matches -------------------------------------------------------------


def fix_age(db: Database, name: str, age: int) -> int:
    """Set `age` on the first student called `name` only, keeping their other fields; return how many changed."""
    # TODO(task 3): $set the age on the first matching document only; return modified_count.
    raise NotImplementedError("task 3")


def move_class(db: Database, old_class: str, new_class: str) -> int:
    """Move every student of `old_class` to `new_class`, keeping their other fields; return how many moved."""
    # TODO(task 3): $set the class on every matching document; return modified_count.
    raise NotImplementedError("task 3")


# -- task 4: replace a whole document ----------------------------------------------------------------------------


def replace_student(db: Database, name: str, document: dict) -> int:
    """Replace the first student called `name` by `document` as a whole (its `_id` stays); return how many."""
    # TODO(task 4): replace the first matching document by `document` as a whole; return modified_count.
    raise NotImplementedError("task 4")


# -- task 5: delete the first match or all matches ---------------------------------------------------------------


def remove_first(db: Database, name: str) -> int:
    """Delete the first student called `name` only (remove with justOne); return how many were deleted."""
    # TODO(task 5): delete only the first matching document; return deleted_count.
    raise NotImplementedError("task 5")


def remove_all(db: Database, name: str) -> int:
    """Delete every student called `name`; return how many were deleted."""
    # TODO(task 5): delete every matching document; return deleted_count.
    raise NotImplementedError("task 5")


# -- task 6: drop the database -------------------------------------------------------------------------------------


def drop_school(db: Database) -> None:
    """Drop the whole database `db`, every collection in it (the outline's db.dropDatabase())."""
    # TODO(task 6): drop the whole database, not just one collection.
    raise NotImplementedError("task 6")
