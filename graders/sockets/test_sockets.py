"""Grades exercises/sockets: the listening socket, handle() for any message, the accept loop, the client; and
the same over UDP: a server that answers each datagram to its sender, and a client that sends again when a
datagram is lost."""

from __future__ import annotations

import contextlib
import random
import selectors
import socket
import threading
import time
from pathlib import Path

import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.network import exchange, free_port, free_udp_port
from graders.harness.core.student import TimedOut
from graders.sockets import probes

# send() in the worker takes at most this many bytes per call: a forgotten send loop loses data every time.
SERVER_SEND_LIMIT = 1000
CLIENT_SEND_LIMIT = 65536
MEGABYTE = 1 << 20


def _unread(local_port: int, remote_port: int) -> int | None:
    """Bytes that the loopback socket (local_port -> remote_port) has received but its program has not read;
    None where /proc/net/tcp does not exist."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    local, remote = f":{local_port:04X}", f":{remote_port:04X}"
    for line in text.splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(local) and fields[2].endswith(remote):
            return int(fields[4].split(":")[1], 16)
    return 0


def _wait_until_read(local_port: int, remote_port: int, limit: float = 1.0) -> None:
    """Wait until the program at the other end has read everything sent so far (or has gone), so that what
    is sent next arrives separately however busy the machine is. Without /proc, wait a little instead."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        unread = _unread(local_port, remote_port)
        if unread is None:
            time.sleep(0.05)
            return
        if unread == 0:
            return
        time.sleep(0.005)


def _pieces(data: bytes, largest: int) -> list[bytes]:
    pieces, start = [], 0
    while start < len(data):
        size = random.randint(1, largest)
        pieces.append(data[start : start + size])
        start += size
    return pieces


def _read_to_end(client: socket.socket, into: bytearray) -> str:
    """Read until the server closes: "closed", "reset", or "silent" when nothing came for the timeout."""
    try:
        while chunk := client.recv(65536):
            into += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return "closed"


def _crashed(student) -> None:
    """Fail with the student's crashed thread, if one crashed (the harness reports it on the next call)."""
    student.run(probes.still_running)


# -- task 1 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_make_server_listens_on_loopback_and_can_restart_at_once(student):
    port = free_port()
    facts = student.run(probes.make_and_restart, port)
    assert facts["family"] == "AF_INET" and facts["type"] == "SOCK_STREAM", say(
        f"make_server() returned a {facts['family']} {facts['type']} socket; a TCP server over IPv4 needs "
        "socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
        f"make_server() 返回的是 {facts['family']} {facts['type']} 套接字；基于 IPv4 的 TCP 服务器需要 "
        "socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
    )
    assert facts["address"] == ["127.0.0.1", port], say(
        f"make_server({port}) is bound to {tuple(facts['address'])}; expected ('127.0.0.1', {port}): "
        "bind to the loopback address, so only programs on this machine can connect",
        f"make_server({port}) 绑定在 {tuple(facts['address'])} 上；应当是 ('127.0.0.1', {port})："
        "绑定到回环地址，这样只有本机上的程序才能连接",
    )
    assert facts["listening"], say(
        f"make_server({port}) returned a socket that does not listen: call listen() on it",
        f"make_server({port}) 返回的套接字没有在监听：对它调用 listen()",
    )
    assert facts["restart_error"] is None, say(
        f"the second make_server({port}) failed with {facts['restart_error']}: the first server's connection "
        "is still in TIME_WAIT on that port. Set SO_REUSEADDR before bind(): "
        "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        f"第二次调用 make_server({port}) 失败了：{facts['restart_error']}。第一个服务器的连接仍在这个端口上处于 "
        "TIME_WAIT。在 bind() 之前设置 SO_REUSEADDR："
        "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    )


# -- task 2 ----------------------------------------------------------------------------------------------------


def _judge_echo(
    student, message: bytes, received: bytearray, ending: str, how_sent: str, how_sent_zh: str
) -> None:
    """The messages for an echo that went wrong, most basic cause first (`how_sent` in English and Chinese)."""
    got = compare(bytes(received), message)
    if not got["equal"]:
        _crashed(student)
        if not got["prefix"]:
            pytest.fail(
                say(
                    f"the echo differs from the message from byte {got['first_difference']} on ({len(received)} of "
                    f"{len(message)} bytes came back): send() may send only part of what you give it and returns "
                    "how much it sent; use conn.sendall(data), which repeats until everything is sent",
                    f"回显从字节 {got['first_difference']} 起与消息不同（{len(message)} 字节中收回了 "
                    f"{len(received)} 字节）：send() 可能只发出你给它的数据的一部分，并返回发出了多少；"
                    "用 conn.sendall(data)，它会一直重复，直到全部发出",
                ),
                pytrace=False,
            )
        if ending == "silent":
            where = student.where()
            then = f"then sent nothing more for 1.5 s ({where})"
            then_zh = f"然后 1.5 秒内再也没有发送任何数据（{where}）"
        else:
            then = f"then {ending} the connection"
            then_zh = {"closed": "然后关闭了连接", "reset": "然后重置了连接"}.get(ending, f"然后 {ending} 了连接")
        pytest.fail(
            say(
                f"the server sent back only the first {len(received)} of {len(message)} bytes and {then}. The "
                f"message {how_sent}, and recv() returns only what has arrived so far: call recv() in a loop until "
                "it returns b''",
                f"服务器只发回了 {len(message)} 字节中的前 {len(received)} 字节，{then_zh}。这条消息{how_sent_zh}，"
                "而 recv() 只返回目前已经到达的数据：循环调用 recv()，直到它返回 b''",
            ),
            pytrace=False,
        )
    if ending != "closed":
        where = student.where()
        pytest.fail(
            say(
                f"the server echoed all {len(message)} bytes but did not close the connection within 1.5 s after "
                "the client closed its side: when recv() returns b'' the client has gone; leave the loop and close "
                f"conn ({where})",
                f"服务器回显了全部 {len(message)} 字节，但在客户端关闭它那一端之后 1.5 秒内没有关闭连接："
                f"recv() 返回 b'' 说明客户端已经离开；跳出循环并关闭 conn（{where}）",
            ),
            pytrace=False,
        )
    record = student.run(probes.handled, 1.0)
    assert record and record["returned"], student.where_in(lambda where: say(
        f"the connection is closed, but handle() has not returned: {where}",
        f"连接已经关闭，但 handle() 还没有返回：{where}",
    ))
    assert record["closed"], say(
        "handle() returned without closing conn: call conn.close() (or use `with conn:`)",
        "handle() 返回了，却没有关闭 conn：调用 conn.close()（或者用 `with conn:`）",
    )


@pytest.mark.task(2)
def test_handle_echoes_a_message_that_arrives_in_small_pieces(student):
    port = free_port()
    student.run(probes.start_handler, port, SERVER_SEND_LIMIT)
    message = random.randbytes(random.randint(1500, 3000))
    pieces = _pieces(message, 300)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=1.5) as client:
        me = client.getsockname()[1]
        try:
            for number, piece in enumerate(pieces):
                client.sendall(piece)
                if number == 0:
                    _wait_until_read(port, me)
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server has gone already; what came back tells why
        ending = _read_to_end(client, received)
    _judge_echo(
        student, message, received, ending, f"was sent in {len(pieces)} pieces", f"是分成 {len(pieces)} 段发送的"
    )


