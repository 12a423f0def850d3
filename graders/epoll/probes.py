"""Probes for the epoll topic: they run in the worker, next to the student's server.py."""

from __future__ import annotations

import errno
import select
import selectors
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from graders.harness.core.probing import (
    StudentMistake,
    describe,
    in_background,
    is_student_file,
    open_fd_count,
    student_module,
    thread_count,
)

# The event loop started by start_event_loop(), kept for the probes the grader calls while it runs.
_loop: dict[str, Any] = {}


def _listener_of(port: int) -> socket.socket:
    listener = student_module("server").create_listener(port)
    if not isinstance(listener, socket.socket):
        raise StudentMistake(
            f"create_listener({port}) returned {type(listener).__name__}, not the socket.socket it created"
        )
    return listener


def listener_facts(port: int) -> dict:
    """What create_listener(port) made: family, type, address, listening, blocking."""
    with _listener_of(port) as listener:
        address = listener.getsockname()
        return {
            "family": getattr(listener.family, "name", str(listener.family)),
            "type": getattr(listener.type, "name", str(listener.type)),
            "address": tuple(address) if isinstance(address, tuple) else address,
            "listening": bool(listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)),
            "blocking": listener.getblocking(),
        }


def _poller(sockets: list[socket.socket], *, write: bool):
    """A select.poll() over `sockets` (poll, not select.select: it has no limit on descriptor numbers)."""
    poller = select.poll()
    for sock in sockets:
        poller.register(sock, select.POLLOUT if write else select.POLLIN)
    return poller


def _somaxconn() -> int:
    """The kernel's cap on any backlog: listen(n) gets min(n, somaxconn)."""
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except (OSError, ValueError):
        return 4096


def waiting_connections(port: int, clients: int) -> dict:
    """Connect `clients` sockets to create_listener(port) before anyone accepts; count those kept waiting.

    Linux queues backlog + 1 finished handshakes and silently drops the SYN of any client beyond that (it
    would retry a second later), so the number accepted right after the burst measures the backlog.
    """
    listener = _listener_of(port)
    connecting: list[socket.socket] = []
    accepted: list[socket.socket] = []
    try:
        if not listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            raise StudentMistake("the socket create_listener returned is not listening: call listen(...) on it")
        address = listener.getsockname()
        for _ in range(clients):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            connecting.append(client)
            client.setblocking(False)
            client.connect_ex(address)
        poller = _poller(connecting, write=True)
        pending = {client.fileno() for client in connecting}
        deadline = time.monotonic() + 0.8  # SYNs dropped by a full queue are sent again only after 1 s
        while pending and time.monotonic() < deadline:
            for fd, _event in poller.poll(50):
                if fd in pending:
                    pending.discard(fd)
                    poller.unregister(fd)
        ready = _poller([listener], write=False)
        while ready.poll(0):
            accepted.append(listener.accept()[0])
    finally:
        for sock in (*accepted, *connecting, listener):
            sock.close()
    return {"waiting": len(accepted), "somaxconn": _somaxconn()}


def _data_name(data: Any) -> str:
    return getattr(data, "__qualname__", None) or repr(data)


def accept_registration() -> dict:
    """Call accept(listener, selector) with one client waiting; describe what it registered."""
    module = student_module("server")
    accept = module.accept
    read = module.read
    with socket.create_server(("127.0.0.1", 0)) as listener, selectors.DefaultSelector() as selector:
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, accept)
        with socket.create_connection(listener.getsockname(), timeout=1) as client:
            if not _poller([listener], write=False).poll(1000):
                raise RuntimeError("the grader's own client did not reach the listener within 1 s")
            accept(listener, selector)
            keys = [key for key in _keys(selector) if key.fileobj is not listener]
            try:
                facts: dict[str, Any] = {"new_keys": len(keys)}
                if keys:
                    key = keys[0]
                    conn = key.fileobj
                    is_socket = isinstance(conn, socket.socket)
                    facts.update(
                        is_socket=is_socket,
                        registered=type(conn).__name__,
                        is_client=is_socket and conn.fileno() != -1 and conn.getpeername() == client.getsockname(),
                        events=key.events,
                        data=_data_name(key.data),
                        data_is_read=key.data is read,
                        blocking=conn.getblocking() if is_socket and conn.fileno() != -1 else None,
                    )
                return facts
            finally:
                for key in keys:
                    if isinstance(key.fileobj, socket.socket):
                        key.fileobj.close()


def _keys(selector: selectors.BaseSelector) -> list[selectors.SelectorKey]:
    """The selector's keys, read while the server thread may be registering or unregistering."""
    for _ in range(1000):
        try:
            return list(selector.get_map().values())
        except (RuntimeError, KeyError):  # the map changed while we read it
            time.sleep(0.001)
    raise RuntimeError("the selector's map kept changing for a second")


def _recv_once_mistake(error: BaseException | None) -> StudentMistake | None:
    """The explanation of a BlockingIOError from a recv() with nothing left to read, if that is what it is."""
    if not isinstance(error, BlockingIOError):
        return None
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if is_student_file(frame.filename)]
    if not frames or "recv" not in (frames[-1].line or ""):
        return None
    facts = describe(error)
    return StudentMistake(
        f"read() raised BlockingIOError at {facts['file']}:{facts['line']}: it called recv() again after the "
        "data that woke it was used up. Call recv once per event: the selector calls read() again when more "
        "data arrives"
    )


