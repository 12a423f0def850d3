"""Grades exercises/mongodb (students.py, client.py): each test gets a fresh database, seeded with data drawn for
this run.

The functions of students.py get a pymongo database built in the worker. The graders read back the stored
documents with a client of their own, and for queries they also look at what the server sent (a command listener
in the worker), so a projection or a filter must be done by the server, as the task asks, not afterwards in Python.
In task 7 the student's connect() builds the client from MONGODB_URL, which points at a relay
(graders/harness/services/relay.py) so that the grader sees which address it used; in task 8 what describe()
returns is compared with what the grader's own client lists.
Only behaviour that MongoDB 7 and the embedded nx-27017 share is relied on: plain CRUD, `$set`, `$lt` on
integers, include/exclude projections; never which of several matches is "first" (natural order is the server's
business), never index names, never mixed-type comparisons. server_info() is asked as `buildInfo`, the one
spelling both answer (probes.ShellClient).
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pymongo
import pymongo.errors
import pytest
from bson import ObjectId
from pymongo.database import Database

from graders.harness.core.student import StudentError
from graders.harness.services import ServiceUnavailable
from graders.harness.services.mongodb import MongoDatabase, mongodb_scratch
from graders.harness.services.relay import relayed
from graders.mongodb import probes

NAMES = ["Sam", "Ann", "Jack", "Lily", "Tom", "Mia", "Leo", "Zoe", "Max", "Eva", "Ben", "Ivy", "Kai", "Amy"]


@pytest.fixture(scope="session")
def grader_client(mongodb_server_url: str) -> Iterator[pymongo.MongoClient]:
    """The grader's own client, shared by the tests: it only seeds databases and reads them back."""
    with pymongo.MongoClient(mongodb_server_url, serverSelectionTimeoutMS=2000, socketTimeoutMS=2000) as client:
        yield client


# A filter for each query operator, on TRIAL_DOCUMENTS, and how many documents MongoDB says it matches.
TRIAL_DOCUMENTS = [{"_id": 101, "k": "x", "n": 5}, {"_id": 102, "k": "x", "n": 6}, {"_id": 103, "k": "y", "n": 7}]
TRIALS = {
    "$in": ({"n": {"$in": [5, 6]}}, 2),
    "$nin": ({"n": {"$nin": [7]}}, 2),
    "$regex": ({"k": {"$regex": "^x"}}, 2),
    "$eq": ({"n": {"$eq": 5}}, 1),
    "$ne": ({"n": {"$ne": 7}}, 2),
    "$gt": ({"n": {"$gt": 5}}, 2),
    "$gte": ({"n": {"$gte": 6}}, 2),
    "$lt": ({"n": {"$lt": 7}}, 2),
    "$lte": ({"n": {"$lte": 6}}, 2),
    "$exists": ({"n": {"$exists": True}}, 3),
    "$or": ({"$or": [{"n": 5}, {"n": 6}]}, 2),
    "$and": ({"$and": [{"n": {"$gt": 4}}, {"k": "x"}]}, 2),
    "$nor": ({"$nor": [{"n": 7}]}, 2),
    "$not": ({"n": {"$not": {"$gt": 6}}}, 2),
}


class ServerTrials:
    """Which query operators this server gets wrong in updates and deletes, tried on a database of the grader's
    own when a student's update or delete that used them failed (and remembered for the session).

    nx-27017 0.8.1, the embedded server, reports the documents that `$in`, `$nin` or `$regex` match in
    update_many/delete_many (and the _one forms) but changes none of them when the `_id`s are integers such as
    101, and has no `$not`; MongoDB 7 gets all of them right. A student who used one of them cannot be judged
    there: it is the server's fault, not theirs."""

    def __init__(self, client: pymongo.MongoClient, url: str) -> None:
        self.client, self.url = client, url
        self.verdicts: dict[str, bool] = {}

    def wrong(self, operators: set[str]) -> list[str]:
        for operator in sorted(operators & set(TRIALS) - set(self.verdicts)):
            self.verdicts[operator] = not self._right(operator)
        return sorted(operator for operator in operators if self.verdicts.get(operator))

    def _right(self, operator: str) -> bool:
        query, hits = TRIALS[operator]
        with mongodb_scratch(self.url) as scratch:
            trial = self.client[scratch.name].trial
            try:
                trial.insert_many([dict(document) for document in TRIAL_DOCUMENTS])
                trial.update_many(query, {"$set": {"v": 1}})
                updated = trial.count_documents({"v": 1})
                trial.delete_many(query)
                deleted = len(TRIAL_DOCUMENTS) - trial.count_documents({})
            except pymongo.errors.OperationFailure:
                return False
        return updated == deleted == hits


