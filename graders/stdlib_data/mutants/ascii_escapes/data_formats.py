"""JSON and base64: turning Python data into text that other programs, and people, can read."""

import base64
import json
from typing import Any


def to_json(obj: Any) -> str:
    """The JSON text of `obj` (the outline's json.dumps), with Chinese and emoji readable, not \\uXXXX escapes."""
    return json.dumps(obj)


def from_json(text: str) -> Any:
    """The Python object that the JSON `text` describes: objects become dicts, arrays lists, null None."""
    return json.loads(text)


def save_json(obj: Any, path: str) -> None:
    """Write `obj` as JSON into the file `path`, in UTF-8, with Chinese readable to anyone who opens the file."""
    # Without encoding= the computer's default is used: GBK on a Chinese Windows, which has no emoji.
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)


def load_json(path: str) -> Any:
    """The Python object stored as JSON (UTF-8) in the file `path`."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def to_base64(text: str) -> str:
    """The base64 of the UTF-8 bytes of `text`, as a str, like the outline's b64encode(a.encode('utf-8'))."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def from_base64(data: str) -> str:
    """The text whose UTF-8 bytes `data` holds in base64: undoes to_base64."""
    return base64.b64decode(data).decode("utf-8")


def to_urlsafe_base64(text: str) -> str:
    """Like to_base64, but with the URL-safe alphabet: "-" and "_" instead of "+" and "/"."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def from_urlsafe_base64(data: str) -> str:
    """Undoes to_urlsafe_base64."""
    return base64.urlsafe_b64decode(data).decode("utf-8")
