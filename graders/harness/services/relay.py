"""A TCP relay in front of a service: the same server at another address, and a count of who came through.

Tasks in which students build a client themselves from a URL (redis and mongodb `connect()`) hand them the
relay's address instead of the server's. A client that really uses the URL's host and port connects through
the relay; one that hard-codes the usual address (`localhost:6379`, the port the check printed) reaches the
server directly, and the relay, in the grader's process, sees nobody come. While a class is graded, a guard
(guard.py) reads what the relay carries as the student's own. May import `core` and `services`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from graders.harness.services import guard

# Schemes whose URLs name one plain TCP address that a byte-for-byte relay can stand in front of.
RELAYABLE = {"redis", "mongodb"}


class Relay:
    """Listens on 127.0.0.1 (a free port) and joins each client it accepts to the server at (host, port)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self._sockets: list[socket.socket] = []
        self._ports: list[int] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="service-relay", daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        """How many clients have connected through the relay so far."""
        with self._lock:
            return self.accepted

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                server = self._connect()
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    server.close()
                    return
                # Counted before any byte is relayed: a client has its first answer only once this is done.
                self.accepted += 1
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), name="service-relay-pump",
                                 daemon=True).start()

    def _connect(self) -> socket.socket:
        """A connection to the server that a guard (services/guard.py) reads as the student's own: the relay
        carries the student's bytes, with the grader's uid."""
        host, port = self.upstream
        if host not in ("127.0.0.1", "localhost"):
            return socket.create_connection(self.upstream, timeout=10)
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind(("127.0.0.1", 0))
            self._ports.append(guard.acting_for_student(server))
            server.settimeout(10)
            server.connect(("127.0.0.1", port))
            server.settimeout(None)
        except OSError:
            server.close()
            raise
        return server

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        with contextlib.suppress(OSError):
            self.listener.close()
        for port in self._ports:
            guard.done_acting(port)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def through(url: str, relay: Relay) -> str:
    """`url` with its host and port replaced by the relay's; credentials, path and options kept."""
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@" if userinfo else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{relay.port}"))


@contextlib.contextmanager
def relayed(url: str, default_port: int) -> Iterator[tuple[str, Relay | None]]:
    """(the URL to give the student, the relay), or (url, None) where no relay can stand in front of the URL:
    TLS (`rediss://`, `mongodb+srv://`, `tls=true`), several hosts, or a unix socket."""
    parts = urlsplit(url)
    plain = (
        parts.scheme in RELAYABLE
        and "," not in parts.netloc
        and not {"tls=true", "ssl=true"} & set(parts.query.lower().split("&"))
        and parts.hostname is not None
    )
    if not plain:
        yield url, None
        return
    relay = Relay(parts.hostname, parts.port or default_port)
    try:
        yield through(url, relay), relay
    finally:
        relay.close()