@pytest.mark.task(2)
def test_handle_echoes_a_megabyte(student):
    port = free_port()
    student.run(probes.start_handler, port, SERVER_SEND_LIMIT)
    message = random.randbytes(MEGABYTE)
    received = bytearray()

    def send_everything(client: socket.socket) -> None:
        try:
            client.sendall(message)
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    with socket.create_connection(("127.0.0.1", port), timeout=1.5) as client:
        # Send and read at once: the server echoes while the megabyte is still coming in.
        sender = threading.Thread(target=send_everything, args=(client,), daemon=True)
        sender.start()
        ending = _read_to_end(client, received)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)  # unblocks the sender if the server stopped reading
        sender.join(2)
    _judge_echo(
        student, message, received, ending, "was a megabyte, far more than one recv() returns",
        "有 1 MB，远远多于一次 recv() 能返回的量",
    )


# -- task 3 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_serve_serves_clients_one_after_another(student):
    port = free_port()
    student.run(probes.start_serve, port)
    messages = [f"client {n} says {random.randbytes(8).hex()}".encode() for n in (1, 2, 3)]
    first = socket.create_connection(("127.0.0.1", port), timeout=1.5)
    second = None
    try:
        got = exchange(first, messages[0])
        if got != messages[0]:
            _crashed(student)
            where = student.where()
            pytest.fail(
                say(
                    f"the first client got no echo ({got}): serve() should accept() a connection and pass it to "
                    f"handle() ({where})",
                    f"第一个客户端没有收到回显（{got}）：serve() 应当 accept() 一个连接，并把它交给 handle()"
                    f"（{where}）",
                ),
                pytrace=False,
            )
        second = socket.create_connection(("127.0.0.1", port), timeout=1.5)
        second.sendall(messages[1])
        first.close()
        received = bytearray()
        ending = _read_until(second, received, len(messages[1]))
        if bytes(received) != messages[1]:
            _crashed(student)
            why, why_zh = {
                "reset": (
                    "its connection was reset: was the listening socket closed after the first client?",
                    "它的连接被重置了：是不是在第一个客户端之后关闭了监听套接字？",
                ),
                "closed": ("its connection was closed without an echo", "它的连接没有回显就被关闭了"),
                "silent": ("nothing came within 1.5 s", "1.5 秒内什么也没有收到"),
            }[ending]
            where = _serve_where(student)
            pytest.fail(
                say(
                    "a second client connected while the first was being served; once the first left, it got no "
                    f"echo: {why}. After handle() returns, serve() must go back to accept() for the next client "
                    f"({where})",
                    f"第二个客户端在第一个客户端被服务时连了进来；第一个离开后，它没有收到回显：{why_zh}"
                    f"{'' if why_zh.endswith('？') else '。'}handle() 返回之后，serve() 必须回到 accept()，"
                    f"接受下一个客户端（{where}）",
                ),
                pytrace=False,
            )
        second.close()
        with socket.create_connection(("127.0.0.1", port), timeout=1.5) as third:
            got = exchange(third, messages[2])
        if got != messages[2]:
            _crashed(student)
            where = _serve_where(student)
            pytest.fail(
                say(
                    f"a third client, after the first two had left, got no echo ({got}): serve() must accept "
                    f"clients forever ({where})",
                    f"前两个客户端离开之后，第三个客户端没有收到回显（{got}）：serve() 必须永远不停地接受客户端"
                    f"（{where}）",
                ),
                pytrace=False,
            )
    finally:
        first.close()
        if second is not None:
            second.close()


