"""What travels between the grader and the worker: plain data as JSON frames, never pickle.

The worker runs the student's code, so everything it sends is untrusted. Unpickling it would run whatever
`__reduce__` the student wrote inside the grading process; comparing it could run a student's `__eq__`. So a
reply is decoded into plain values only: None, bool, int, float, str, bytes, list, tuple, dict, set and
frozenset, plus the value types the course's tasks are about (datetime, date, time, timedelta, fixed-offset
timezone, Decimal, and bson's ObjectId), each rebuilt from numbers and strings by its constructor. Tuples,
sets, bytes, those value types and non-string keys travel as small tags. Anything else cannot even be
expressed. A frame that is not valid, too large, or of the wrong shape is a `ProtocolError`, which the grader
reports as the student's code having interfered with the worker.

Frames are length-prefixed on a stream socket: a socket works on every platform, where an inherited pipe
does not (Windows).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hmac
import json
import math
import re
import select
import socket
import struct
import time
from typing import Any

IMPORT_MARKER = ".importing"
"""A file in the test's folder that names the student's module the worker is importing, while it does: the
grader stops an import that does not end sooner than the call it is part of (student.IMPORT_PATIENCE seconds of
waiting, or student.IMPORT_CPU seconds of computing)."""

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")
_TAG = "\x00t"  # a key no probe's dict can hold by accident: marks an encoded tuple, set, bytes or odd dict


class ProtocolError(Exception):
    """A frame from the other side could not be read as plain data."""


def encode(value: Any) -> Any:
    """`value` as JSON-ready data; TypeError names the first value that is not plain data."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if type(value) is int else int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: "float", "v": repr(value)}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        kind = "set" if isinstance(value, set) else "frozenset"
        return {_TAG: kind, "v": [encode(item) for item in value]}
    if isinstance(value, (bytes, bytearray)):
        return {_TAG: "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": [value.replace(tzinfo=None).isoformat(), _offset(value)]}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {_TAG: "time", "v": [value.replace(tzinfo=None).isoformat(), _offset(value)]}
    if isinstance(value, dt.timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, dt.timezone):
        return {_TAG: "timezone", "v": [_offset(value), value.tzname(None)]}
    if isinstance(value, decimal.Decimal):
        return {_TAG: "decimal", "v": str(value)}
    if type(value).__name__ == "ObjectId" and type(value).__module__.startswith("bson"):
        return {_TAG: "objectid", "v": str(value)}
    if isinstance(value, dict):
        if all(type(key) is str for key in value) and _TAG not in value:
            return {key: encode(item) for key, item in value.items()}
        return {_TAG: "dict", "v": [[encode(key), encode(item)] for key, item in value.items()]}
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not plain data")


