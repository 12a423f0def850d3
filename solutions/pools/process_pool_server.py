"""The outline's 使用池来实现并发服务器 with processes: a Pool of processes, each serving clients with a thread pool."""

import multiprocessing
import socket
from multiprocessing.pool import ThreadPool


def handle(conn: socket.socket) -> None:
    """Send back everything this client sends, until it closes the connection; then close it too."""
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def work_process(server: socket.socket) -> None:
    """What each process of the pool runs: accept clients on `server` forever and hand each one to a thread
    pool of 2 * cpu_count() threads, as the outline's work_process does."""
    threads = ThreadPool(2 * multiprocessing.cpu_count())
    while True:
        conn, _address = server.accept()
        threads.apply_async(handle, (conn,))


def serve(port: int) -> None:
    """Listen on 127.0.0.1:port and serve clients forever with a Pool of cpu_count() processes, each running
    work_process on the listening socket."""
    server = socket.create_server(("127.0.0.1", port), backlog=128)
    count = multiprocessing.cpu_count()
    pool = multiprocessing.Pool(count)
    for _ in range(count):
        # The socket is an argument: the pool sends it to the process that takes this task.
        pool.apply_async(work_process, (server,))
    pool.close()
    pool.join()  # the work_process calls never end: this serves forever
