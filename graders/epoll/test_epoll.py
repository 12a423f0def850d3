"""Grades exercises/epoll: the listener, the accept and read callbacks, and one thread serving 200 clients."""

from __future__ import annotations

import random
import secrets
import selectors
import socket
import time

import pytest

from graders.epoll import probes
from graders.harness.core import observe
from graders.harness.core.curriculum import say
from graders.harness.core.network import free_port
from graders.harness.core.student import TimedOut

CLIENTS = 200
ECHO_SECONDS = 2.0


@pytest.mark.task(1)
def test_create_listener_returns_a_non_blocking_listener_that_keeps_200_clients_waiting(student):
    port = free_port()
    facts = student.run(probes.listener_facts, port)
    assert (facts["family"], facts["type"]) == ("AF_INET", "SOCK_STREAM"), say(
        f"create_listener should make a TCP socket over IPv4 (AF_INET, SOCK_STREAM); "
        f"yours is {facts['family']}, {facts['type']}",
        f"create_listener 应当创建一个基于 IPv4 的 TCP 套接字（AF_INET, SOCK_STREAM）；"
        f"你的是 {facts['family']}, {facts['type']}",
    )
    assert facts["address"] == ("127.0.0.1", port), say(
        f"create_listener({port}) should bind ('127.0.0.1', {port}); your socket is bound to {facts['address']}",
        f"create_listener({port}) 应当绑定 ('127.0.0.1', {port})；你的套接字绑定在 {facts['address']} 上",
    )
    assert facts["listening"], say(
        "the socket create_listener returned is not listening: call listen(...) on it",
        "create_listener 返回的套接字没有在监听：对它调用 listen(...)",
    )
    assert not facts["blocking"], say(
        "the listening socket is still in blocking mode: call server.setblocking(False), so that accept() can "
        "never stall the one thread that serves every client",
        "监听套接字仍处于阻塞模式：调用 server.setblocking(False)，这样 accept() 就永远不会卡住服务所有客户端的"
        "那唯一一个线程",
    )
    clients = CLIENTS + 1  # listen(200) keeps backlog + 1 = 201 on Linux; listen(199) would keep 200
    seen = student.run(probes.waiting_connections, free_port(), clients)
    expected = min(clients, seen["somaxconn"] + 1)
    assert seen["waiting"] >= expected, say(
        f"{clients} clients connected at once before the server called accept(), but only {seen['waiting']} were "
        "kept waiting; the others were turned away. Pass a backlog of at least 200 to listen(): listen() alone "
        "allows 128 (the outline uses listen(1000))",
        f"在服务器调用 accept() 之前有 {clients} 个客户端同时连接，但只有 {seen['waiting']} 个被留在队列里等待，"
        "其余的都被拒之门外。给 listen() 传入不小于 200 的 backlog：只写 listen() 只允许 128 个"
        "（大纲里用的是 listen(1000)）",
    )


@pytest.mark.task(2)
def test_accept_registers_the_connection_non_blocking_for_read_events_with_read(student):
    facts = student.run(probes.accept_registration)
    assert facts["new_keys"] == 1, say(
        f"with one client waiting, accept(server, selector) should register exactly one new socket (the accepted "
        f"connection) with the selector; it registered {facts['new_keys']}. "
        "Call selector.register(conn, selectors.EVENT_READ, read)",
        f"有一个客户端在等待时，accept(server, selector) 应当向 selector 注册恰好一个新套接字（accept 得到的连接）；"
        f"它注册了 {facts['new_keys']} 个。调用 selector.register(conn, selectors.EVENT_READ, read)",
    )
    assert facts["is_client"], say(
        f"accept registered a {facts['registered']} that is not the client's connection: register the `conn` "
        "that server.accept() returned",
        f"accept 注册了一个 {facts['registered']}，但它不是客户端的连接：注册 server.accept() 返回的那个 `conn`",
    )
    assert facts["events"] == selectors.EVENT_READ, say(
        f"the connection was registered for events={facts['events']}; register it for selectors.EVENT_READ only "
        "(a socket is nearly always writable, so EVENT_WRITE would wake the loop all the time)",
        f"这个连接注册时 events={facts['events']}；只为它注册 selectors.EVENT_READ"
        "（套接字几乎总是可写的，所以 EVENT_WRITE 会不停地唤醒事件循环）",
    )
    assert facts["data_is_read"], say(
        f"the connection was registered with data={facts['data']}; the event loop calls "
        "key.data(key.fileobj, selector), so the data must be the function `read`",
        f"这个连接注册时 data={facts['data']}；事件循环会调用 key.data(key.fileobj, selector)，"
        "所以 data 必须是函数 `read`",
    )
    assert facts["blocking"] is False, say(
        "the accepted connection is still in blocking mode (accept() does not pass on the listener's mode): call "
        "conn.setblocking(False) before registering it",
        "accept 得到的连接仍处于阻塞模式（accept() 不会把监听套接字的模式传给新连接）：注册之前调用 "
        "conn.setblocking(False)",
    )


