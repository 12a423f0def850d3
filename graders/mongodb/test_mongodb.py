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

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.services import ServiceUnavailable
from graders.harness.services.mongodb import MongoDatabase, mongo_client, mongodb_scratch
from graders.harness.services.relay import relayed
from graders.mongodb import probes

NAMES = ["Sam", "Ann", "Jack", "Lily", "Tom", "Mia", "Leo", "Zoe", "Max", "Eva", "Ben", "Ivy", "Kai", "Amy"]


@pytest.fixture(scope="session")
def grader_client(mongodb_server_url: str) -> Iterator[pymongo.MongoClient]:
    """The grader's own client, shared by the tests: it only seeds databases and reads them back."""
    with mongo_client(mongodb_server_url, 2, socketTimeoutMS=2000) as client:
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
            say(
                f"your update or delete uses {' and '.join(wrong)}, which this MongoDB server gets wrong: the checks "
                "tried it there in an update and a delete of their own, and it changed the wrong documents or was "
                "refused (the embedded nx-27017 does so for $in, $nin, $regex and $not; MongoDB 7 does not). So these "
                "checks cannot judge your code here. "
                "Check it on MongoDB 7: start it with `docker compose up -d --wait mongodb`, or set "
                "MONGODB_URL=mongodb://host:port",
                f"你的更新或删除用到了 {' 和 '.join(wrong)}，而这台 MongoDB 服务器处理不对：检查程序在服务器上"
                "用自己的一次更新和一次删除试过它，结果改错了文档或被拒绝（内置的 nx-27017 对 $in、$nin、"
                "$regex 和 $not 都是这样，MongoDB 7 不会）。所以这些检查在这里无法评判你的代码。"
                "请在 MongoDB 7 上检查：用 `docker compose up -d --wait mongodb` 启动它，或者设置 "
                "MONGODB_URL=mongodb://host:port",
            )
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
        called = f"{function}({', '.join(map(repr, args))})"
        raise StudentError(say(f"{called} raised {seen['raised']}", f"{called} 抛出了 {seen['raised']}"))
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
    assert collections == ["student"] and count == 0, say(
        f"create_student_collection should create the empty collection 'student'; the database has the "
        f"collections {collections}",
        f"create_student_collection 应当创建空集合 'student'；数据库里的集合是 {collections}",
    ) + (
        ""
        if count in (0, None)
        else say(f" and 'student' holds {count} documents", f"，而且 'student' 里有 {count} 个文档")
    )

    sid, (name, *batch_names) = random.randint(100, 999), names(4)
    age = random.randint(12, 30)
    returned = run(student, mongodb_database, "enroll", sid, name, age)
    documents = list(stored(db).values())
    expected = {"_id": sid, "name": name, "age": age}
    assert documents == [expected], say(
        f"enroll({sid}, {name!r}, {age}) should store {expected}: the student's id is the document's _id, "
        f"not a field of another name; the collection holds {documents}",
        f"enroll({sid}, {name!r}, {age}) 应当保存 {expected}：学生的 id 就是文档的 _id，而不是另一个名字的字段；"
        f"集合里现在是 {documents}",
    )
    assert returned == sid, say(
        f"enroll should return the inserted id, {sid}, not {returned!r}",
        f"enroll 应当返回插入的 id，即 {sid}，而不是 {returned!r}",
    )

    batch = [{"name": other, "age": random.randint(12, 30)} for other in batch_names]
    seen = run(student, mongodb_database, "enroll_many", batch, watch=True)
    by_name = {document["name"]: document for document in stored(db).values()}
    found = [{key: value for key, value in by_name.get(b["name"], {}).items() if key != "_id"} for b in batch]
    assert found == batch, say(
        f"enroll_many({batch}) should store those 3 documents; found {found}",
        f"enroll_many({batch}) 应当保存这 3 个文档；实际找到的是 {found}",
    )
    ids = [as_sent(by_name[b["name"]]["_id"]) for b in batch]
    assert seen["result"] == ids, say(
        f"enroll_many should return the _ids MongoDB gave the documents, in order: {ids}; got {seen['result']!r}",
        f"enroll_many 应当按顺序返回 MongoDB 为这些文档生成的 _id：{ids}；实际返回的是 {seen['result']!r}",
    )
    inserts = [command["name"] for command in seen["commands"] if command["name"] == "insert"]
    assert len(inserts) == 1, say(
        f"enroll_many sent {len(inserts)} insert commands: insert_many stores the whole list in one round trip",
        f"enroll_many 发送了 {len(inserts)} 条 insert 命令：insert_many 一次往返就能保存整个列表",
    )


