"""Probes for the mongodb topic: they connect the student's database in the worker and call students.py."""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import monitoring

from graders.harness.core.probing import student_module


class Recorder(monitoring.CommandListener):
    """What the student's code asked the server, and how many documents each find sent back.

    The graders use it to tell a projection or a filter done by the server from one done afterwards in Python:
    both return the same answer, but only the first is what the task teaches.
    """

    def __init__(self) -> None:
        self.commands: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append({"name": event.command_name, "request_id": event.request_id, "sent": []})

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
        result = getattr(student_module("students"), function)(client[database], *args)
    finally:
        client.close()
    if not watch:
        return result
    commands = [{"name": c["name"], "sent": c["sent"]} for c in recorder.commands if c["name"] != "endSessions"]
    return {"result": result, "commands": commands}