@pytest.mark.task(3)
def test_read_echoes_each_message_then_unregisters_and_closes_when_the_client_leaves(student):
    messages = [f"hello {secrets.token_hex(6)}".encode(), f"and again {secrets.token_hex(9)}".encode()]
    trace = student.run(probes.read_trace, messages)
    for sent, echoed in zip(messages, trace["echoes"], strict=False):
        assert echoed == sent, say(
            f"the client sent {sent!r}; after read(conn, selector) it got back {echoed!r}",
            f"客户端发送了 {sent!r}；调用 read(conn, selector) 之后，它收回的是 {echoed!r}",
        )
    assert trace["gave_up_after"] is None, say(
        f"read() unregistered or closed the connection after message {trace['gave_up_after']} although the "
        "client is still there: only do that when recv returns b''",
        f"客户端还在，read() 却在第 {trace['gave_up_after']} 条消息之后取消注册或关闭了连接：只有 recv 返回 b'' "
        "时才能这样做",
    )
    registered, still_open = trace["registered"], trace["open"]
    assert not (registered and still_open), say(
        "the client closed its side and read() got b'' from recv, but left the socket registered and open: "
        "call selector.unregister(conn), then conn.close()",
        "客户端关闭了它那一端，read() 从 recv 得到了 b''，却让套接字保持注册和打开：先调用 "
        "selector.unregister(conn)，再调用 conn.close()",
    )
    assert not registered, say(
        "when recv returned b'', read() closed the socket but left it registered with the selector: call "
        "selector.unregister(conn) before conn.close(), or the selector keeps a dead socket whose file "
        "descriptor number the next client will get",
        "recv 返回 b'' 时，read() 关闭了套接字，却没有把它从 selector 中取消注册：在 conn.close() 之前调用 "
        "selector.unregister(conn)，否则 selector 会留着一个已失效的套接字，而它的文件描述符号会分给下一个客户端",
    )
    assert not still_open, say(
        "when recv returned b'', read() unregistered the socket but never closed it: call conn.close() after "
        "unregistering, or every client that leaves costs the server one open file for good",
        "recv 返回 b'' 时，read() 取消注册了套接字，却始终没有关闭它：取消注册之后调用 conn.close()，否则每个"
        "离开的客户端都会让服务器永久多占一个打开的文件",
    )


