"""Open the client yourself (the outline's `client = pymongo.MongoClient(...)`, `db = client['test']`), and look
around the server like the shell's `show dbs`, `show collections` and `db.version()`."""

import os

import pymongo
from pymongo.database import Database

# -- task 7: connect from MONGODB_URL ----------------------------------------------------------------------------


def connect(name: str) -> Database:
    """The database called `name` on the server named by the environment variable MONGODB_URL."""
    # The URL carries the host, the port and any user and password; the database is picked by name afterwards.
    client = pymongo.MongoClient(os.environ["MONGODB_URL"])
    return client[name]


# -- task 8: show dbs, show collections, db.version() ------------------------------------------------------------


def describe(client: pymongo.MongoClient, name: str) -> dict:
    """What the server holds: {"databases": [names], "collections": [names in database `name`], "version": "7.0.14"}."""
    return {
        "databases": client.list_database_names(),  # show dbs
        "collections": client[name].list_collection_names(),  # use <name>, then show collections
        "version": client.server_info()["version"],  # db.version()
    }