@pytest.fixture(scope="session")
def server_trials(grader_client: pymongo.MongoClient, mongodb_server_url: str) -> ServerTrials:
    return ServerTrials(grader_client, mongodb_server_url)


@contextlib.contextmanager
def judged_unless_the_server_errs(trials: ServerTrials, used: set[str]) -> Iterator[None]:
    """A failure of the student's updates or deletes stands, unless they used an operator this server gets
    wrong (`used` collects them while the block runs): then nobody can tell, and it is an infrastructure error."""
    try:
        yield
    except (AssertionError, StudentError):
        wrong = trials.wrong(used)
        if not wrong:
            raise
        raise ServiceUnavailable(
            f"your update or delete uses {' and '.join(wrong)}, which this MongoDB server gets wrong: the checks "
            "tried it there in an update and a delete of their own, and it changed the wrong documents or was "
            "refused (the embedded nx-27017 does so for $in, $nin, $regex and $not; MongoDB 7 does not). So these "
            "checks cannot judge your code here. "
            "Check it on MongoDB 7: start it with `docker compose up -d --wait mongodb`, or set "
            "MONGODB_URL=mongodb://host:port"
        ) from None


@pytest.fixture
def db(grader_client: pymongo.MongoClient, mongodb_database: MongoDatabase) -> Database:
    """The test's database as the grader sees it, to seed it and to read what the student's code stored."""
    return grader_client[mongodb_database.name]


def names(count: int) -> list[str]:
    """`count` different names, with a suffix of this run so that none can be hard-coded."""
    suffix = secrets.token_hex(2)
    return [f"{name}-{suffix}" for name in random.sample(NAMES, count)]


def students(given: list[str], classes: list[str]) -> list[dict]:
    """Documents with integer `_id`s, one per name in `given` (names may repeat), in the given classes."""
    ids = random.sample(range(100, 1000), len(given))
    ages = random.sample(range(12, 30), len(given))
    return [
        {"_id": i, "name": name, "age": age, "sex": random.randint(0, 1), "class": room}
        for i, name, age, room in zip(ids, given, ages, classes, strict=True)
    ]


def seed(db: Database, documents: list[dict]) -> None:
    db.student.insert_many([dict(document) for document in documents])


def stored(db: Database) -> dict:
    """The collection `student` as {_id: document}."""
    return {document["_id"]: document for document in db.student.find()}


def server_sent(commands: list[dict]) -> list[dict]:
    """Every document the server sent back to find/getMore commands."""
    return [document for command in commands if command["name"] in {"find", "getMore"} for document in command["sent"]]


def run(student, database: MongoDatabase, function: str, *args, watch: bool = False):
    return student.run(probes.call, database.url, database.name, function, *args, watch=watch)


def run_writing(student, database: MongoDatabase, used: set[str], function: str, *args):
    """Run a function that updates or deletes; add the operators its writes used to `used`; what it returned."""
    seen = student.run(probes.call, database.url, database.name, function, *args, watch=True)
    used.update(operator for command in seen["commands"] for operator in command["operators"])
    if "raised" in seen:
        raise StudentError(f"{function}({', '.join(map(repr, args))}) raised {seen['raised']}")
    return seen["result"]


def as_sent(value: object) -> object:
    """An id as the probes send it: an ObjectId becomes {"$oid": hex}."""
    return {"$oid": str(value)} if isinstance(value, ObjectId) else value