def _judge_late_reader(student, seed: int, size: int, busy: bool) -> None:
    try:
        trace = student.run(probes.late_reader_trace, seed, size, busy, timeout=7)
    except TimedOut as error:
        pytest.fail(
            say(
                "a client sent a lot and read nothing at first, and your read() or write() did not return for 7 s: "
                "it waited for that one client to read. In an event loop no callback may ever wait: the socket must "
                "stay non-blocking (no setblocking(True), no settimeout) and, as sendall() cannot be used on it, "
                "write() sends once and keeps the rest in outbox[conn] for the next write event "
                f"({error.message})",
                "一个客户端发送了大量数据，起初什么也不读，而你的 read() 或 write() 7 秒内都没有返回：它在等这一个"
                "客户端读取。在事件循环里，任何回调都不能等待：套接字必须保持非阻塞（不要 setblocking(True)，也不要 "
                "settimeout），而且因为不能在它上面用 sendall()，write() 只发送一次，把剩下的留在 outbox[conn] 里，"
                f"等下一次可写事件（{error.message}）",
            ),
            pytrace=False,
        )
    data = random.Random(seed).randbytes(size)
    received = trace["received"]
    if busy:
        situation = (
            f"a client sent {trace['sent']} bytes over a busy connection, where send() takes at most "
            f"{probes.PIECE} bytes at a time, reading nothing until the server had to wait, then all there was"
        )
        situation_zh = (
            f"一个客户端通过一条繁忙的连接（每次 send() 最多只接收 {probes.PIECE} 字节）发送了 {trace['sent']} "
            "字节，在服务器不得不等待之前什么也不读，然后把能读的全部读完"
        )
    else:
        situation = f"a client sent {trace['sent']} bytes, reading nothing at first and then everything"
        situation_zh = f"一个客户端发送了 {trace['sent']} 字节，起初什么也不读，然后全部读完"
    if received != data:
        if data.startswith(received):
            how = f"only the first {len(received)} bytes came back"
            how_zh = f"只收回了前 {len(received)} 字节"
        else:
            first = next((i for i, (a, b) in enumerate(zip(received, data, strict=False)) if a != b), len(received))
            how = f"{len(received)} bytes came back, different from what was sent from byte {first} on"
            how_zh = f"收回了 {len(received)} 字节，从字节 {first} 起与发送的内容不同"
            if data.rfind(received[first : first + 64], 0, first) != -1:
                how += ", where bytes that had come back already came back again"
                how_zh += "，其中有已经收回过的字节又收回了一次"
        pytest.fail(
            say(
                f"{situation}: {how}. send() on a non-blocking socket takes only what fits right now and returns "
                "how many bytes that was: keep the rest in outbox[conn], register the socket for EVENT_WRITE with "
                "`write`, and send it when the loop calls write() (sendall() cannot tell you how much it sent "
                "before it raised BlockingIOError)",
                f"{situation_zh}：{how_zh}。非阻塞套接字上的 send() 只发出此刻放得下的部分，并返回发出的字节数："
                "把剩下的留在 outbox[conn] 里，用 `write` 为套接字注册 EVENT_WRITE，等事件循环调用 write() 时再发送"
                "（sendall() 抛出 BlockingIOError 之前发出了多少，它没法告诉你）",
            ),
            pytrace=False,
        )
    last = random.Random(seed + 1).randbytes(16).hex().encode()
    assert trace["final"] == last, say(
        f"after its whole echo had been sent, the client sent {last!r} and got back {trace['final']!r}: once "
        "outbox[conn] is empty, selector.modify(conn, selectors.EVENT_READ, read), so that the loop reads from "
        "the client again",
        f"整个回显发完之后，客户端又发送了 {last!r}，收回的却是 {trace['final']!r}：outbox[conn] 一空，就 "
        "selector.modify(conn, selectors.EVENT_READ, read)，让事件循环重新从客户端读取",
    )


@pytest.mark.task(3)
def test_write_keeps_what_send_did_not_take_for_a_client_that_reads_late(student):
    _judge_late_reader(student, random.getrandbits(32), 256 * 1024, busy=False)


@pytest.mark.task(3)
def test_write_loses_and_repeats_nothing_when_send_takes_part_again_and_again(student):
    _judge_late_reader(student, random.getrandbits(32), 256 * 1024, busy=True)


def _echoes(student, clients: list[socket.socket], sizes: list[int]) -> tuple[list[bytes], set[int]]:
    """What each client received within ECHO_SECONDS, read all at once; and which ones the server hung up on.

    Whenever nothing arrives for a quarter of a second, the worker is asked whether the event loop still
    runs, so a loop that crashed or returned is reported at once and with its reason.
    """
    received = [b""] * len(clients)
    hung_up: set[int] = set()
    with selectors.DefaultSelector() as selector:
        for index, client in enumerate(clients):
            selector.register(client, selectors.EVENT_READ, index)
        waiting = len(clients)
        deadline = time.monotonic() + ECHO_SECONDS
        while waiting and (left := deadline - time.monotonic()) > 0:
            ready = selector.select(min(left, 0.25))
            if not ready:
                student.run(probes.event_loop_state)  # raises with the reason when the loop has stopped
            for key, _mask in ready:
                index = key.data
                try:
                    chunk = key.fileobj.recv(4096)
                except OSError:
                    chunk = b""
                received[index] += chunk
                if not chunk:
                    hung_up.add(index)
                if not chunk or len(received[index]) >= sizes[index]:
                    selector.unregister(key.fileobj)
                    waiting -= 1
    return received, hung_up