def _serve_where(student) -> str:
    where = student.where()
    nobody = where == say("no thread was running your code", "没有线程在运行你的代码")  # as student.where() says it
    return say("serve() has returned", "serve() 已经返回了") if nobody else where


def _read_until(client: socket.socket, into: bytearray, size: int) -> str:
    try:
        while len(into) < size:
            chunk = client.recv(65536)
            if not chunk:
                return "closed"
            into += chunk
    except TimeoutError:
        return "silent"
    except OSError:
        return "reset"
    return "done"


# -- task 4 ----------------------------------------------------------------------------------------------------


class ReplyServer(threading.Thread):
    """The grader's echo server for the student's client: it reads the whole message, then replies in small
    pieces (the second only once the client has read the first), and keeps the connection open
    until the client closes it. With `reply_only`, it sends that many bytes of the reply and hangs up."""

    def __init__(self, size: int, largest_piece: int, reply_only: int | None = None) -> None:
        super().__init__(name="grader-echo-server", daemon=True)
        self.size = size
        self.largest_piece = largest_piece
        self.reply_only = reply_only
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # short waits, so that stop() ends the thread at once
        self.stopping = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.connected = False
        self.received = 0
        self.replied = False

    def run(self) -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                conn, (_, client_port) = self.listener.accept()
                break
            except TimeoutError:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    return
            except OSError:
                return
        self.conn, self.connected = conn, True
        with conn:
            conn.settimeout(1)
            message = bytearray()
            try:
                while len(message) < self.size and (chunk := conn.recv(65536)):
                    message += chunk
            except OSError:
                pass
            self.received = len(message)
            if len(message) < self.size:
                return
            reply = bytes(message[: self.reply_only or self.size])
            try:
                for number, piece in enumerate(_pieces(reply, self.largest_piece)):
                    conn.sendall(piece)
                    if number == 0:
                        _wait_until_read(client_port, self.port)
                self.replied = True
                if self.reply_only is None:
                    conn.settimeout(3)
                    conn.recv(1)
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        self.join(0.2)  # accept() wakes up every 0.05 s to see this
        self.listener.close()
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.shutdown(socket.SHUT_RDWR)
        self.join(2)


def compare(reply: bytes, message: bytes) -> dict:
    equal = reply == message
    prefix = equal or message.startswith(reply)
    first_difference = None
    if not prefix:
        pairs = enumerate(zip(reply, message, strict=False))
        first_difference = next((i for i, (a, b) in pairs if a != b), min(len(reply), len(message)))
    return {"equal": equal, "prefix": prefix, "first_difference": first_difference}


def _run_echo(student, server: ReplyServer, seed: int, timeout: float) -> dict:
    student.run(probes.still_running)  # the worker is up before the server starts waiting for it
    server.start()
    try:
        got = student.run(probes.call_echo, server.port, seed, server.size, CLIENT_SEND_LIMIT, timeout=timeout)
    except TimedOut as error:
        return {"stuck": error.message}
    finally:
        server.stop()
    if "reply" in got:  # compared here: the worker only hands back what echo() returned
        reply = got.pop("reply")
        got.update(length=len(reply), **compare(reply, probes.random_message(seed, server.size)))
    return got


def _judge_reply(server: ReplyServer, message: bytes, got: dict) -> None:
    size = len(message)
    if "stuck" not in got:
        raised = f"; echo() raised {got['raised']}" if "raised" in got else ""
        raised_zh = f"；echo() 抛出了 {got['raised']}" if "raised" in got else ""
        assert server.connected, say(
            f"the server at ('127.0.0.1', {server.port}) saw no connection from echo(){raised}: connect to the "
            "address it is given",
            f"('127.0.0.1', {server.port}) 上的服务器没有收到 echo() 的连接{raised_zh}：连接传给它的那个地址",
        )
    assert server.received == size, say(
        f"the server received only {server.received} of the {size} bytes of your message: send() sends only "
        "what fits at that moment and returns how many bytes that was; use sendall(), which repeats until "
        "everything is sent",
        f"你的消息有 {size} 字节，服务器只收到了 {server.received} 字节：send() 只发出当时放得下的部分，"
        "并返回发出的字节数；用 sendall()，它会一直重复，直到全部发出",
    )
    if "stuck" in got:
        pytest.fail(
            say(
                "the server sent the whole reply, but echo() did not return"
                + (": it kept waiting for more. Stop reading once len(message) bytes have arrived; an echo server "
                   "does not close first" if server.replied else "")
                + f" ({got['stuck']})",
                "服务器已经发完了整个回复，但 echo() 没有返回"
                + ("：它还在等更多的数据。收到 len(message) 个字节后就停止读取；回显服务器不会先关闭连接"
                   if server.replied else "")
                + f"（{got['stuck']}）",
            ),
            pytrace=False,
        )
    assert "raised" not in got, say(
        f"echo() raised {got.get('raised')}, although the server sent the whole reply",
        f"echo() 抛出了 {got.get('raised')}，可是服务器已经发完了整个回复",
    )
    assert got["prefix"], say(
        f"echo() returned {got['length']} bytes that differ from the message from byte {got['first_difference']} "
        "on: return exactly the bytes that recv() gave you, in order",
        f"echo() 返回了 {got['length']} 字节，从字节 {got['first_difference']} 起与消息不同："
        "按顺序原样返回 recv() 给你的字节",
    )
    assert got["equal"], say(
        f"echo() returned {got['length']} of the {size} bytes of the reply: it arrives in pieces, and one recv() "
        "returns only what has arrived so far. Call recv() in a loop until len(message) bytes have come back",
        f"回复有 {size} 字节，echo() 只返回了 {got['length']} 字节：回复是分段到达的，一次 recv() 只返回目前已经"
        "到达的数据。循环调用 recv()，直到收回 len(message) 个字节",
    )