# -- task 1: create and insert -----------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_the_collection_is_created_and_students_keep_the_ids_given(student, mongodb_database, db):
    run(student, mongodb_database, "create_student_collection")
    collections = db.list_collection_names()
    count = db.student.count_documents({}) if "student" in collections else None
    assert collections == ["student"] and count == 0, (
        f"create_student_collection should create the empty collection 'student'; the database has the "
        f"collections {collections}" + ("" if count in (0, None) else f" and 'student' holds {count} documents")
    )

    sid, (name, *batch_names) = random.randint(100, 999), names(4)
    age = random.randint(12, 30)
    returned = run(student, mongodb_database, "enroll", sid, name, age)
    documents = list(stored(db).values())
    expected = {"_id": sid, "name": name, "age": age}
    assert documents == [expected], (
        f"enroll({sid}, {name!r}, {age}) should store {expected}: the student's id is the document's _id, "
        f"not a field of another name; the collection holds {documents}"
    )
    assert returned == sid, f"enroll should return the inserted id, {sid}, not {returned!r}"

    batch = [{"name": other, "age": random.randint(12, 30)} for other in batch_names]
    seen = run(student, mongodb_database, "enroll_many", batch, watch=True)
    by_name = {document["name"]: document for document in stored(db).values()}
    found = [{key: value for key, value in by_name.get(b["name"], {}).items() if key != "_id"} for b in batch]
    assert found == batch, f"enroll_many({batch}) should store those 3 documents; found {found}"
    ids = [as_sent(by_name[b["name"]]["_id"]) for b in batch]
    assert seen["result"] == ids, (
        f"enroll_many should return the _ids MongoDB gave the documents, in order: {ids}; got {seen['result']!r}"
    )
    inserts = [command["name"] for command in seen["commands"] if command["name"] == "insert"]
    assert len(inserts) == 1, (
        f"enroll_many sent {len(inserts)} insert commands: insert_many stores the whole list in one round trip"
    )


# -- task 2: find --------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_find_returns_documents_a_projection_and_a_lt_filter_done_by_the_server(student, mongodb_database, db):
    twin, *others = names(6)
    documents = students([twin, twin, *others], ["1A"] * 7)
    seed(db, documents)

    everyone = run(student, mongodb_database, "all_students")
    if not isinstance(everyone, list):
        pytest.fail(f"all_students should return a list of documents, not {type(everyone).__name__}", False)
    assert sorted(everyone, key=lambda d: d.get("_id", 0)) == sorted(documents, key=lambda d: d["_id"]), (
        f"all_students should return all {len(documents)} documents (find()); got {everyone}"
    )

    one = run(student, mongodb_database, "find_student", twin)
    none = run(student, mongodb_database, "find_student", "Nobody")
    twins = [d for d in documents if d["name"] == twin]
    assert one in twins and none is None, (
        f"find_student({twin!r}) should return one document (find_one), one of {twins}, and find_student('Nobody') "
        f"None; got {one!r} and {none!r}"
    )

    target = random.choice(documents[2:])
    seen = run(student, mongodb_database, "name_of", target["_id"], watch=True)
    wanted = {"name": target["name"]}
    assert seen["result"] == wanted, (
        f"name_of({target['_id']}) should return only {wanted}, not even _id: the projection must exclude it "
        f"by name, {{'name': 1, '_id': 0}}; got {seen['result']!r}"
    )
    sent = server_sent(seen["commands"])
    assert sent == [wanted], (
        f"for name_of({target['_id']}) the server sent back {sent}; your code removed fields afterwards. Give "
        "find_one a projection, {'name': 1, '_id': 0}, so that the server sends only the name"
    )

    limit = sorted(d["age"] for d in documents)[3]
    young = sorted(d["name"] for d in documents if d["age"] < limit)
    seen = run(student, mongodb_database, "younger_than", limit, watch=True)
    got = seen["result"]
    assert isinstance(got, list) and sorted(got) == young, (
        f"younger_than({limit}) should list the {len(young)} students strictly younger than {limit} ($lt, so not "
        f"the one aged {limit}): {young}; got {got!r}"
    )
    sent = server_sent(seen["commands"])
    assert len(sent) <= len(young), (
        f"younger_than({limit}) made the server send {len(sent)} documents to keep {len(young)}: filter on the "
        f"server, find({{'age': {{'$lt': {limit}}}}}), instead of in Python"
    )