def _check_echoes(
    student, clients: list[socket.socket], messages: list[bytes], situation: str, situation_zh: str
) -> None:
    echoes, hung_up = _echoes(student, clients, [len(m) for m in messages])
    if hung_up:
        student.run(probes.event_loop_state)  # says why, when the event loop crashed or returned
        first = min(hung_up)
        pytest.fail(
            say(
                f"{situation}, the server closed {len(hung_up)} of {len(clients)} connections before echoing, e.g. "
                f"client {first + 1} after sending {messages[first]!r}: close a connection only when recv returns "
                "b''",
                f"{situation_zh}，服务器在回显之前关闭了 {len(clients)} 个连接中的 {len(hung_up)} 个，例如客户端 "
                f"{first + 1} 在发送 {messages[first]!r} 之后：只有 recv 返回 b'' 时才关闭连接",
            ),
            pytrace=False,
        )
    missing = [
        index for index, (sent, echoed) in enumerate(zip(messages, echoes, strict=True)) if len(echoed) < len(sent)
    ]
    if missing:
        where = student.where()
        pytest.fail(
            say(
                f"{situation}, {len(missing)} of {len(clients)} clients got no complete echo within "
                f"{ECHO_SECONDS:g} s: the one server thread must never wait on a single client ({where})",
                f"{situation_zh}，{len(clients)} 个客户端中有 {len(missing)} 个在 {ECHO_SECONDS:g} 秒内没有收到"
                f"完整的回显：唯一的服务器线程绝不能等待某一个客户端（{where}）",
            ),
            pytrace=False,
        )
    for number, (sent, echoed) in enumerate(zip(messages, echoes, strict=True), 1):
        assert echoed == sent, say(
            f"{situation}, client {number} sent {sent!r} and got back {echoed!r}",
            f"{situation_zh}，客户端 {number} 发送了 {sent!r}，收回的是 {echoed!r}",
        )


def _settled(student, fds: int | None) -> dict:
    """The event loop's state once every client that left has been dealt with (or after 2 s).

    The open files are counted from outside, in /proc; without /proc only the selector's map is looked at.
    """
    deadline = time.monotonic() + 2
    while True:
        state = student.run(probes.event_loop_state)
        state["fds"] = observe.open_files(student.pid)
        lingering = state["registered_open"] + state["registered_closed"] + state["unregistered_open"]
        settled = (fds is None or state["fds"] is None or state["fds"] <= fds) and not lingering
        if settled or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


IDLE_SECONDS = 0.6  # a loop that spins is watched this long; one that sleeps in select() passes in IDLE_WINDOW
IDLE_CPU = 0.3  # a share of one core; a loop that never sleeps wants all of one, however busy the machine is
IDLE_WINDOW = 0.1  # each look (observe.least_busy); run and wait times are counted in nanoseconds (schedstat)


def _check_idle_with_clients(student, connected: int) -> None:
    """With every client connected, echoed and quiet, the loop must sleep in select(): a connection left
    registered for EVENT_WRITE with nothing to send makes select() return at once, every time."""
    busy = observe.least_busy(student.pid, IDLE_SECONDS, IDLE_CPU, IDLE_WINDOW)
    if busy is None:
        return
    state = student.run(probes.event_loop_state)  # a loop that stopped is reported first, with its reason
    if busy < IDLE_CPU:
        return
    writing = state["registered_for_write"]
    plural = "s" if writing != 1 else ""
    pytest.fail(
        say(
            f"with {connected} clients connected, every echo sent and no client sending anything, the server kept "
            f"{busy:.0%} of a CPU core busy for {IDLE_SECONDS:g} s"
            + (f", with {writing} connection{plural} registered for EVENT_WRITE" if writing else "")
            + ". A socket is writable nearly all the time, so a connection registered for EVENT_WRITE with nothing "
            "to send wakes the loop at once, again and again: register connections for EVENT_READ, and for "
            "EVENT_WRITE only while outbox[conn] holds what send() did not take",
            f"{connected} 个客户端都已连接，回显全部发完，也没有客户端在发送数据，服务器却在 {IDLE_SECONDS:g} 秒内"
            f"占用了一个 CPU 核的 {busy:.0%}"
            + (f"，有 {writing} 个连接注册了 EVENT_WRITE" if writing else "")
            + "。套接字几乎总是可写的，所以一个没有数据要发却注册了 EVENT_WRITE 的连接会让事件循环一次又一次立即醒来："
            "为连接注册 EVENT_READ，只在 outbox[conn] 里还有 send() 没发完的数据时才注册 EVENT_WRITE",
        ),
        pytrace=False,
    )