# -- task 2: find --------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_find_returns_documents_a_projection_and_a_lt_filter_done_by_the_server(student, mongodb_database, db):
    twin, *others = names(6)
    documents = students([twin, twin, *others], ["1A"] * 7)
    seed(db, documents)

    everyone = run(student, mongodb_database, "all_students")
    if not isinstance(everyone, list):
        kind = type(everyone).__name__
        pytest.fail(
            say(
                f"all_students should return a list of documents, not {kind}",
                f"all_students 应当返回由文档组成的列表，而不是 {kind}",
            ),
            False,
        )
    assert sorted(everyone, key=lambda d: d.get("_id", 0)) == sorted(documents, key=lambda d: d["_id"]), say(
        f"all_students should return all {len(documents)} documents (find()); got {everyone}",
        f"all_students 应当返回全部 {len(documents)} 个文档（find()）；实际返回的是 {everyone}",
    )

    one = run(student, mongodb_database, "find_student", twin)
    none = run(student, mongodb_database, "find_student", "Nobody")
    twins = [d for d in documents if d["name"] == twin]
    assert one in twins and none is None, say(
        f"find_student({twin!r}) should return one document (find_one), one of {twins}, and find_student('Nobody') "
        f"None; got {one!r} and {none!r}",
        f"find_student({twin!r}) 应当返回一个文档（find_one），即 {twins} 中的一个；find_student('Nobody') "
        f"应当返回 None；实际分别返回 {one!r} 和 {none!r}",
    )

    target = random.choice(documents[2:])
    seen = run(student, mongodb_database, "name_of", target["_id"], watch=True)
    wanted = {"name": target["name"]}
    assert seen["result"] == wanted, say(
        f"name_of({target['_id']}) should return only {wanted}, not even _id: the projection must exclude it "
        f"by name, {{'name': 1, '_id': 0}}; got {seen['result']!r}",
        f"name_of({target['_id']}) 应当只返回 {wanted}，连 _id 也不要：投影必须明确写出排除它，"
        f"{{'name': 1, '_id': 0}}；实际返回的是 {seen['result']!r}",
    )
    sent = server_sent(seen["commands"])
    assert sent == [wanted], say(
        f"for name_of({target['_id']}) the server sent back {sent}; your code removed fields afterwards. Give "
        "find_one a projection, {'name': 1, '_id': 0}, so that the server sends only the name",
        f"对于 name_of({target['_id']})，服务器发回的是 {sent}；你的代码是事后才去掉多余字段的。请给 find_one "
        "一个投影 {'name': 1, '_id': 0}，让服务器只发回名字",
    )

    limit = sorted(d["age"] for d in documents)[3]
    young = sorted(d["name"] for d in documents if d["age"] < limit)
    seen = run(student, mongodb_database, "younger_than", limit, watch=True)
    got = seen["result"]
    assert isinstance(got, list) and sorted(got) == young, say(
        f"younger_than({limit}) should list the {len(young)} students strictly younger than {limit} ($lt, so not "
        f"the one aged {limit}): {young}; got {got!r}",
        f"younger_than({limit}) 应当列出年龄严格小于 {limit} 的 {len(young)} 个学生（$lt，所以不包括 {limit} 岁的"
        f"那个）：{young}；实际返回的是 {got!r}",
    )
    sent = server_sent(seen["commands"])
    assert len(sent) <= len(young), say(
        f"younger_than({limit}) made the server send {len(sent)} documents to keep {len(young)}: filter on the "
        f"server, find({{'age': {{'$lt': {limit}}}}}), instead of in Python",
        f"younger_than({limit}) 让服务器发回了 {len(sent)} 个文档，最后只留下 {len(young)} 个：请在服务器上筛选，"
        f"find({{'age': {{'$lt': {limit}}}}})，而不是在 Python 里筛",
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
    assert len(changed) <= 1, say(
        f"fix_age({twin!r}, {new_age}) should change only the first student called {twin!r} (update_one), "
        f"like the outline's update without multi; {len(changed)} documents changed",
        f"fix_age({twin!r}, {new_age}) 应当只修改第一个名叫 {twin!r} 的学生（update_one），就像大纲里不带 multi 的 "
        f"update；实际修改了 {len(changed)} 个文档",
    )
    assert len(changed) == 1 and after[changed[0]] == {**before[changed[0]], "age": new_age}, say(
        f"fix_age({twin!r}, {new_age}) should set age {new_age} on one of the 3 students called {twin!r} and keep "
        "their other fields ($set); ",
        f"fix_age({twin!r}, {new_age}) 应当把名叫 {twin!r} 的 3 个学生之一的 age 设为 {new_age}，并保留其他字段"
        "（$set）；",
    ) + (
        say(f"that student is now {after.get(changed[0])}", f"这个学生现在是 {after.get(changed[0])}")
        if changed
        else say("no document changed", "没有文档被修改")
    )
    assert changed_count == 1, say(
        f"fix_age should return how many documents it changed, 1, not {changed_count!r}",
        f"fix_age 应当返回它修改了几个文档，即 1，而不是 {changed_count!r}",
    )
    same = documents[3]
    unchanged = run_writing(student, mongodb_database, used, "fix_age", same["name"], same["age"])
    assert unchanged == 0, say(
        f"fix_age({same['name']!r}, {same['age']}) found {same['name']!r}, who is {same['age']} already, so it "
        f"changed nothing and should return 0, not {unchanged!r}: return modified_count (how many changed), not "
        "matched_count (how many matched)",
        f"fix_age({same['name']!r}, {same['age']}) 找到的 {same['name']!r} 已经是 {same['age']} 岁，所以什么都没有"
        f"修改，应当返回 0，而不是 {unchanged!r}：请返回 modified_count（修改了几个），"
        "而不是 matched_count（匹配了几个）",
    )
    before = stored(db)

    moved = run_writing(student, mongodb_database, used, "move_class", "1A", "3C")
    after = stored(db)
    expected = {i: ({**d, "class": "3C"} if d["class"] == "1A" else d) for i, d in before.items()}
    wrong = {i: after.get(i) for i in expected if after.get(i) != expected[i]}
    assert not wrong, say(
        f"move_class('1A', '3C') should set class '3C' on all 3 students of 1A (update_many) and change "
        f"nothing else; these documents are not as expected: {wrong}",
        f"move_class('1A', '3C') 应当把 1A 全部 3 个学生的 class 设为 '3C'（update_many），其他什么都不改；"
        f"这些文档与预期不符：{wrong}",
    )
    assert moved == 3, say(
        f"move_class should return how many students it moved, 3, not {moved!r}",
        f"move_class 应当返回转走了几个学生，即 3，而不是 {moved!r}",
    )
    stayed = run_writing(student, mongodb_database, used, "move_class", "2B", "2B")
    assert stayed == 0, say(
        f"move_class('2B', '2B') matched the 3 students of 2B but moved none of them, so it should return 0, not "
        f"{stayed!r}: return modified_count (how many changed), not matched_count (how many matched)",
        f"move_class('2B', '2B') 匹配到了 2B 的 3 个学生，但一个也没有转走，所以应当返回 0，而不是 {stayed!r}："
        "请返回 modified_count（修改了几个），而不是 matched_count（匹配了几个）",
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
    assert now is not None, say(
        f"after replace_student({jack!r}, ...) there is no document with _id {old['_id']} any more: a "
        "replacement keeps the document's _id",
        f"replace_student({jack!r}, ...) 之后，_id 为 {old['_id']} 的文档不见了：替换会保留文档的 _id",
    )
    left_over = sorted(set(now) - set(replacement) - {"_id"})
    assert not left_over, say(
        f"the replaced document still has the old fields {left_over}: {now}. replace_student should replace the "
        f"whole document, like the outline's update({{name:'jack'}},{{x:'y'}}): replace_one, not $set",
        f"替换后的文档仍然有旧字段 {left_over}：{now}。replace_student 应当替换整个文档，就像大纲里的 "
        f"update({{name:'jack'}},{{x:'y'}})：用 replace_one，而不是 $set",
    )
    replaced = {"_id": old["_id"], **replacement}
    assert now == replaced, say(
        f"the document with _id {old['_id']} should now be {replaced}, not {now}",
        f"_id 为 {old['_id']} 的文档现在应当是 {replaced}，而不是 {now}",
    )
    untouched = {d["_id"]: d for d in documents[1:]}
    assert {i: after.get(i) for i in untouched} == untouched, say(
        "replace_student changed other students too", "replace_student 把其他学生也改了"
    )
    assert count == 1, say(
        f"replace_student should return how many documents it replaced, 1, not {count!r}",
        f"replace_student 应当返回它替换了几个文档，即 1，而不是 {count!r}",
    )


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
    assert len(twins_left) == 2, say(
        f"remove_first({twin!r}) should delete only the first of the 3 students called {twin!r} (delete_one, the "
        f"outline's remove with justOne); {3 - len(twins_left)} were deleted",
        f"remove_first({twin!r}) 应当只删除名叫 {twin!r} 的 3 个学生中的第一个（delete_one，即大纲里带 justOne 的 "
        f"remove）；实际删除了 {3 - len(twins_left)} 个",
    )
    assert count == 1, say(
        f"remove_first should return how many it deleted, 1, not {count!r}",
        f"remove_first 应当返回删除了几个，即 1，而不是 {count!r}",
    )

    counts = [run_writing(student, mongodb_database, used, "remove_all", who) for who in (twin, "Nobody")]
    after = stored(db)
    assert not [d for d in after.values() if d["name"] == twin] and counts == [2, 0], say(
        f"remove_all({twin!r}) should delete both students left with that name (delete_many) and return 2, and "
        f"remove_all('Nobody') return 0; it returned {counts} and left {len(after) - len(others_stored)} of them",
        f"remove_all({twin!r}) 应当删除剩下的两个同名学生（delete_many）并返回 2，remove_all('Nobody') 应当返回 0；"
        f"实际返回了 {counts}，并留下了其中 {len(after) - len(others_stored)} 个",
    )
    assert after == others_stored, say(
        f"deleting the students called {twin!r} must leave the others alone: expected {others_stored}, found {after}",
        f"删除名叫 {twin!r} 的学生时不能动其他学生：应当是 {others_stored}，实际是 {after}",
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
        assert not left and not listed, say(
            f"drop_school should drop the whole database {mongodb_database.name!r} (the outline's "
            f"db.dropDatabase()); it still has the collections {left}",
            f"drop_school 应当删除整个数据库 {mongodb_database.name!r}（大纲里的 db.dropDatabase()）；"
            f"它仍然有集合 {left}",
        )
        kept = other.student.count_documents({})
        assert kept == 1, say(
            "drop_school must drop only its own database; another database lost its documents",
            "drop_school 只能删除它自己的数据库；另一个数据库的文档也丢了",
        )


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
    there = (
        say(f". There it found no server: {seen['unreachable']}", f"。它连去的地址上没有服务器：{seen['unreachable']}")
        if "unreachable" in seen
        else ""
    )
    assert came != 0, say(
        f"MONGODB_URL was {shown_url}, but your client never connected to that host and port: it went to another "
        "address, e.g. the outline's pymongo.MongoClient('127.0.0.1', 27017) written into the code. A program "
        "gets its server from its environment: pymongo.MongoClient(os.environ['MONGODB_URL'])",
        f"MONGODB_URL 是 {shown_url}，但你的客户端从来没有连到这个主机和端口：它连到了别的地址，比如把大纲里的 "
        "pymongo.MongoClient('127.0.0.1', 27017) 写死在了代码里。程序应当从环境中得到服务器地址："
        "pymongo.MongoClient(os.environ['MONGODB_URL'])",
    ) + there
    assert "unreachable" not in seen, say(
        f"MONGODB_URL was {shown_url}; your client connected there, but then lost the server: {seen['unreachable']}",
        f"MONGODB_URL 是 {shown_url}；你的客户端连上了那里，但之后与服务器断开了：{seen['unreachable']}",
    )
    wanted = mongodb_database.name
    example = (
        say("; client['test'] is only the outline's example", "；client['test'] 只是大纲里的例子")
        if seen["name"] == "test"
        else ""
    )
    assert seen["found"] == document, say(
        f"connect({wanted!r}) should return the database {wanted!r}, in which the grader stored {document} in the "
        f"collection student; through the database your connect() returned, named {seen['name']!r}, find_one "
        f"found {seen['found']!r}. Return client[name] with the name you are given",
        f"connect({wanted!r}) 应当返回数据库 {wanted!r}，评分程序在它的集合 student 里存入了 {document}；通过你的 "
        f"connect() 返回的数据库（名为 {seen['name']!r}），find_one 找到的是 {seen['found']!r}。请用传给你的名字返回 "
        "client[name]",
    ) + example


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
    assert isinstance(got, dict) and fields <= set(got), say(
        f"describe(client, {mine!r}) should return a dict with the keys {sorted(fields)}; got {got!r}",
        f"describe(client, {mine!r}) 应当返回一个含有键 {sorted(fields)} 的 dict；实际返回的是 {got!r}",
    )
    databases = got["databases"]
    assert isinstance(databases, list) and all(isinstance(item, str) for item in databases), say(
        f"'databases' should be a list of the databases' names, like show dbs; got {str(databases)[:300]}",
        f"'databases' 应当是由数据库名字组成的列表，就像 show dbs；实际是 {str(databases)[:300]}",
    ) + (
        say(
            ": list_databases() gives a document per database, list_database_names() only the names",
            "：list_databases() 为每个数据库给出一个文档，list_database_names() 只给出名字",
        )
        if isinstance(databases, list) and any(isinstance(item, dict) for item in databases)
        else ""
    )
    # Other grading runs make and drop their scratch databases (course_...) meanwhile: those may come and go.
    steady = {database for database in before & after if not database.startswith("course_")}
    missing = sorted((steady | {mine, other}) - set(databases))
    unknown = sorted(set(databases) - before - after - {d for d in databases if d.startswith("course_")})
    assert not missing and not unknown, (
        say(
            "'databases' should list every database on the server, like show dbs (client.list_database_names())",
            "'databases' 应当列出服务器上的所有数据库，就像 show dbs（client.list_database_names()）",
        )
        + (say(f"; {missing} are missing", f"；缺少了 {missing}") if missing else "")
        + (
            say(f"; {unknown} are no databases of this server", f"；{unknown} 不是这台服务器上的数据库")
            if unknown
            else ""
        )
    )

    listed = got["collections"]
    assert isinstance(listed, list) and sorted(map(str, listed)) == collections, say(
        f"'collections' should be the collections of the database {mine!r}, like use {mine} and then show "
        f"collections (client[name].list_collection_names()): {collections}; got {listed!r}",
        f"'collections' 应当是数据库 {mine!r} 里的集合，就像先 use {mine} 再 show collections"
        f"（client[name].list_collection_names()）：{collections}；实际是 {listed!r}",
    ) + (
        say("; those are not the collections of the database asked for", "；这些不是所问的那个数据库里的集合")
        if isinstance(listed, list)
        else ""
    )

    shown = got["version"]
    assert shown == version, say(
        f"'version' should be the version the server reports, like db.version() (client.server_info()"
        f"['version']): {version!r}; got {shown!r}",
        f"'version' 应当是服务器报告的版本号，就像 db.version()（client.server_info()['version']）：{version!r}；"
        f"实际是 {shown!r}",
    ) + (
        say(
            ": that is the version of pymongo, the driver in your Python, not of the server",
            "：那是 pymongo 的版本，也就是你的 Python 里驱动程序的版本，不是服务器的版本",
        )
        if shown == pymongo.version
        else ""
    )