# -- task 3: update the first match or all --------------------------------------------------------------------------


@pytest.mark.task(3)
def test_fix_age_changes_one_match_and_move_class_changes_all(student, mongodb_database, db, server_trials):
    used: set[str] = set()
    with judged_unless_the_server_errs(server_trials, used):
        check_fix_age_and_move_class(student, mongodb_database, db, used)


def check_fix_age_and_move_class(student, mongodb_database, db, used: set[str]) -> None:
    twin, *others = names(4)
    documents = students([twin, twin, twin, *others], ["1A", "2B", "1A", "1A", "2B", "2B"])
    seed(db, documents)
    before = {d["_id"]: d for d in documents}

    new_age = 40 + random.randint(0, 20)
    changed_count = run_writing(student, mongodb_database, used, "fix_age", twin, new_age)
    after = stored(db)
    changed = [i for i in before if after.get(i) != before[i]]
    assert len(changed) <= 1, (
        f"fix_age({twin!r}, {new_age}) should change only the first student called {twin!r} (update_one), "
        f"like the outline's update without multi; {len(changed)} documents changed"
    )
    assert len(changed) == 1 and after[changed[0]] == {**before[changed[0]], "age": new_age}, (
        f"fix_age({twin!r}, {new_age}) should set age {new_age} on one of the 3 students called {twin!r} and keep "
        "their other fields ($set); "
        + (f"that student is now {after.get(changed[0])}" if changed else "no document changed")
    )
    assert changed_count == 1, f"fix_age should return how many documents it changed, 1, not {changed_count!r}"
    same = documents[3]
    unchanged = run_writing(student, mongodb_database, used, "fix_age", same["name"], same["age"])
    assert unchanged == 0, (
        f"fix_age({same['name']!r}, {same['age']}) found {same['name']!r}, who is {same['age']} already, so it "
        f"changed nothing and should return 0, not {unchanged!r}: return modified_count (how many changed), not "
        "matched_count (how many matched)"
    )
    before = stored(db)

    moved = run_writing(student, mongodb_database, used, "move_class", "1A", "3C")
    after = stored(db)
    expected = {i: ({**d, "class": "3C"} if d["class"] == "1A" else d) for i, d in before.items()}
    wrong = {i: after.get(i) for i in expected if after.get(i) != expected[i]}
    assert not wrong, (
        f"move_class('1A', '3C') should set class '3C' on all 3 students of 1A (update_many) and change "
        f"nothing else; these documents are not as expected: {wrong}"
    )
    assert moved == 3, f"move_class should return how many students it moved, 3, not {moved!r}"
    stayed = run_writing(student, mongodb_database, used, "move_class", "2B", "2B")
    assert stayed == 0, (
        f"move_class('2B', '2B') matched the 3 students of 2B but moved none of them, so it should return 0, not "
        f"{stayed!r}: return modified_count (how many changed), not matched_count (how many matched)"
    )


# -- task 4: replace a whole document --------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_replace_student_replaces_the_whole_document_and_keeps_the_id(student, mongodb_database, db, server_trials):
    used: set[str] = set()
    with judged_unless_the_server_errs(server_trials, used):
        check_replace_student(student, mongodb_database, db, used)