@pytest.mark.task(4)
def test_echo_reads_a_reply_that_arrives_in_small_pieces(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, random.randint(2000, 4000))
    server = ReplyServer(len(message), largest_piece=400)
    got = _run_echo(student, server, seed, timeout=3)
    _judge_reply(server, message, got)


@pytest.mark.task(4)
def test_echo_sends_and_receives_a_megabyte(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, MEGABYTE)
    server = ReplyServer(len(message), largest_piece=32768)
    got = _run_echo(student, server, seed, timeout=4)
    _judge_reply(server, message, got)


@pytest.mark.task(4)
def test_echo_raises_connection_error_when_the_server_hangs_up_early(student):
    seed = random.getrandbits(32)
    message = probes.random_message(seed, random.randint(3000, 5000))
    half = len(message) // 2
    server = ReplyServer(len(message), largest_piece=500, reply_only=half)
    got = _run_echo(student, server, seed, timeout=2)
    if "stuck" in got:
        pytest.fail(
            say(
                f"the server sent {half} of {len(message)} bytes and closed the connection, and echo() never "
                "returned: recv() returns b'' from then on, forever; raise ConnectionError when it does "
                f"({got['stuck']})",
                f"服务器发送了 {len(message)} 字节中的 {half} 字节后关闭了连接，而 echo() 一直没有返回：从那以后 "
                f"recv() 会永远返回 b''；收到 b'' 时就抛出 ConnectionError（{got['stuck']}）",
            ),
            pytrace=False,
        )
    assert "raised" in got, say(
        f"the server sent {half} of {len(message)} bytes and closed the connection, and echo() returned "
        f"{got.get('length')} bytes as if all was well: when recv() returns b'' the rest will never come; "
        "raise ConnectionError",
        f"服务器发送了 {len(message)} 字节中的 {half} 字节后关闭了连接，而 echo() 却像一切正常一样返回了 "
        f"{got.get('length')} 字节：recv() 返回 b'' 时，剩下的数据永远不会来了；抛出 ConnectionError",
    )
    assert got["connection_error"], say(
        f"the server closed the connection half-way and echo() raised {got['raised']}; raise ConnectionError "
        "as soon as recv() returns b''",
        f"服务器中途关闭了连接，echo() 抛出了 {got['raised']}；一旦 recv() 返回 b''，就应当抛出 ConnectionError",
    )


# -- task 5 ----------------------------------------------------------------------------------------------------

UDP_SECONDS = 5.0  # how long a client waits for its replies; correct code answers within milliseconds


def _udp_table(port: int) -> list[dict] | None:
    """The UDP sockets bound to `port`, from /proc/net/udp: local IP, remote address (a UDP socket has one only
    after connect()), bytes waiting to be read. None where /proc/net/udp does not exist."""
    try:
        text = Path("/proc/net/udp").read_text()
    except OSError:
        return None
    entries = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        local_ip, local_port = fields[1].split(":")
        if int(local_port, 16) != port:
            continue
        remote_port = fields[2].split(":")[1]
        entries.append(
            {
                "local": socket.inet_ntoa(bytes.fromhex(local_ip)[::-1]),
                "connected": int(remote_port, 16) != 0,
                "waiting": int(fields[4].split(":")[1], 16),
            }
        )
    return entries


def _wait_until_queued(port: int) -> None:
    """Wait until the datagrams just sent wait in the server's socket (no more arrive within 20 ms), so that
    serve_udp finds them all there when it starts. Without /proc, wait a little instead."""
    deadline, last = time.monotonic() + 1, -1
    while time.monotonic() < deadline:
        table = _udp_table(port)
        if table is None:
            time.sleep(0.1)
            return
        waiting = sum(entry["waiting"] for entry in table)
        if waiting and waiting == last:
            return
        last = waiting
        time.sleep(0.02)


def _udp_client() -> socket.socket:
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    return client


