"""Probes for the mongodb topic: they connect the student's database in the worker and call students.py."""

from __future__ import annotations

import os
from typing import Any

import pymongo
import pymongo.common
import pymongo.errors
from bson import ObjectId
from pymongo import monitoring
from pymongo.command_cursor import CommandCursor
from pymongo.cursor import Cursor
from pymongo.database import Database
from pymongo.read_preferences import ReadPreference
from pymongo.results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

# What to take from what a student's function returned instead of the value the task asks for (English, Chinese).
INSTEAD = {
    InsertOneResult: ("its .inserted_id", "它的 .inserted_id"),
    InsertManyResult: ("its .inserted_ids", "它的 .inserted_ids"),
    UpdateResult: ("its .modified_count", "它的 .modified_count"),
    DeleteResult: ("its .deleted_count", "它的 .deleted_count"),
    Cursor: ("list(...) of it", "用 list(...) 包起来的结果"),
    CommandCursor: ("list(...) of it", "用 list(...) 包起来的结果"),
}


def plain(value: Any, function: str) -> Any:
    """`value` as plain data for the grader: an ObjectId becomes {"$oid": hex}; what the task never asks for
    (a pymongo result, a cursor, ...) is the student's mistake, said in words, never a crash of the grader."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    if isinstance(value, dict):
        return {key: plain(item, function) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, function) for item in value]
    kind = type(value).__name__
    instead = next((hint for cls, hint in INSTEAD.items() if isinstance(value, cls)), None)
    raise StudentMistake(
        say(
            f"{function}() returned {'an' if kind[0] in 'AEIOU' else 'a'} {kind} object",
            f"{function}() 返回了一个 {kind} 对象",
        )
        + (
            say(f"; return {instead[0]} instead", f"；请改为返回{instead[1]}")
            if instead
            else say(": return plain data (a document, a list, a number...)", "：请返回普通数据（文档、列表、数字……）")
        )
    )


def operators(document: Any) -> set[str]:
    """Every $-operator named anywhere in a command (filters, updates)."""
    if isinstance(document, dict):
        found = {key for key in document if isinstance(key, str) and key.startswith("$")}
        for item in document.values():
            found |= operators(item)
        return found
    if isinstance(document, (list, tuple)):
        return set().union(*(operators(item) for item in document)) if document else set()
    return set()


class Recorder(monitoring.CommandListener):
    """What the student's code asked the server, and how many documents each find sent back.

    The graders use it to tell a projection or a filter done by the server from one done afterwards in Python:
    both return the same answer, but only the first is what the task teaches.
    """

    def __init__(self) -> None:
        self.commands: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        used = sorted(operators(event.command)) if event.command_name in {"update", "delete", "findAndModify"} else []
        self.commands.append(
            {"name": event.command_name, "request_id": event.request_id, "sent": [], "operators": used}
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        documents = cursor.get("firstBatch", cursor.get("nextBatch", []))
        for command in self.commands:
            if command["request_id"] == event.request_id:
                command["sent"] = [dict(document) for document in documents]

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def call(url: str, database: str, function: str, *args: Any, watch: bool = False) -> Any:
    """students.function(db, *args) on the test's database; with watch=True also the commands it sent."""
    recorder = Recorder()
    client = pymongo.MongoClient(
        url,
        serverSelectionTimeoutMS=2000,
        connectTimeoutMS=2000,
        socketTimeoutMS=2000,
        event_listeners=[recorder],
    )
    try:
        outcome = {"result": plain(getattr(student_module("students"), function)(client[database], *args), function)}
    except pymongo.errors.OperationFailure as error:
        if not watch:
            raise
        # The server refused a command: the grader decides whether the server or the student is to blame.
        outcome = {"raised": f"{type(error).__name__}: {error}"}
    finally:
        client.close()
    if not watch:
        return outcome["result"]
    commands = [
        {"name": c["name"], "sent": plain(c["sent"], function), "operators": c["operators"]}
        for c in recorder.commands
        if c["name"] != "endSessions"
    ]
    return {**outcome, "commands": commands}


# -- task 7 and 8: the student's own client, and a look around the server ---------------------------------------

# How long a client waits for a server before it gives up, unless the student's code says otherwise: pymongo's 30 s
# cut short, so that a client on an address where no server answers fails within the call's time. A client on the
# right address finds its server at once. (pymongo's own tests set this default the same way.)
WAIT_FOR_A_SERVER = 8


def connect_and_read(url: str, name: str, collection: str, marker: Any) -> dict:
    """The student's client.connect(name) with MONGODB_URL set to `url`, as a program started with it would see;
    through the database it returns, the document `marker` of `collection` that the grader stored."""
    waited, pymongo.common.SERVER_SELECTION_TIMEOUT = pymongo.common.SERVER_SELECTION_TIMEOUT, WAIT_FOR_A_SERVER
    os.environ["MONGODB_URL"] = url
    try:
        db = student_module("client").connect(name)
    finally:
        os.environ.pop("MONGODB_URL", None)
        pymongo.common.SERVER_SELECTION_TIMEOUT = waited
    if isinstance(db, pymongo.MongoClient):
        db.close()
        raise StudentMistake(
            say(
                f"connect({name!r}) returned the MongoClient itself; return the database called {name!r} on it: "
                "client[name], like the outline's db = client['test']",
                f"connect({name!r}) 返回的是 MongoClient 本身；请返回它上面名为 {name!r} 的数据库：client[name]，"
                "就像大纲里的 db = client['test']",
            )
        )
    if not isinstance(db, Database):
        kind = type(db).__name__
        raise StudentMistake(
            say(
                f"connect({name!r}) returned {'an' if kind[0] in 'AEIOU' else 'a'} {kind}; return the database "
                "client[name], a pymongo Database",
                f"connect({name!r}) 返回了一个 {kind}；请返回数据库 client[name]，也就是一个 pymongo Database",
            )
        )
    try:
        found = db[collection].find_one({"_id": marker})
    except pymongo.errors.ConnectionFailure as error:
        # A client on an address where no server answers: the grader says which address it should have used.
        said = str(error).split(", Timeout:")[0].split(" (configured timeouts")[0][:300]
        return {"unreachable": f"{type(error).__name__}: {said}", "name": db.name}
    finally:
        db.client.close()
    return {"found": plain(found, "find_one"), "name": db.name}


class ShellClient(pymongo.MongoClient):
    """The client describe() gets: a MongoClient whose server_info() asks `buildInfo` by that name.

    pymongo's server_info() sends `buildinfo`, which MongoDB takes in any case but nx-27017, the embedded
    server, only as `buildInfo` (it answers the other with no version at all). Asking it that way changes nothing
    on MongoDB, and lets the student's db.version() work on both.
    """

    def server_info(self, session: Any = None) -> dict[str, Any]:
        return self.admin.command("buildInfo", read_preference=ReadPreference.PRIMARY, session=session)


def describe(url: str, name: str) -> Any:
    """client.describe(client, name) with a client of the probe's on the server; what it returned."""
    client = ShellClient(url, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, socketTimeoutMS=5000)
    try:
        return plain(student_module("client").describe(client, name), "describe")
    finally:
        client.close()