def check_replace_student(student, mongodb_database, db, used: set[str]) -> None:
    jack, *others = names(4)
    documents = students([jack, *others], ["1A", "1A", "2B", "2B"])
    seed(db, documents)
    replacement = {"x": "y", "note": f"moved away {secrets.token_hex(2)}"}

    count = run_writing(student, mongodb_database, used, "replace_student", jack, replacement)
    after = stored(db)
    old = documents[0]
    now = after.get(old["_id"])
    assert now is not None, (
        f"after replace_student({jack!r}, ...) there is no document with _id {old['_id']} any more: a "
        "replacement keeps the document's _id"
    )
    left_over = sorted(set(now) - set(replacement) - {"_id"})
    assert not left_over, (
        f"the replaced document still has the old fields {left_over}: {now}. replace_student should replace the "
        f"whole document, like the outline's update({{name:'jack'}},{{x:'y'}}): replace_one, not $set"
    )
    assert now == {"_id": old["_id"], **replacement}, (
        f"the document with _id {old['_id']} should now be { ({'_id': old['_id'], **replacement}) }, not {now}"
    )
    untouched = {d["_id"]: d for d in documents[1:]}
    assert {i: after.get(i) for i in untouched} == untouched, "replace_student changed other students too"
    assert count == 1, f"replace_student should return how many documents it replaced, 1, not {count!r}"


# -- task 5: delete the first match or all ----------------------------------------------------------------------------


@pytest.mark.task(5)
def test_remove_first_deletes_one_match_and_remove_all_every_match(student, mongodb_database, db, server_trials):
    used: set[str] = set()
    with judged_unless_the_server_errs(server_trials, used):
        check_remove_first_and_all(student, mongodb_database, db, used)


def check_remove_first_and_all(student, mongodb_database, db, used: set[str]) -> None:
    twin, *others = names(4)
    documents = students([twin, twin, twin, *others], ["1A"] * 6)
    seed(db, documents)
    others_stored = {d["_id"]: d for d in documents[3:]}

    count = run_writing(student, mongodb_database, used, "remove_first", twin)
    after = stored(db)
    twins_left = [d for d in after.values() if d["name"] == twin]
    assert len(twins_left) == 2, (
        f"remove_first({twin!r}) should delete only the first of the 3 students called {twin!r} (delete_one, the "
        f"outline's remove with justOne); {3 - len(twins_left)} were deleted"
    )
    assert count == 1, f"remove_first should return how many it deleted, 1, not {count!r}"

    counts = [run_writing(student, mongodb_database, used, "remove_all", who) for who in (twin, "Nobody")]
    after = stored(db)
    assert not [d for d in after.values() if d["name"] == twin] and counts == [2, 0], (
        f"remove_all({twin!r}) should delete both students left with that name (delete_many) and return 2, and "
        f"remove_all('Nobody') return 0; it returned {counts} and left {len(after) - len(others_stored)} of them"
    )
    assert after == others_stored, (
        f"deleting the students called {twin!r} must leave the others alone: expected {others_stored}, found {after}"
    )


# -- task 6: drop the database ----------------------------------------------------------------------------------------


@pytest.mark.task(6)
def test_drop_school_drops_the_whole_database_and_nothing_else(student, mongodb_database, db):
    documents = students(names(2), ["1A", "2B"])
    seed(db, documents)
    db.teacher.insert_one({"name": "Ms Li", "subject": "databases"})
    with mongodb_scratch(mongodb_database.url) as neighbour:
        other = db.client[neighbour.name]
        other.student.insert_one({"name": "not yours"})

        run(student, mongodb_database, "drop_school")
        # Databases first: nx-27017 (not MongoDB) lists a dropped database again once anything has read it.
        listed = mongodb_database.name in db.client.list_database_names()
        left = sorted(db.list_collection_names())
        assert not left and not listed, (
            f"drop_school should drop the whole database {mongodb_database.name!r} (the outline's "
            f"db.dropDatabase()); it still has the collections {left}"
        )
        kept = other.student.count_documents({})
        assert kept == 1, "drop_school must drop only its own database; another database lost its documents"


# -- task 7: open the client yourself ------------------------------------------------------------------------------


