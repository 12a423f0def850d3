"""Guards in front of MySQL, Redis and MongoDB: while a class is graded, student code reaches only its scratch space.

Each submission of a class is graded in a network namespace of its own (`teacher/sandbox.py`). There, each
service the topics need is a guard on 127.0.0.1 at the service's usual port, inside the grader's pytest
process; the guard dials the real server from the machine's namespace (`HostNetwork`). Nothing else of the
machine's network is there, so the guard is the only way to a server.

A connection from root (the grader) passes unchanged. A connection from any other uid (the submission's code,
told apart by the kernel's socket table) or from the grader's relay acting for it (`acting_for_student`) is
read as it goes and stopped where it would leave the scratch spaces of the run's current tests (`allow`):

- MySQL: the login must be a scratch user, so `root` without a password is refused; TLS and compression are
  taken out of the server's greeting so that the stream stays readable; COM_CHANGE_USER ends the connection.
- Redis: SELECT reaches only a scratch database, and no data command runs before it; commands that reach other
  databases, the server or scripts (FLUSHALL, SWAPDB, MOVE, COPY … DB, CONFIG, EVAL, AUTH, MONITOR …) are
  refused. A refused command is sent on as an unknown one whose name says why, so that the server's error
  comes back in order. Where the server has a password, the guard logs every connection in: it never reaches
  the submission's run.
- MongoDB: a command's `$db` must be a scratch database, or `admin` for the handshake and a few read-only
  commands; `$out` and `$merge` into another database are refused with the server's own "Unauthorized".

A refused command costs the student what the same code would cost on a server with per-user grants: an error.
May import `core` only.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from urllib.parse import unquote, urlsplit, urlunsplit

USUAL_PORT = {"mysql": 3306, "redis": 6379, "mongodb": 27017}
CLONE_NEWNET = 0x40000000

_allowed: dict[str, set[str]] = {name: set() for name in USUAL_PORT}
_acting_for_student: set[int] = set()


def allow(service: str, name: str) -> None:
    """Let student code reach scratch space `name` of `service` (a MySQL user, a Redis database number, a
    MongoDB database) until `revoke`. Without a guard in the run this only records the name."""
    _allowed[service].add(name)


def revoke(service: str, name: str) -> None:
    _allowed[service].discard(name)


@contextlib.contextmanager
def allowed(service: str, name: str) -> Iterator[None]:
    allow(service, name)
    try:
        yield
    finally:
        revoke(service, name)


def acting_for_student(sock: socket.socket) -> int:
    """Mark a grader socket, bound but not yet connected, as carrying a student's bytes: a guard filters it
    as it filters the student's own connections. Its port, for `done_acting` once it is closed."""
    port = sock.getsockname()[1]
    _acting_for_student.add(port)
    return port


def done_acting(port: int) -> None:
    _acting_for_student.discard(port)


def _proc_address(address: tuple) -> str:
    host, port = address[:2]
    return f"{struct.unpack('<I', socket.inet_aton(host))[0]:08X}:{port:04X}"


def peer_uid(connection: socket.socket) -> int | None:
    """The uid that opened the other end of a loopback connection, from /proc/net/tcp; None if it is gone."""
    peer, own = _proc_address(connection.getpeername()), _proc_address(connection.getsockname())
    with open("/proc/self/net/tcp", encoding="ascii") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1] == peer and fields[2] == own:
                return int(fields[7])
    return None


class HostNetwork:
    """Connects from the machine's network namespace while the process lives in another.

    A socket belongs to the namespace of the thread that created it, so one thread enters the machine's
    namespace (`fd`, open on it, handed down by the class run) and makes every upstream connection; the rest
    of the process, and every process it starts, stays in the submission's namespace. Without `fd` it
    connects from where it is.
    """

    def __init__(self, fd: int | None = None) -> None:
        self._requests: queue.SimpleQueue[tuple[tuple[str, int], Future]] = queue.SimpleQueue()
        if fd is not None:
            threading.Thread(target=self._serve, args=(fd,), name="host-network", daemon=True).start()
        self._fd = fd

    def connect(self, address: tuple[str, int]) -> socket.socket:
        if self._fd is None:
            return socket.create_connection(address, timeout=10)
        done: Future = Future()
        self._requests.put((address, done))
        return done.result()

    def _serve(self, fd: int) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        failure = None
        if libc.setns(fd, CLONE_NEWNET) != 0:
            failure = OSError(ctypes.get_errno(), "cannot enter the machine's network namespace")
        while True:
            address, done = self._requests.get()
            try:
                if failure:
                    raise failure
                done.set_result(socket.create_connection(address, timeout=10))
            except OSError as error:
                done.set_exception(error)