def _udp_replies(student, clients: list[socket.socket], expected: list[int]) -> list[list[tuple[bytes, tuple]]]:
    """Every datagram each client receives within UDP_SECONDS (until each has its `expected` count), with its
    sender. Whenever nothing arrives for a quarter of a second, the worker is asked whether serve_udp still
    runs, so a server that stopped is reported at once, with its reason."""
    replies: list[list[tuple[bytes, tuple]]] = [[] for _ in clients]
    with selectors.DefaultSelector() as selector:
        for index, client in enumerate(clients):
            client.setblocking(False)
            selector.register(client, selectors.EVENT_READ, index)
        deadline = time.monotonic() + UDP_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            if all(len(got) >= want for got, want in zip(replies, expected, strict=True)):
                break
            ready = selector.select(min(left, 0.25))
            if not ready:
                student.run(probes.udp_state)  # raises with the reason when serve_udp has stopped
            for key, _mask in ready:
                with contextlib.suppress(BlockingIOError, ConnectionRefusedError):
                    data, sender = key.fileobj.recvfrom(65535)
                    replies[key.data].append((data, sender))
    return replies


def _start_udp_server(student, port: int) -> None:
    facts = student.run(probes.make_udp, port)
    assert facts["type"] == "SOCK_DGRAM", say(
        f"make_udp_server() returned a {facts['type']} socket: that is TCP, with connections and a stream of "
        "bytes. A UDP socket is socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        f"make_udp_server() 返回的是 {facts['type']} 套接字：那是 TCP，有连接，传的是字节流。UDP 套接字是 "
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
    )
    assert facts["family"] == "AF_INET", say(
        f"make_udp_server() returned an {facts['family']} socket; UDP over IPv4 is socket.AF_INET",
        f"make_udp_server() 返回的是 {facts['family']} 套接字；基于 IPv4 的 UDP 要用 socket.AF_INET",
    )
    assert facts["address"] == ["127.0.0.1", port], say(
        f"make_udp_server({port}) is bound to {facts['address']}; expected ('127.0.0.1', {port}): bind the "
        "socket to the loopback address and the port it is given",
        f"make_udp_server({port}) 绑定在 {facts['address']} 上；应当是 ('127.0.0.1', {port})：把套接字绑定到"
        "回环地址和传给它的端口",
    )


def _from_server(port: int, replies: list[tuple[bytes, tuple]], who: str, who_zh: str) -> None:
    for _data, sender in replies:
        assert tuple(sender) == ("127.0.0.1", port), say(
            f"{who} got a reply from {tuple(sender)}, not from the server's address ('127.0.0.1', {port}): a "
            "client that sent to the server takes only replies from there. Answer with server.sendto(...) on the "
            "socket that received the datagram, not from a new socket",
            f"{who_zh}收到的回复来自 {tuple(sender)}，而不是服务器的地址 ('127.0.0.1', {port})：向服务器发送数据的"
            "客户端只接收来自那里的回复。用收到这个数据报的那个套接字 server.sendto(...) 回复，不要用新的套接字",
        )


@pytest.mark.task(5)
def test_udp_server_answers_each_datagram_whole_and_on_its_own(student):
    port = free_udp_port()
    _start_udp_server(student, port)
    datagrams = [random.randbytes(size) for size in (random.randint(5, 40), random.randint(300, 900), 6000)]
    with _udp_client() as client:
        for datagram in datagrams:  # sent before serve_udp starts: all three wait in the socket together
            client.sendto(datagram, ("127.0.0.1", port))
        _wait_until_queued(port)
        student.run(probes.start_udp)
        (replies,) = _udp_replies(student, [client], [len(datagrams)])
    sizes = " + ".join(str(len(datagram)) for datagram in datagrams)
    if not replies:
        where = student.where()
        pytest.fail(
            say(
                f"a client sent three datagrams ({sizes} bytes) to ('127.0.0.1', {port}) and got no reply within "
                f"{UDP_SECONDS:g} s: serve_udp() should recvfrom() each datagram and sendto() it back to the "
                f"address recvfrom() returned with it ({where})",
                f"一个客户端向 ('127.0.0.1', {port}) 发送了三个数据报（{sizes} 字节），{UDP_SECONDS:g} 秒内没有收到"
                "任何回复：serve_udp() 应当 recvfrom() 每个数据报，再用 sendto() 把它发回 recvfrom() 随它一起返回的"
                f"地址（{where}）",
            ),
            pytrace=False,
        )
    _from_server(port, replies, "the client", "客户端")
    got = [data for data, _sender in replies]
    for data in got:
        if data in datagrams:
            continue
        joined = [
            (first, last)
            for first in range(len(datagrams))
            for last in range(first + 2, len(datagrams) + 1)
            if data == b"".join(datagrams[first:last])
        ]
        if joined:
            first, last = joined[0]
            parts = " and ".join(str(len(datagram)) for datagram in datagrams[first:last])
            parts_zh = "、".join(str(len(datagram)) for datagram in datagrams[first:last])
            pytest.fail(
                say(
                    f"the client sent {last - first} datagrams of {parts} bytes and got them back joined in one "
                    f"reply of {len(data)} bytes. A datagram is a message of its own, kept whole and apart from the "
                    "others: answer each recvfrom() with one sendto() of exactly what it returned",
                    f"客户端发送了 {last - first} 个数据报（分别为 {parts_zh} 字节），收回的却是把它们拼在一起的一个 "
                    f"{len(data)} 字节的回复。数据报本身就是一条独立的消息，保持完整，与其他数据报互不相干：对每次 "
                    "recvfrom()，用一次 sendto() 原样发回它返回的内容",
                ),
                pytrace=False,
            )
        cut = next((datagram for datagram in datagrams if datagram.startswith(data)), None)
        if cut is not None:
            pytest.fail(
                say(
                    f"the client sent a datagram of {len(cut)} bytes and got back only its first {len(data)}: "
                    f"recvfrom(n) returns at most n bytes of a datagram and throws the rest of it away (it does not "
                    f"wait for a next recv as TCP does). Receive with recvfrom(MAX_DATAGRAM), 65535 bytes, the "
                    "largest a datagram can be",
                    f"客户端发送了一个 {len(cut)} 字节的数据报，只收回了它的前 {len(data)} 字节：recvfrom(n) 最多"
                    "返回数据报的 n 个字节，其余部分直接丢弃（不会像 TCP 那样留给下一次 recv）。用 "
                    "recvfrom(MAX_DATAGRAM) 接收，也就是 65535 字节，数据报最大就这么大",
                ),
                pytrace=False,
            )
        pytest.fail(
            say(
                f"the client got a reply of {len(data)} bytes that is none of the datagrams it sent ({sizes} "
                "bytes): send back exactly the bytes recvfrom() returned",
                f"客户端收到了一个 {len(data)} 字节的回复，它不是客户端发出的任何一个数据报（{sizes} 字节）："
                "原样发回 recvfrom() 返回的字节",
            ),
            pytrace=False,
        )
    replied = " + ".join(str(len(data)) for data in got)
    assert sorted(got) == sorted(datagrams), student.where_in(lambda where: say(
        f"the client sent three datagrams ({sizes} bytes) and got {len(got)} replies of "
        f"{replied or 'no'} bytes within {UDP_SECONDS:g} s: answer every "
        f"datagram exactly once ({where})",
        f"客户端发送了三个数据报（{sizes} 字节），{UDP_SECONDS:g} 秒内收到了 {len(got)} 个回复"
        f"（{replied or 0} 字节）：每个数据报都要恰好回复一次（{where}）",
    ))