def public(url: str) -> str:
    """A service URL as messages show it: scheme, host, port and path, never a password."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


@pytest.mark.task(7)
def test_connect_opens_a_client_from_mongodb_url_and_returns_the_named_database(student, mongodb_database, db):
    (name,) = names(1)
    note = f"stored by the grader {secrets.token_hex(3)}"
    document = {"_id": random.randint(10_000, 99_999), "name": name, "note": note}
    db.student.insert_one(dict(document))
    with relayed(mongodb_database.url, 27017) as (given, relay):
        # A client on an address where nobody answers waits for a server (8 s, probes.WAIT_FOR_A_SERVER).
        seen = student.run(probes.connect_and_read, given, mongodb_database.name, "student", document["_id"],
                           timeout=30)
        came = relay.connections if relay else None
    shown_url = public(given)
    assert came != 0, (
        f"MONGODB_URL was {shown_url}, but your client never connected to that host and port: it went to another "
        "address, e.g. the outline's pymongo.MongoClient('127.0.0.1', 27017) written into the code. A program "
        "gets its server from its environment: pymongo.MongoClient(os.environ['MONGODB_URL'])"
        + (f". There it found no server: {seen['unreachable']}" if "unreachable" in seen else "")
    )
    assert "unreachable" not in seen, (
        f"MONGODB_URL was {shown_url}; your client connected there, but then lost the server: {seen['unreachable']}"
    )
    wanted = mongodb_database.name
    assert seen["found"] == document, (
        f"connect({wanted!r}) should return the database {wanted!r}, in which the grader stored {document} in the "
        f"collection student; through the database your connect() returned, named {seen['name']!r}, find_one "
        f"found {seen['found']!r}. Return client[name] with the name you are given"
        + ("; client['test'] is only the outline's example" if seen["name"] == "test" else "")
    )


# -- task 8: show dbs, show collections, db.version() --------------------------------------------------------------


@pytest.mark.task(8)
def test_describe_shows_the_databases_the_collections_and_the_version(student, mongodb_database, db, grader_client):
    run = secrets.token_hex(3)
    collections = sorted(["student", "teacher", f"room_{run}"])
    for collection in collections:
        db[collection].insert_one({"made_by": "the grader", "run": run})
    with mongodb_scratch(mongodb_database.url) as neighbour:
        grader_client[neighbour.name][f"other_{run}"].insert_one({"made_by": "the grader"})
        before = set(grader_client.list_database_names())
        got = student.run(probes.describe, mongodb_database.url, mongodb_database.name)
        after = set(grader_client.list_database_names())
    version = grader_client.admin.command("buildInfo")["version"]
    mine, other = mongodb_database.name, neighbour.name

    fields = {"databases", "collections", "version"}
    assert isinstance(got, dict) and fields <= set(got), (
        f"describe(client, {mine!r}) should return a dict with the keys {sorted(fields)}; got {got!r}"
    )
    databases = got["databases"]
    assert isinstance(databases, list) and all(isinstance(item, str) for item in databases), (
        f"'databases' should be a list of the databases' names, like show dbs; got {str(databases)[:300]}"
        + (
            ": list_databases() gives a document per database, list_database_names() only the names"
            if isinstance(databases, list) and any(isinstance(item, dict) for item in databases)
            else ""
        )
    )
    # Other grading runs make and drop their scratch databases (course_...) meanwhile: those may come and go.
    steady = {database for database in before & after if not database.startswith("course_")}
    missing = sorted((steady | {mine, other}) - set(databases))
    unknown = sorted(set(databases) - before - after - {d for d in databases if d.startswith("course_")})
    assert not missing and not unknown, (
        "'databases' should list every database on the server, like show dbs (client.list_database_names())"
        + (f"; {missing} are missing" if missing else "")
        + (f"; {unknown} are no databases of this server" if unknown else "")
    )

    listed = got["collections"]
    assert isinstance(listed, list) and sorted(map(str, listed)) == collections, (
        f"'collections' should be the collections of the database {mine!r}, like use {mine} and then show "
        f"collections (client[name].list_collection_names()): {collections}; got {listed!r}"
        + ("; those are not the collections of the database asked for" if isinstance(listed, list) else "")
    )

    shown = got["version"]
    assert shown == version, (
        f"'version' should be the version the server reports, like db.version() (client.server_info()"
        f"['version']): {version!r}; got {shown!r}"
        + (
            ": that is the version of pymongo, the driver in your Python, not of the server"
            if shown == pymongo.version
            else ""
        )
    )
