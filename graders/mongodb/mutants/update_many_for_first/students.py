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
    db.create_collection(COLLECTION)


def enroll(db: Database, student_id: Any, name: str, age: int) -> Any:
    """Insert one student whose `_id` is `student_id`; return the inserted id."""
    return db[COLLECTION].insert_one({"_id": student_id, "name": name, "age": age}).inserted_id


def enroll_many(db: Database, students: list[dict]) -> list:
    """Insert all `students` (dicts without `_id`) in one call; return the ids MongoDB gave them, in order."""
    return db[COLLECTION].insert_many(students).inserted_ids


# -- task 2: find ------------------------------------------------------------------------------------------------


def all_students(db: Database) -> list[dict]:
    """Every document of the collection, as a list."""
    return list(db[COLLECTION].find())


def find_student(db: Database, name: str) -> dict | None:
    """One student called `name`, or None when there is none."""
    return db[COLLECTION].find_one({"name": name})


def name_of(db: Database, student_id: Any) -> dict | None:
    """Only the name of the student `student_id`, e.g. {"name": "Sam"}: no other field, not even `_id`."""
    # A projection makes the server send only the name; `_id` comes along unless it is excluded by name.
    return db[COLLECTION].find_one({"_id": student_id}, {"name": 1, "_id": 0})


def younger_than(db: Database, age: int) -> list[str]:
    """The names of the students strictly younger than `age`, filtered by the server."""
    return [student["name"] for student in db[COLLECTION].find({"age": {"$lt": age}}, {"name": 1, "_id": 0})]


# -- task 3: update the first match or all matches -------------------------------------------------------------


def fix_age(db: Database, name: str, age: int) -> int:
    """Set `age` on the first student called `name` only, keeping their other fields; return how many changed."""
    return db[COLLECTION].update_many({"name": name}, {"$set": {"age": age}}).modified_count


def move_class(db: Database, old_class: str, new_class: str) -> int:
    """Move every student of `old_class` to `new_class`, keeping their other fields; return how many moved."""
    return db[COLLECTION].update_many({"class": old_class}, {"$set": {"class": new_class}}).modified_count


# -- task 4: replace a whole document ----------------------------------------------------------------------------


def replace_student(db: Database, name: str, document: dict) -> int:
    """Replace the first student called `name` by `document` as a whole (its `_id` stays); return how many."""
    # Without $-operators the new document replaces every field: the outline's update({name:'jack'},{x:'y'}).
    return db[COLLECTION].replace_one({"name": name}, document).modified_count


# -- task 5: delete the first match or all matches ---------------------------------------------------------------


def remove_first(db: Database, name: str) -> int:
    """Delete the first student called `name` only (remove with justOne); return how many were deleted."""
    return db[COLLECTION].delete_one({"name": name}).deleted_count


def remove_all(db: Database, name: str) -> int:
    """Delete every student called `name`; return how many were deleted."""
    return db[COLLECTION].delete_many({"name": name}).deleted_count


# -- task 6: drop the database -------------------------------------------------------------------------------------


def drop_school(db: Database) -> None:
    """Drop the whole database `db`, every collection in it (the outline's db.dropDatabase())."""
    db.client.drop_database(db.name)