def decode(data: Any) -> Any:
    """The inverse of `encode`, building only plain types; ProtocolError for anything else."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        raise ProtocolError(f"unexpected {type(data).__name__}")
    if _TAG not in data:
        return {key: decode(item) for key, item in data.items()}
    kind, payload = data.get(_TAG), data.get("v")
    try:
        if kind == "tuple":
            return tuple(decode(item) for item in _list(payload))
        if kind == "set":
            return {_hashable(decode(item)) for item in _list(payload)}
        if kind == "frozenset":
            return frozenset(_hashable(decode(item)) for item in _list(payload))
        if kind == "bytes" and isinstance(payload, str):
            return base64.b64decode(payload, validate=True)
        if kind == "float" and payload in ("inf", "-inf", "nan"):
            return float(payload)
        if kind in _VALUE_TYPES:
            return _VALUE_TYPES[kind](payload)
        if kind == "dict":
            pairs = [_list(pair) for pair in _list(payload)]
            if any(len(pair) != 2 for pair in pairs):
                raise ProtocolError("a dict entry is not a pair")
            return {_hashable(decode(key)): decode(item) for key, item in pairs}
    except (ValueError, TypeError) as error:
        raise ProtocolError(str(error)) from None
    raise ProtocolError(f"unknown tag {kind!r}")


def _offset(value: dt.datetime | dt.time | dt.timezone) -> float | None:
    """A time zone as its UTC offset in seconds (None when naive): zoneinfo names do not travel."""
    offset = value.utcoffset(None) if isinstance(value, dt.timezone) else value.utcoffset()
    return None if offset is None else offset.total_seconds()


def _zone(offset: Any) -> dt.timezone | None:
    if offset is None:
        return None
    if type(offset) not in (int, float):
        raise ProtocolError("a time zone offset is not a number")
    return dt.timezone(dt.timedelta(seconds=offset))


def _iso(text: Any) -> str:
    if not isinstance(text, str) or len(text) > 40:
        raise ProtocolError("not an ISO date or time")
    return text


def _numbers(payload: Any, count: int) -> list:
    if not isinstance(payload, list) or len(payload) != count:
        raise ProtocolError("a value of the wrong shape")
    return payload


def _object_id(payload: Any) -> Any:
    if not isinstance(payload, str) or not re.fullmatch(r"[0-9a-f]{24}", payload):
        raise ProtocolError("not an ObjectId")
    from bson import ObjectId

    return ObjectId(payload)


def _decimal(payload: Any) -> decimal.Decimal:
    if not isinstance(payload, str) or len(payload) > 100:
        raise ProtocolError("not a decimal")
    try:
        return decimal.Decimal(payload)
    except decimal.InvalidOperation:
        raise ProtocolError("not a decimal") from None


def _datetime(payload: Any) -> dt.datetime:
    text, offset = _numbers(payload, 2)
    return dt.datetime.fromisoformat(_iso(text)).replace(tzinfo=_zone(offset))


def _time(payload: Any) -> dt.time:
    text, offset = _numbers(payload, 2)
    return dt.time.fromisoformat(_iso(text)).replace(tzinfo=_zone(offset))


def _timedelta(payload: Any) -> dt.timedelta:
    days, seconds, micro = _numbers(payload, 3)
    if not all(type(part) is int for part in (days, seconds, micro)):
        raise ProtocolError("a timedelta of the wrong shape")
    return dt.timedelta(days=days, seconds=seconds, microseconds=micro)


def _timezone(payload: Any) -> dt.timezone:
    offset, name = _numbers(payload, 2)
    zone = _zone(offset)
    if zone is None or not isinstance(name, str) or len(name) > 60:
        raise ProtocolError("a timezone of the wrong shape")
    return zone if name == zone.tzname(None) else dt.timezone(zone.utcoffset(None), name)


_VALUE_TYPES = {
    "datetime": _datetime,
    "date": lambda payload: dt.date.fromisoformat(_iso(payload)),
    "time": _time,
    "timedelta": _timedelta,
    "timezone": _timezone,
    "decimal": _decimal,
    "objectid": _object_id,
}


def _list(payload: Any) -> list:
    if not isinstance(payload, list):
        raise ProtocolError("a tagged value holds no list")
    return payload


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict, set)):
        raise ProtocolError(f"a {type(value).__name__} cannot be a key or a set member")
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def loads(frame: bytes) -> Any:
    try:
        data = json.loads(frame.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"not a JSON frame: {error}") from None
    try:
        return decode(data)
    except RecursionError:
        raise ProtocolError("nested too deeply") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class Channel:
    """One end of the grader-worker connection: `send`, `recv` and `poll` of whole frames."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)  # a default socket timeout would make it non-blocking: big frames would fail
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, value: Any) -> None:
        frame = dumps(value)
        if len(frame) > MAX_FRAME:
            raise TypeError(f"a frame of {len(frame)} bytes is over the limit of {MAX_FRAME}")
        self.sock.sendall(_HEADER.pack(len(frame)) + frame)

    def poll(self, timeout: float | None) -> bool:
        """True when a frame (or the end of the connection) is waiting to be read."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return bool(ready)

    def recv(self, timeout: float | None = None) -> Any:
        """The next frame, decoded; EOFError when the other side is gone; ProtocolError when it is garbage or
        does not arrive whole within `timeout` seconds (a sender that stops half-way cannot hang the reader)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        (size,) = _HEADER.unpack(self._exactly(_HEADER.size, deadline))
        if size > MAX_FRAME:
            raise ProtocolError(f"a frame of {size} bytes announced, over the limit of {MAX_FRAME}")
        return loads(self._exactly(size, deadline))

    def _exactly(self, size: int, deadline: float | None) -> bytes:
        chunks, left = [], size
        while left:
            if deadline is not None and not self.poll(max(0.0, deadline - time.monotonic())):
                raise ProtocolError(f"a frame stopped arriving with {left} of {size} bytes missing")
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def accept_worker(listener: socket.socket, secret: str) -> tuple[Channel, socket.socket]:
    """The grader's side of the TCP transport: the worker connects twice, first for the channel and then for
    the lifeline, each proving itself with `secret` (a local process that guesses the port learns nothing)."""
    ends: dict[str, socket.socket] = {}
    while len(ends) < 2:
        sock, _ = listener.accept()
        sock.settimeout(None)
        channel = Channel(sock)
        if not channel.poll(10):
            sock.close()
            continue
        try:
            hello = channel.recv(timeout=10)
        except (EOFError, OSError, ProtocolError):
            sock.close()
            continue
        if (isinstance(hello, list) and len(hello) == 2 and hello[0] in ("channel", "lifeline")
                and isinstance(hello[1], str) and hmac.compare_digest(hello[1], secret)):
            ends[hello[0]] = sock
        else:
            sock.close()
    return Channel(ends["channel"]), ends["lifeline"]


def connect_to_grader(address: str, secret: str) -> tuple[Channel, socket.socket]:
    """The worker's side of the TCP transport: (channel, lifeline)."""
    host, _, port = address.rpartition(":")
    ends = []
    for role in ("channel", "lifeline"):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.settimeout(None)
        Channel(sock).send([role, secret])
        ends.append(sock)
    return Channel(ends[0]), ends[1]