Outcome = tuple[bytes, bytes, bool]  # (bytes for the server, bytes for the client, end the connection)


class Guard:
    """Listens on 127.0.0.1 for `service` and joins each connection to the server at `upstream_url`."""

    def __init__(self, service: str, upstream_url: str, network: HostNetwork, port: int | None = None) -> None:
        self.service = service
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or USUAL_PORT[service])
        self.network = network
        self.login = b""
        if service == "redis" and parts.password is not None:  # the guard logs in; the run never sees it
            credentials = [unquote(parts.username)] if parts.username else []
            self.login = _resp([b"AUTH", *(c.encode() for c in [*credentials, unquote(parts.password)])])
        self.listener = socket.create_server(("127.0.0.1", USUAL_PORT[service] if port is None else port))
        self.port: int = self.listener.getsockname()[1]
        kept = parts.netloc.rpartition("@")[0] if service != "redis" else ""
        self.url = urlunsplit(parts._replace(netloc=f"{kept + '@' if kept else ''}127.0.0.1:{self.port}"))
        threading.Thread(target=self._accept, name=f"{service}-guard", daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._join, args=(client,), name=f"{self.service}-guard-connection",
                             daemon=True).start()

    def _join(self, client: socket.socket) -> None:
        try:
            student = peer_uid(client) != 0 or client.getpeername()[1] in _acting_for_student
            server = self.network.connect(self.upstream)
            server.settimeout(None)
            if self.login:
                server.sendall(self.login)
                if not _read_line(server).startswith(b"+"):
                    raise OSError("the server refused the guard's login")
        except OSError:
            client.close()
            return
        reading = FILTERS[self.service]() if student else None
        answering = threading.Lock()

        def to_client(data: bytes) -> None:
            with answering:
                client.sendall(data)

        threading.Thread(target=_pump, args=(server, to_client, reading and reading.from_server, client),
                         daemon=True).start()
        _pump(client, server.sendall, reading and reading.from_client, server, to_client)

class _Ended(Exception):
    pass


