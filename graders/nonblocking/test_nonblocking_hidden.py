"""More checks of exercises/nonblocking, kept out of students' repositories: they run in Classroom CI only.

serve() runs with correct helpers (probes_hidden.py) and is driven by 200 real clients; its threads and open
files are counted from outside, in /proc.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time

import pytest

from graders.harness.core import observe
from graders.harness.core.curriculum import say
from graders.harness.core.network import free_port
from graders.nonblocking import probes, probes_hidden
from graders.nonblocking.test_nonblocking import CLIENTS, _crashed

pytestmark = pytest.mark.hidden


def _read_exactly(client: socket.socket, size: int) -> bytes:
    received = bytearray()
    with contextlib.suppress(OSError):
        while len(received) < size and (chunk := client.recv(65536)):
            received += chunk
    return bytes(received)


@pytest.mark.task(5)
def test_serve_echoes_200_clients_at_once_in_one_thread_and_closes_their_sockets(student):
    port = free_port()
    student.run(probes.still_running)
    threads_before = observe.threads(student.pid)
    student.run(probes_hidden.start_serve, port)
    files_before = observe.open_files(student.pid)
    clients: list[socket.socket] = []
    try:
        silent = socket.create_connection(("127.0.0.1", port), timeout=1.5)
        clients.append(silent)
        talkers = [socket.create_connection(("127.0.0.1", port), timeout=1.5) for _ in range(CLIENTS)]
        clients += talkers
        messages = [f"client {n} says {random.getrandbits(48):x}\n".encode() for n in range(1, CLIENTS + 1)]
        for client, message in zip(talkers, messages, strict=True):
            client.sendall(message)
        for number, (client, message) in enumerate(zip(talkers, messages, strict=True), 1):
            got = _read_exactly(client, len(message))
            if got != message:
                _crashed(student)
                where = student.where()
                pytest.fail(
                    say(
                        f"client {number} of {CLIENTS}, all connected at once beside a silent one, sent {message!r} "
                        f"and got back {got!r} within 1.5 s. serve() should loop forever: accept_clients, "
                        f"read_clients, then send_pending for every client ({where})",
                        f"{CLIENTS} 个客户端和一个不说话的客户端同时连着，其中客户端 {number} 发送了 {message!r}，"
                        f"1.5 秒内收回的是 {got!r}。serve() 应当永远循环下去：accept_clients、read_clients，"
                        f"再对每个客户端调用 send_pending（{where}）",
                    ),
                    pytrace=False,
                )
        threads = observe.threads(student.pid)
        if threads is not None and threads_before is not None:
            assert threads <= threads_before + 1, say(
                f"with {CLIENTS + 1} clients connected the server process had {threads - threads_before} more "
                "threads than before serve() started; expected 1, the one running serve(): serve every client "
                "from that thread, with non-blocking sockets",
                f"连着 {CLIENTS + 1} 个客户端时，服务器进程比 serve() 启动之前多了 {threads - threads_before} 个线程；"
                "应当只多 1 个，就是运行 serve() 的那个：用非阻塞套接字，在这一个线程里服务所有客户端",
            )
    finally:
        for client in clients:
            client.close()
    files = observe.settle(lambda: observe.open_files(student.pid), files_before or 0, 1.5)
    if files is not None and files_before is not None:
        assert files <= files_before, say(
            f"1.5 s after all {CLIENTS + 1} clients left, the server process still had {files - files_before} more "
            "open files than before they came: a client whose recv() returns b'' has left; remove it from "
            "conn_list and close its socket",
            f"全部 {CLIENTS + 1} 个客户端离开 1.5 秒后，服务器进程打开的文件仍比它们到来之前多 {files - files_before} "
            "个：recv() 返回 b'' 的客户端已经离开；把它从 conn_list 中移除并关闭它的套接字",
        )


@pytest.mark.task(5)
def test_serve_keeps_every_byte_for_a_client_that_reads_late(student):
    port = free_port()
    student.run(probes_hidden.start_serve, port)
    data = random.randbytes(2 << 20)
    big = socket.socket()
    big.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, probes.SMALL_BUFFER)
    big.settimeout(1.5)
    def send_everything() -> None:
        with contextlib.suppress(OSError):
            big.sendall(data)

    sender = threading.Thread(target=send_everything, daemon=True)
    try:
        big.connect(("127.0.0.1", port))
        sender.start()
        with socket.create_connection(("127.0.0.1", port), timeout=1.5) as talker:
            message = f"talker {random.getrandbits(48):x}".encode()
            talker.sendall(message)
            got = _read_exactly(talker, len(message))
        if got != message:
            _crashed(student)
            where = student.where()
            pytest.fail(
                say(
                    f"while one client sent 2 MB and read nothing, another sent {message!r} and got back {got!r} "
                    f"within 1.5 s: a client that does not read must not stall the others ({where})",
                    f"一个客户端发送 2 MB 数据、什么都不读时，另一个客户端发送了 {message!r}，1.5 秒内收回的是 "
                    f"{got!r}：一个不读数据的客户端不能拖住其他客户端（{where}）",
                ),
                pytrace=False,
            )
        time.sleep(0.3)
        echoed = _read_exactly(big, len(data))
    finally:
        with contextlib.suppress(OSError):
            big.shutdown(socket.SHUT_RDWR)
        big.close()
        if sender.is_alive():
            sender.join(2)
    if echoed != data:
        _crashed(student)
        prefix = data.startswith(echoed)
        lost = "got back only" if prefix else "got back a different stream of"
        lost_zh = f"只收回了 {len(echoed)} 字节" if prefix else f"收回的 {len(echoed)} 字节是另一串不同的数据"
        pytest.fail(
            say(
                f"a client sent 2 MB, read nothing for a while, then read everything, and {lost} {len(echoed)} "
                "bytes: when send() would block (BlockingIOError) or takes only part, the rest must wait in "
                "outbox[conn] for the next pass; serve() should echo only through send_pending",
                f"一个客户端发送了 2 MB，先有一阵什么都不读，然后全部读取，结果{lost_zh}：send() 会阻塞"
                "（BlockingIOError）或只发出一部分时，剩下的必须留在 outbox[conn] 里等下一轮；"
                "serve() 只应通过 send_pending 回显",
            ),
            pytrace=False,
        )