def _call_read(read: Any, conn: socket.socket, selector: selectors.BaseSelector) -> None:
    try:
        read(conn, selector)
    except BlockingIOError as error:
        mistake = _recv_once_mistake(error)
        if mistake is None:
            raise
        raise mistake from None


def _receive(peer: socket.socket, size: int) -> bytes:
    """Up to `size` bytes that are already on their way (read() has returned, so they were sent)."""
    received = b""
    try:
        while len(received) < size:
            chunk = peer.recv(4096)
            if not chunk:
                break
            received += chunk
    except TimeoutError:
        pass
    return received


def read_trace(messages: list[bytes]) -> dict:
    """Send each message to a registered socket and call read(); then leave and call read() once more."""
    read = student_module("server").read
    conn, peer = socket.socketpair()
    selector = selectors.DefaultSelector()
    try:
        conn.setblocking(False)  # as accept() leaves it
        peer.settimeout(0.2)
        fd = conn.fileno()
        selector.register(conn, selectors.EVENT_READ, read)
        echoes: list[bytes] = []
        for message in messages:
            peer.sendall(message)
            _call_read(read, conn, selector)
            echoes.append(_receive(peer, len(message)))
            if conn.fileno() == -1 or fd not in selector.get_map():
                return {"echoes": echoes, "gave_up_after": len(echoes), "registered": None, "open": None}
        peer.close()  # the client leaves: conn is readable and recv returns b''
        _call_read(read, conn, selector)
        return {
            "echoes": echoes,
            "gave_up_after": None,
            "registered": fd in selector.get_map(),
            "open": conn.fileno() != -1,
        }
    finally:
        conn.close()
        peer.close()
        selector.close()


class _RememberingSelector(selectors.DefaultSelector):
    """The DefaultSelector, remembering every socket ever registered with it.

    CPython closes a socket that nothing refers to any more, so a server that never calls close() would
    leak nothing we could count: each forgotten connection is closed, late and with a ResourceWarning, when
    its last reference goes. Keeping a reference here makes every forgotten close() show.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        self.seen.append(fileobj)
        return super().register(fileobj, events, data)


def start_event_loop(port: int) -> dict:
    """Run serve_forever on a listener of ours (backlog 512) in one background thread.

    Returns the thread count before the loop started and the open file count once it is running, to
    compare with later.
    """
    serve_forever = student_module("server").serve_forever
    server = socket.create_server(("127.0.0.1", port), backlog=512)
    server.setblocking(False)
    selector = _RememberingSelector()
    threads_before = thread_count()
    _loop.update(server=server, selector=selector, error=None)

    def loop() -> None:
        try:
            serve_forever(server, selector)
        except BaseException as error:  # reported by the next probe, with the student's line
            _loop["error"] = error

    _loop["thread"] = in_background(loop)
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline and _loop["thread"].is_alive():
        if any(key.fileobj is server for key in _keys(selector)):
            break
        time.sleep(0.005)
    _raise_if_stopped()
    if not any(key.fileobj is server for key in _keys(selector)):
        raise StudentMistake(
            "within 1 s serve_forever(server, selector) did not register `server` with the selector it was "
            "given: call selector.register(server, selectors.EVENT_READ, accept) before the loop"
        )
    return {"threads": threads_before, "fds": open_fd_count()}


def _raise_if_stopped() -> None:
    thread: threading.Thread = _loop["thread"]
    if thread.is_alive():
        return
    error = _loop["error"]
    mistake = _recv_once_mistake(error)
    if mistake is not None:
        raise mistake
    facts = describe(error) if error is not None else {}
    if isinstance(error, OSError) and error.errno == errno.EINVAL and facts.get("function") == "accept":
        raise StudentMistake(
            f"serve_forever stopped: accept() was called with a client's connection and failed with "
            f"{error} at {facts['file']}:{facts['line']}. Only the listening socket is registered with `accept`; "
            "register each connection with `read` as its data"
        )
    if error is not None:
        raise error
    raise StudentMistake(
        "serve_forever returned, so nobody serves the clients any more: it must loop forever, "
        "`while True: for key, mask in selector.select(): key.data(key.fileobj, selector)`"
    )


def event_loop_state() -> dict:
    """Threads, open files, and the client sockets still registered or still open, while the loop runs."""
    _raise_if_stopped()
    selector: _RememberingSelector = _loop["selector"]
    server = _loop["server"]
    clients = [key.fileobj for key in _keys(selector) if key.fileobj is not server]
    closed = [conn for conn in clients if isinstance(conn, socket.socket) and conn.fileno() == -1]
    registered = {id(conn) for conn in clients}
    forgotten = [
        conn
        for conn in selector.seen
        if isinstance(conn, socket.socket) and conn is not server and id(conn) not in registered and conn.fileno() != -1
    ]
    return {
        "threads": thread_count(),
        "fds": open_fd_count(),
        "registered_open": len(clients) - len(closed),
        "registered_closed": len(closed),
        "unregistered_open": len(forgotten),
    }