@pytest.mark.task(5)
def test_udp_server_answers_several_clients_each_at_its_own_address(student):
    port = free_udp_port()
    _start_udp_server(student, port)
    student.run(probes.start_udp)
    clients = [_udp_client() for _ in range(3)]
    rounds = 3
    sent = [[f"client {n}, datagram {r}: {random.randbytes(6).hex()}".encode() for r in range(rounds)] for n in "123"]
    try:
        for r in range(rounds):
            for client, mine in zip(clients, sent, strict=True):
                client.sendto(mine[r], ("127.0.0.1", port))
        replies = _udp_replies(student, clients, [rounds] * len(clients))
        names = [client.getsockname() for client in clients]
    finally:
        for client in clients:
            client.close()
    for number, got in enumerate(replies, 1):
        _from_server(port, got, f"client {number}", f"客户端 {number} ")
    owner = {message: number for number, mine in enumerate(sent, 1) for message in mine}
    table = _udp_table(port)
    connected = bool(table) and any(entry["connected"] for entry in table)
    for number, (got, mine) in enumerate(zip(replies, sent, strict=True), 1):
        strangers = sorted({owner[data] for data, _sender in got if owner.get(data, number) != number})
        if not strangers and sorted(data for data, _sender in got) == sorted(mine):
            continue
        own = sum(data in mine for data, _sender in got)
        others = f" and {len(got) - own} that other clients had sent" if strangers else ""
        others_zh = f"，另外还收到了 {len(got) - own} 个其他客户端发出的数据报" if strangers else ""
        if connected:
            why = (
                "The server's socket is connected to one client (connect()): from then on it sends only there, "
                "and the kernel drops every datagram from anyone else. A UDP server never connects: one socket "
                "talks to every client, replying with sendto(data, address)"
            )
            why_zh = (
                "服务器的套接字连接到了某一个客户端（connect()）：从那以后它只往那里发送，内核会丢掉其他任何人发来的"
                "数据报。UDP 服务器从不 connect：一个套接字和所有客户端通信，用 sendto(data, address) 回复"
            )
        elif strangers:
            why = (
                "Each datagram must go back to its own sender: sendto(data, address) with the address that "
                "recvfrom() returned together with that datagram, not an address kept from an earlier one"
            )
            why_zh = (
                "每个数据报都必须回到它自己的发送者那里：sendto(data, address) 要用 recvfrom() 随这个数据报一起返回"
                "的地址，而不是之前保存下来的某个地址"
            )
        else:
            where = student.where()
            why = (
                "Answer every datagram, whoever sent it: UDP has no connection per client, so the one server "
                f"socket receives every client's datagrams, each with its sender's address ({where})"
            )
            why_zh = (
                "不管是谁发的，每个数据报都要回复：UDP 没有每个客户端一个的连接，所以唯一的服务器套接字会收到所有"
                f"客户端的数据报，每个都附带发送者的地址（{where}）"
            )
        pytest.fail(
            say(
                f"three clients, each at its own address, sent {rounds} datagrams each, interleaved, to one server; "
                f"client {number} {names[number - 1]} got {own} of its {rounds} back{others} within "
                f"{UDP_SECONDS:g} s. {why}",
                f"三个客户端各在自己的地址上，交替着向同一个服务器各发送了 {rounds} 个数据报；客户端 {number} "
                f"{names[number - 1]} 在 {UDP_SECONDS:g} 秒内收回了自己 {rounds} 个数据报中的 {own} 个{others_zh}。"
                f"{why_zh}",
            ),
            pytrace=False,
        )


