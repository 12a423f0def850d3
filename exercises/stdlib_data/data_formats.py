"""JSON and base64: turning Python data into text that other programs, and people, can read."""

import base64  # noqa: F401  (you will need it)
import json  # noqa: F401  (you will need it)
from typing import Any


def to_json(obj: Any) -> str:
    """The JSON text of `obj` (the outline's json.dumps), with Chinese and emoji readable, not \\uXXXX escapes."""
    # TODO(task 1): return json.dumps(obj, ...) keeping 中文 readable; from_json below undoes it with json.loads.
    raise NotImplementedError("task 1")


def from_json(text: str) -> Any:
    """The Python object that the JSON `text` describes: objects become dicts, arrays lists, null None."""
    raise NotImplementedError("task 1")


def save_json(obj: Any, path: str) -> None:
    """Write `obj` as JSON into the file `path`, in UTF-8, with Chinese readable to anyone who opens the file."""
    # TODO(task 2): open the file for writing with encoding="utf-8" and json.dump into it; load_json reads it back.
    raise NotImplementedError("task 2")


def load_json(path: str) -> Any:
    """The Python object stored as JSON (UTF-8) in the file `path`."""
    raise NotImplementedError("task 2")


def to_base64(text: str) -> str:
    """The base64 of the UTF-8 bytes of `text`, as a str, like the outline's b64encode(a.encode('utf-8'))."""
    # TODO(task 3): encode to UTF-8 bytes, base64 them, turn the result back into str; write the three others too.
    raise NotImplementedError("task 3")


def from_base64(data: str) -> str:
    """The text whose UTF-8 bytes `data` holds in base64: undoes to_base64."""
    raise NotImplementedError("task 3")


def to_urlsafe_base64(text: str) -> str:
    """Like to_base64, but with the URL-safe alphabet: "-" and "_" instead of "+" and "/"."""
    raise NotImplementedError("task 3")


def from_urlsafe_base64(data: str) -> str:
    """Undoes to_urlsafe_base64."""
    raise NotImplementedError("task 3")