@pytest.mark.task(4)
def test_one_thread_serves_200_clients_at_once_and_lets_them_all_go(student):
    port = free_port()
    student.run(probes.ready)
    threads_before = observe.threads(student.pid)
    student.run(probes.start_event_loop, port)
    fds_before = observe.open_files(student.pid)
    busy = observe.least_busy(student.pid, IDLE_SECONDS, IDLE_CPU, IDLE_WINDOW)
    if busy is not None:
        student.run(probes.event_loop_state)  # a loop that stopped is reported first, with its reason
        assert busy < IDLE_CPU, say(
            f"with no client at all, the server kept {busy:.0%} of a CPU core busy for {IDLE_SECONDS:g} s: the loop "
            "never waits. Call selector.select() without a timeout (or timeout=None): it sleeps until a socket is "
            "ready; select(0) returns at once and the loop spins",
            f"一个客户端都没有时，服务器在 {IDLE_SECONDS:g} 秒内占用了一个 CPU 核的 {busy:.0%}：事件循环从不等待。"
            "调用 selector.select() 时不要传超时（或者传 timeout=None）：它会一直睡到有套接字就绪；select(0) "
            "会立即返回，事件循环就会空转",
        )
    address = ("127.0.0.1", port)
    token = secrets.token_hex(4)
    messages = [f"client {n} of {CLIENTS}: {token}-{secrets.token_hex(3)}\n".encode() for n in range(1, CLIENTS + 1)]
    clients: list[socket.socket] = []
    try:
        clients.append(socket.create_connection(address, timeout=2))  # connects first, then never says a word
        talkers = []
        for _ in messages:
            talkers.append(socket.create_connection(address, timeout=2))
            clients.append(talkers[-1])
        for client, message in zip(talkers, messages, strict=True):
            client.sendall(message)
        _check_echoes(
            student, talkers, messages, f"with {CLIENTS} clients and a silent one connected at once",
            f"同时连接了 {CLIENTS} 个客户端和一个一言不发的客户端时",
        )
        _check_idle_with_clients(student, len(clients))
        threads_now = observe.threads(student.pid)
        if threads_before is not None and threads_now is not None:
            extra = threads_now - threads_before
            assert extra <= 1, say(
                f"with {CLIENTS + 1} clients connected the server process had {extra} more threads than before "
                "serve_forever started; an epoll server needs only the one thread that runs serve_forever: "
                "register each connection with the selector instead of starting a thread for it",
                f"连接了 {CLIENTS + 1} 个客户端时，服务器进程比 serve_forever 启动前多了 {extra} 个线程；epoll 服务器"
                "只需要运行 serve_forever 的那一个线程：把每个连接注册到 selector 上，而不是为它启动一个线程",
            )
    finally:
        for client in clients:
            client.close()

    state = _settled(student, fds_before)
    assert not state["registered_closed"], say(
        f"after all {CLIENTS + 1} clients left, {state['registered_closed']} closed sockets were still registered "
        "with the selector: call selector.unregister(conn) before conn.close(), or the next client that gets "
        "the same file descriptor number cannot be registered",
        f"全部 {CLIENTS + 1} 个客户端离开之后，仍有 {state['registered_closed']} 个已关闭的套接字注册在 selector 上："
        "在 conn.close() 之前调用 selector.unregister(conn)，否则下一个拿到相同文件描述符号的客户端就无法注册",
    )
    assert not state["registered_open"], say(
        f"after all {CLIENTS + 1} clients left, {state['registered_open']} of their sockets were still registered "
        "and open: when recv returns b'', unregister the socket and close it",
        f"全部 {CLIENTS + 1} 个客户端离开之后，它们的套接字中仍有 {state['registered_open']} 个处于注册和打开状态："
        "recv 返回 b'' 时，取消注册套接字并关闭它",
    )
    assert not state["unregistered_open"], say(
        f"after all {CLIENTS + 1} clients left, {state['unregistered_open']} of their sockets were unregistered "
        "but never closed: call conn.close() after selector.unregister(conn), or every client that leaves costs "
        "the server an open file",
        f"全部 {CLIENTS + 1} 个客户端离开之后，它们的套接字中有 {state['unregistered_open']} 个取消了注册，却始终"
        "没有关闭：在 selector.unregister(conn) 之后调用 conn.close()，否则每个离开的客户端都会让服务器多占一个"
        "打开的文件",
    )
    if fds_before is not None and state["fds"] is not None:
        leaked = state["fds"] - fds_before
        assert leaked <= 0, say(
            f"after all {CLIENTS + 1} clients left, the server process still had {leaked} more open files than "
            "when serve_forever started: close every connection when recv returns b''",
            f"全部 {CLIENTS + 1} 个客户端离开之后，服务器进程打开的文件仍比 serve_forever 启动时多 {leaked} 个："
            "recv 返回 b'' 时关闭每个连接",
        )

    later = [f"a later client {secrets.token_hex(4)}\n".encode() for _ in range(3)]
    newcomers: list[socket.socket] = []
    try:
        for message in later:
            newcomers.append(socket.create_connection(address, timeout=2))
            newcomers[-1].sendall(message)
        _check_echoes(student, newcomers, later, "after the first clients had left", "最初的那些客户端离开之后")
    finally:
        for client in newcomers:
            client.close()