# -- task 6 ----------------------------------------------------------------------------------------------------


class DatagramServer(threading.Thread):
    """The grader's UDP echo server for the student's client. With `lose_first`, it drops the first datagram
    (as a network may) and, from another socket, sends a stray datagram to the client meanwhile; it answers
    every later one. With `silent`, it answers nothing. It counts every datagram it receives."""

    def __init__(self, *, lose_first: bool = False, silent: bool = False) -> None:
        super().__init__(name="grader-udp-server", daemon=True)
        self.lose_first = lose_first
        self.silent = silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # short waits, so that stop() ends the thread at once
        self.port = self.sock.getsockname()[1]
        self.stray_from = _udp_client()
        self.stray_address = self.stray_from.getsockname()
        self.stray = b"not the reply: " + random.randbytes(8).hex().encode()
        self.received: list[bytes] = []
        self.stopping = threading.Event()

    def _answer(self, data: bytes, sender: tuple) -> None:
        self.received.append(data)
        if self.silent:
            return
        if self.lose_first and len(self.received) == 1:
            self.stray_from.sendto(self.stray, sender)
            return
        self.sock.sendto(data, sender)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._answer(*self.sock.recvfrom(65535))
            except TimeoutError:
                continue
            except OSError:
                return

    def stop(self) -> None:
        """Stop, and count the datagrams that had arrived but were not read yet."""
        self.stopping.set()
        self.join(2)
        self.sock.setblocking(False)
        with contextlib.suppress(OSError):
            while True:
                self.received.append(self.sock.recvfrom(65535)[0])
        self.sock.close()
        self.stray_from.close()


def _run_udp_echo(student, server: DatagramServer, seed: int, size: int, timeout: float, tries: int) -> dict:
    student.run(probes.still_running)  # the worker is up before the client is timed
    server.start()
    try:
        return student.run(
            probes.call_udp_echo, server.port, seed, size, timeout, tries, timeout=timeout * tries + 5
        )
    except TimedOut as error:
        return {"stuck": error.message}
    finally:
        server.stop()


def _judge_datagrams(server: DatagramServer, message: bytes) -> None:
    assert server.received, say(
        f"no datagram reached the grader's UDP server at ('127.0.0.1', {server.port}): udp_echo() should "
        "sendto(message, address) on a SOCK_DGRAM socket",
        f"没有任何数据报到达评分程序在 ('127.0.0.1', {server.port}) 上的 UDP 服务器：udp_echo() 应当在 "
        "SOCK_DGRAM 套接字上 sendto(message, address)",
    )
    for data in server.received:
        assert data == message, say(
            f"the server received a datagram of {len(data)} bytes, not the {len(message)}-byte message: send the "
            "whole message as one datagram, sendto(message, address); a datagram is never split or joined",
            f"服务器收到了一个 {len(data)} 字节的数据报，而不是 {len(message)} 字节的消息：把整条消息作为一个数据报"
            "发送，sendto(message, address)；数据报从不会被拆分或拼接",
        )