def _pump(source: socket.socket, send: Callable[[bytes], None], read: Callable | None, target: socket.socket,
          answer: Callable[[bytes], None] | None = None) -> None:
    try:
        while data := source.recv(65536):
            if read is None:
                send(data)
                continue
            outcome = read(data)
            forward, reply, end = outcome if isinstance(outcome, tuple) else (outcome, b"", False)
            if forward:
                send(forward)
            if reply and answer:
                answer(reply)
            if end:
                raise _Ended
    except (OSError, _Ended):
        pass
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _read_line(sock: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\r\n"):
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
    return line


# -- MySQL ------------------------------------------------------------------------------------------------------

CLIENT_COMPRESS, CLIENT_PROTOCOL_41, CLIENT_SSL, CLIENT_ZSTD = 0x20, 0x200, 0x800, 1 << 26
COM_CHANGE_USER = 0x11


def _mysql_error(sequence: int, code: int, state: str, message: str) -> bytes:
    payload = b"\xff" + code.to_bytes(2, "little") + b"#" + state.encode() + message.encode()
    return len(payload).to_bytes(3, "little") + bytes([sequence & 0xFF]) + payload


class MySQLReading:
    """A student's MySQL connection: scratch users only, and no TLS or compression to hide the stream."""

    def __init__(self) -> None:
        self.greeted = self.logged_in = False
        self.down = self.up = b""

    def from_server(self, data: bytes) -> bytes:
        if self.greeted:
            return data
        self.down += data
        if len(self.down) < 4 or len(self.down) < 4 + int.from_bytes(self.down[:3], "little"):
            return b""
        self.greeted = True
        greeting, self.down = bytearray(self.down), b""
        if greeting[4] == 10:  # protocol 10: version, thread id, scramble, filler, then capabilities
            at = greeting.index(0, 5) + 1 + 4 + 8 + 1
            lower = int.from_bytes(greeting[at:at + 2], "little") & ~(CLIENT_SSL | CLIENT_COMPRESS)
            greeting[at:at + 2] = lower.to_bytes(2, "little")
            upper_at = at + 2 + 1 + 2  # after the character set and the status flags
            if len(greeting) >= upper_at + 2:
                upper = int.from_bytes(greeting[upper_at:upper_at + 2], "little") & ~(CLIENT_ZSTD >> 16)
                greeting[upper_at:upper_at + 2] = upper.to_bytes(2, "little")
        return bytes(greeting)

    def from_client(self, data: bytes) -> Outcome:
        self.up += data
        forward = []
        while len(self.up) >= 4 and len(self.up) >= 4 + int.from_bytes(self.up[:3], "little"):
            size, sequence = int.from_bytes(self.up[:3], "little"), self.up[3]
            packet, self.up = self.up[:4 + size], self.up[4 + size:]
            if not self.logged_in:
                self.logged_in = True
                refusal = self._login(packet[4:])
                if refusal:
                    return b"".join(forward), _mysql_error(sequence + 1, 1045, "28000", refusal), True
            elif sequence == 0 and size and packet[4] == COM_CHANGE_USER:
                return b"".join(forward), _mysql_error(1, 1227, "42000", "while graded, your code keeps the "
                                                        "account it was given (no COM_CHANGE_USER)"), True
            forward.append(packet)
        return b"".join(forward), b"", False

    @staticmethod
    def _login(response: bytes) -> str | None:
        capabilities = int.from_bytes(response[:4], "little")
        if capabilities & CLIENT_SSL or not capabilities & CLIENT_PROTOCOL_41 or len(response) < 33:
            return "while graded, connect without TLS with the protocol of MySQL 4.1 or later"
        end = response.find(b"\0", 32)
        user = response[32:end if end >= 0 else None].decode(errors="replace")
        if user not in _allowed["mysql"]:
            return (f"Access denied for user '{user}': while graded, your code logs in only with the account "
                    "it was given")
        return None


# -- Redis ------------------------------------------------------------------------------------------------------

REDIS_REFUSED = {
    "flushall", "swapdb", "move", "migrate", "config", "shutdown", "debug", "monitor", "acl", "auth", "save",
    "bgsave", "bgrewriteaof", "replicaof", "slaveof", "sync", "psync", "replconf", "module", "failover",
    "cluster", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function", "script",
    "pfdebug", "pfselftest",
}
REDIS_CLIENT_OK = {"setinfo", "setname", "getname", "id", "info", "reply", "no-evict", "no-touch"}
REDIS_ANY_DATABASE = {"ping", "echo", "hello", "client", "quit", "reset", "select", "command", "time", "info",
                      "multi", "exec", "discard", "unwatch"}


def _resp(arguments: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(arguments) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in arguments)


def _resp_command(buffer: bytes) -> tuple[list[bytes], int] | None:
    """(arguments, bytes used) of the first command in `buffer`; None when it is not complete yet.
    Raises ValueError for anything but an array of bulk strings (inline commands included)."""
    if buffer[:1] != b"*":
        raise ValueError("not a RESP array")
    end = buffer.find(b"\r\n")
    if end < 0:
        return None
    count, at, arguments = int(buffer[1:end]), end + 2, []
    if not 0 < count <= 1_000_000:
        raise ValueError("bad argument count")
    for _ in range(count):
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None
        if buffer[at:at + 1] != b"$":
            raise ValueError("not a bulk string")
        length = int(buffer[at + 1:end])
        if not 0 <= length <= 512 * 2**20:
            raise ValueError("bad length")
        at = end + 2
        if len(buffer) < at + length + 2:
            return None
        arguments.append(buffer[at:at + length])
        at += length + 2
    return arguments, at


class RedisReading:
    """A student's Redis connection: its scratch databases only."""

    def __init__(self) -> None:
        self.buffer, self.database = b"", "0"

    def from_server(self, data: bytes) -> bytes:
        return data

    def from_client(self, data: bytes) -> Outcome:
        self.buffer += data
        forward = []
        while self.buffer:
            try:
                parsed = _resp_command(self.buffer)
            except ValueError:
                return b"".join(forward), b"-ERR the guard of graded code reads RESP arrays only\r\n", True
            if parsed is None:
                break
            arguments, used = parsed
            refusal = self._refusal(arguments)
            forward.append(self.buffer[:used] if refusal is None else _resp([refusal.encode()]))
            self.buffer = self.buffer[used:]
        return b"".join(forward), b"", False

    def _refusal(self, arguments: list[bytes]) -> str | None:
        """The name of an unknown command to send instead, or None to send the command as it is."""
        words = [argument.decode(errors="replace").lower() for argument in arguments]
        name = words[0]
        if name == "select":
            if len(words) == 2 and words[1] in _allowed["redis"]:
                self.database = words[1]
                return None
            return "select-reaches-only-your-scratch-database-while-graded"
        if name == "reset":
            self.database = "0"
        if (name in REDIS_REFUSED or (name == "client" and words[1:2] != [] and words[1] not in REDIS_CLIENT_OK)
                or (name == "hello" and "auth" in words) or (name == "copy" and "db" in words[3:])):
            return f"{name}-is-not-allowed-while-graded"
        if name in REDIS_ANY_DATABASE or self.database in _allowed["redis"]:
            return None
        return "select-your-scratch-database-first-while-graded"


# -- MongoDB ----------------------------------------------------------------------------------------------------

OP_QUERY, OP_MSG = 2004, 2013
MONGODB_ADMIN_OK = {"hello", "ismaster", "ping", "buildinfo", "saslstart", "saslcontinue", "endsessions",
                    "listdatabases", "hostinfo", "whatsmyuri", "connectionstatus", "committransaction",
                    "aborttransaction"}


class _UniqueKeys(dict):
    """A document that refuses a key given twice: the server might read the first `$db`, and we the last."""

    def __setitem__(self, key, value) -> None:
        if key in self:
            raise ValueError(f"{key!r} given twice")
        super().__setitem__(key, value)


def _bson(document: bytes) -> dict:
    import bson
    from bson.codec_options import CodecOptions

    return bson.decode(document, CodecOptions(document_class=_UniqueKeys))


class MongoDBReading:
    """A student's MongoDB connection: commands on its scratch databases, and the handshake."""

    def __init__(self) -> None:
        self.buffer = b""
        self.answers = 0

    def from_server(self, data: bytes) -> bytes:
        return data

    def from_client(self, data: bytes) -> Outcome:
        self.buffer += data
        forward, replies = [], []
        while len(self.buffer) >= 16:
            length, request, _, opcode = struct.unpack("<iiii", self.buffer[:16])
            if not 16 < length <= 48 * 2**20:
                return b"".join(forward), b"".join(replies), True
            if len(self.buffer) < length:
                break
            message, self.buffer = self.buffer[:length], self.buffer[length:]
            try:
                refusal, silent = self._refusal(opcode, message)
            except Exception:  # anything this reading cannot take apart does not reach the server
                return b"".join(forward), b"".join(replies), True
            if refusal is None:
                forward.append(message)
            elif not silent:
                replies.append(self._error(request, refusal))
        return b"".join(forward), b"".join(replies), False

    def _refusal(self, opcode: int, message: bytes) -> tuple[str | None, bool]:
        if opcode == OP_QUERY:  # the legacy handshake only
            end = message.index(b"\0", 20)
            command = _bson(message[end + 9:])
            if message[20:end] == b"admin.$cmd" and next(iter(command), "").lower() in {"hello", "ismaster"}:
                return None, False
            raise ValueError("OP_QUERY")
        if opcode != OP_MSG:
            raise ValueError(f"opcode {opcode}")  # OP_COMPRESSED included: it would hide the command
        flags = struct.unpack("<I", message[16:20])[0]
        end, at, body = len(message) - (4 if flags & 1 else 0), 20, None
        while at < end:
            kind, size = message[at], struct.unpack("<i", message[at + 1:at + 5])[0]
            if kind == 0 and body is None:
                body = _bson(message[at + 1:at + 1 + size])
                at += 1 + size
            elif kind == 1:
                at += 1 + size
            else:
                raise ValueError("section")
        if body is None:
            raise ValueError("no body")
        name, database = next(iter(body), "").lower(), body.get("$db")
        silent = bool(flags & 2)  # moreToCome: the client waits for no answer
        if database == "admin" and name in MONGODB_ADMIN_OK:
            return None, silent
        if database not in _allowed["mongodb"]:
            return f"while graded, your code reaches only the database it was given, not {database!r}", silent
        for target in _written_databases(name, body):
            if target != database and target not in _allowed["mongodb"]:
                return f"while graded, your code writes only to the database it was given, not {target!r}", silent
        return None, silent

    def _error(self, request: int, message: str) -> bytes:
        import bson

        self.answers += 1
        body = bson.encode({"ok": 0.0, "errmsg": message, "code": 13, "codeName": "Unauthorized"})
        payload = struct.pack("<I", 0) + b"\0" + body
        return struct.pack("<iiii", 16 + len(payload), 0x7F000000 + self.answers, request, OP_MSG) + payload


def _written_databases(name: str, body: dict) -> list[str]:
    """Databases other than `$db` that an aggregation's $out/$merge or a mapReduce's `out` writes to."""
    targets: list = []
    if name == "aggregate":
        for stage in body.get("pipeline") or []:
            for key in ("$out", "$merge"):
                value = stage.get(key) if isinstance(stage, dict) else None
                if isinstance(value, dict):
                    into = value.get("into", value)
                    targets.append(into.get("db") if isinstance(into, dict) else None)
    elif name == "mapreduce" and isinstance(body.get("out"), dict):
        targets.append(body["out"].get("db"))
    return [target for target in targets if target is not None]


FILTERS: dict[str, Callable] = {"mysql": MySQLReading, "redis": RedisReading, "mongodb": MongoDBReading}
