"""Open the client yourself (the outline's `client = pymongo.MongoClient(...)`, `db = client['test']`), and look
around the server like the shell's `show dbs`, `show collections` and `db.version()`."""

import os

import pymongo
from pymongo.database import Database

# -- task 7: connect from MONGODB_URL ----------------------------------------------------------------------------


def connect(name: str) -> Database:
    """The database called `name` on the server named by the environment variable MONGODB_URL."""
    # TODO(task 7): read os.environ["MONGODB_URL"] when connect() is called, open a pymongo.MongoClient on it,
    # and return the database called `name` (the outline's client['test'], with this name), not the client.
    raise NotImplementedError("task 7")


# -- task 8: show dbs, show collections, db.version() ------------------------------------------------------------


def describe(client: pymongo.MongoClient, name: str) -> dict:
    """What the server holds: {"databases": [names], "collections": [names in database `name`], "version": "7.0.14"}."""
    # TODO(task 8): list_database_names(), list_collection_names() of client[name], server_info()["version"].
    raise NotImplementedError("task 8")
