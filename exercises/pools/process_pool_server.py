"""The outline's 使用池来实现并发服务器 with processes: a Pool of processes, each serving clients with a thread pool."""

import multiprocessing  # noqa: F401  (you will need it)
import socket
from multiprocessing.pool import ThreadPool  # noqa: F401  (you will need it)


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close it too."""
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def work_process(server: socket.socket) -> None:
    """What each process of the pool runs: accept clients on `server` forever and hand each one to a thread
    pool of 2 * cpu_count() threads, as the outline's work_process does."""
    # TODO(task 6): make a ThreadPool(2 * multiprocessing.cpu_count()); then loop: accept() and apply_async(handle).
    raise NotImplementedError("task 6")


def serve(port: int) -> None:
    """Listen on 127.0.0.1:port and serve clients forever with a Pool of cpu_count() processes, each running
    work_process on the listening socket."""
    # TODO(task 6): listen on ("127.0.0.1", port); make multiprocessing.Pool(multiprocessing.cpu_count()); hand it
    # work_process with the socket as its argument once per process (apply_async); then close() and join() it.
    raise NotImplementedError("task 6")