@pytest.mark.task(6)
def test_udp_echo_sends_again_when_a_datagram_is_lost_and_ignores_strangers(student):
    seed, size = random.getrandbits(32), random.randint(2000, 4000)
    message = probes.random_message(seed, size)
    server = DatagramServer(lose_first=True)
    # Correct code waits out one timeout for the lost datagram; tries 3 to 20 leave the reply to try 2 another
    # 2.7 s, however busy the machine (a late reply is still taken during a later try).
    timeout, tries = 0.15, 20
    got = _run_udp_echo(student, server, seed, size, timeout, tries)
    _judge_datagrams(server, message)
    if len(server.received) == 1 and ("stuck" in got or got.get("timeout_error")):
        if "stuck" in got:
            ending = (
                "never returned: recvfrom() waits forever unless the socket has a timeout. Call "
                "settimeout(timeout) and"
            )
            ending_zh = "一直没有返回：套接字没有设置超时的话，recvfrom() 会永远等下去。调用 settimeout(timeout)，并且"
        else:
            ending = "raised TimeoutError. Instead,"
            ending_zh = "抛出了 TimeoutError。应当改为："
        stuck = f" ({got['stuck']})" if "stuck" in got else ""
        stuck_zh = f"（{got['stuck']}）" if "stuck" in got else ""
        pytest.fail(
            say(
                f"the server lost your first datagram, as any network may (UDP does not notice, nor send it again), "
                f"and udp_echo(address, message, timeout={timeout:g}, tries={tries}) sent it only once and {ending} "
                f"when recvfrom() raises TimeoutError, send the message again, up to `tries` times{stuck}",
                f"服务器丢掉了你的第一个数据报，任何网络都可能这样（UDP 不会察觉，也不会重发），而 "
                f"udp_echo(address, message, timeout={timeout:g}, tries={tries}) 只发送了一次，然后{ending_zh}"
                f"在 recvfrom() 抛出 TimeoutError 时再发一次消息，一共最多发 `tries` 次{stuck_zh}",
            ),
            pytrace=False,
        )
    if "stuck" in got:
        pytest.fail(
            say(
                "the server lost your first datagram and answered the next one, but udp_echo() never returned: "
                f"return the first datagram that comes from `address` ({got['stuck']})",
                "服务器丢掉了你的第一个数据报，回复了下一个，但 udp_echo() 一直没有返回：返回第一个来自 `address` "
                f"的数据报（{got['stuck']}）",
            ),
            pytrace=False,
        )
    assert "raised" not in got, say(
        f"udp_echo() raised {got.get('raised')}, although the server answered your datagram number 2 "
        f"(it received {len(server.received)}): keep waiting for a datagram from `address` after sending again",
        f"udp_echo() 抛出了 {got.get('raised')}，可是服务器已经回复了你的第 2 个数据报（它一共收到了 "
        f"{len(server.received)} 个）：重发之后要继续等待来自 `address` 的数据报",
    )
    reply = got["reply"]
    assert reply != server.stray, say(
        f"udp_echo() returned {reply!r}, a datagram that came from {server.stray_address}, not from the "
        f"server at ('127.0.0.1', {server.port}). Without a connection anyone can send a datagram to your socket: "
        "take only one whose sender (recvfrom()'s second value) is `address`, or connect() the socket to "
        "`address` so that the kernel drops the others",
        f"udp_echo() 返回了 {reply!r}，这个数据报来自 {server.stray_address}，而不是 ('127.0.0.1', {server.port}) "
        "上的服务器。没有连接，任何人都可以往你的套接字发数据报：只接收发送者（recvfrom() 返回的第二个值）是 "
        "`address` 的数据报，或者用 connect() 把套接字连到 `address`，让内核丢掉其他人发来的数据报",
    )
    assert reply == message or not message.startswith(reply), say(
        f"udp_echo() returned the first {len(reply)} bytes of a {len(message)}-byte reply: recvfrom(n) keeps at "
        "most n bytes of a datagram and throws the rest away. Receive with recvfrom(MAX_DATAGRAM)",
        f"回复有 {len(message)} 字节，udp_echo() 只返回了前 {len(reply)} 字节：recvfrom(n) 最多保留数据报的 n 个"
        "字节，其余的直接丢弃。用 recvfrom(MAX_DATAGRAM) 接收",
    )
    assert reply == message, say(
        f"udp_echo() returned {len(reply)} bytes that are not the server's reply: return the datagram that came "
        "from `address`",
        f"udp_echo() 返回的 {len(reply)} 字节不是服务器的回复：返回来自 `address` 的那个数据报",
    )


@pytest.mark.task(6)
def test_udp_echo_gives_up_after_its_tries_with_timeout_error(student):
    seed, size = random.getrandbits(32), random.randint(20, 200)
    message = probes.random_message(seed, size)
    server = DatagramServer(silent=True)
    # Nothing comes whatever the timeout: a short one is as strict. Two tries, not the default three, so that a
    # loop that ignores `tries` is caught.
    timeout, tries = 0.1, 2
    got = _run_udp_echo(student, server, seed, size, timeout, tries)
    _judge_datagrams(server, message)
    sent = len(server.received)
    if "stuck" in got:
        if sent > tries:
            advice = f"Stop after {tries} tries and raise TimeoutError"
            advice_zh = f"试满 {tries} 次就停下，抛出 TimeoutError"
        else:
            advice = (
                "recvfrom() waits forever unless the socket has a timeout: settimeout(timeout), and raise "
                "TimeoutError once every try has timed out"
            )
            advice_zh = (
                "套接字没有设置超时的话，recvfrom() 会永远等下去：调用 settimeout(timeout)，每一次尝试都超时后"
                "抛出 TimeoutError"
            )
        pytest.fail(
            say(
                f"the server never answered, and udp_echo(address, message, timeout={timeout:g}, tries={tries}) did "
                f"not return; it had sent {sent} datagrams. {advice} ({got['stuck']})",
                f"服务器从不回复，而 udp_echo(address, message, timeout={timeout:g}, tries={tries}) 一直没有返回；"
                f"它已经发送了 {sent} 个数据报。{advice_zh}（{got['stuck']}）",
            ),
            pytrace=False,
        )
    assert "raised" in got, say(
        f"the server never answered, yet udp_echo() returned {len(got['reply'])} bytes: return only a datagram "
        "that came from `address`; when none came after every try, raise TimeoutError",
        f"服务器从不回复，udp_echo() 却返回了 {len(got['reply'])} 字节：只返回来自 `address` 的数据报；每一次尝试"
        "都没有收到时，抛出 TimeoutError",
    )
    assert got["timeout_error"], say(
        f"the server never answered and udp_echo() raised {got['raised']}; raise TimeoutError (socket.timeout is "
        "the same class) once every try has timed out",
        f"服务器从不回复，udp_echo() 抛出了 {got['raised']}；每一次尝试都超时后，应当抛出 TimeoutError"
        "（socket.timeout 就是同一个类）",
    )
    assert sent == tries, say(
        f"the server never answered and received {sent} datagrams from udp_echo(..., tries={tries}): send the "
        f"message once per try, {tries} times in all, before raising TimeoutError",
        f"服务器从不回复，它从 udp_echo(..., tries={tries}) 收到了 {sent} 个数据报：每次尝试发送一次消息，一共 "
        f"{tries} 次，然后再抛出 TimeoutError",
    )
