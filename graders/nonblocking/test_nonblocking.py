"""Grades exercises/nonblocking: the listening socket, accepting, reading, sending, and the one-thread loop."""

from __future__ import annotations

import random
import selectors
import socket
import time

import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.network import free_port
from graders.nonblocking import probes

CLIENTS = 200


def _crashed(student) -> None:
    """Fail with the student's crashed thread, if one crashed (the harness reports it on the next call)."""
    student.run(probes.still_running)


# -- task 1 ----------------------------------------------------------------------------------------------------


def _connect_many(port: int, count: int, wait: float) -> int:
    """Start `count` connections at once; how many are established within `wait` seconds."""
    sockets = [socket.socket() for _ in range(count)]
    selector = selectors.DefaultSelector()
    try:
        for sock in sockets:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
        connected = 0
        deadline = time.monotonic() + wait
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(0.05):
                selector.unregister(key.fileobj)
                connected += key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        return connected
    finally:
        selector.close()
        for sock in sockets:
            sock.close()


@pytest.mark.task(1)
def test_make_server_is_non_blocking_and_holds_200_waiting_connections(student):
    port = free_port()
    facts = student.run(probes.make_listener, port)
    assert facts["family"] == "AF_INET" and facts["type"] == "SOCK_STREAM", say(
        f"make_server() returned a {facts['family']} {facts['type']} socket; expected a TCP socket over IPv4",
        f"make_server() 返回的是 {facts['family']} {facts['type']} 套接字；应当是基于 IPv4 的 TCP 套接字",
    )
    assert facts["address"] == ["127.0.0.1", port], say(
        f"make_server({port}) is bound to {tuple(facts['address'])}; expected ('127.0.0.1', {port})",
        f"make_server({port}) 绑定在 {tuple(facts['address'])} 上；应当是 ('127.0.0.1', {port})",
    )
    assert facts["listening"], say(
        f"make_server({port}) returned a socket that does not listen: call listen() on it",
        f"make_server({port}) 返回的套接字没有在监听：对它调用 listen()",
    )
    assert not facts["blocking"], say(
        "make_server() returned a blocking socket: call server.setblocking(False), or accept() waits for the "
        "next client and the loop stops serving everybody else",
        "make_server() 返回的是阻塞套接字：调用 server.setblocking(False)，否则 accept() 会一直等下一个客户端，"
        "循环就没法服务其他所有客户端了",
    )
    connected = _connect_many(port, CLIENTS, wait=1.5)
    assert connected >= CLIENTS, say(
        f"only {connected} of {CLIENTS} clients could connect while the server was busy and not accepting: the "
        f"listen() backlog looks like {max(connected - 1, 0)}. The grader holds {CLIENTS} clients at once: "
        "use listen(200) or more (the outline uses listen(1000))",
        f"服务器正忙、没有 accept 时，{CLIENTS} 个客户端中只有 {connected} 个连得上：listen() 的 backlog 看起来是 "
        f"{max(connected - 1, 0)}。评分程序会同时保持 {CLIENTS} 个客户端：请用 listen(200) 或更大的值"
        "（大纲用的是 listen(1000)）",
    )


# -- task 2 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(2)
def test_accept_clients_takes_every_waiting_connection_and_makes_it_non_blocking(student):
    count = random.randint(3, 8)
    facts = student.run(probes.accept_trace, count, timeout=3)
    before, waiting, after = facts["before"], facts["waiting"], facts["after"]
    assert before["count"] == 0, say(
        f"with nobody waiting, accept_clients() added {before['count']} sockets to conn_list; expected none",
        f"没有客户端等待时，accept_clients() 往 conn_list 里加了 {before['count']} 个套接字；应当一个也不加",
    )
    assert waiting["types"] in ([], ["socket"]), say(
        f"accept_clients() appended {', '.join(waiting['types'])} objects to conn_list; append the connection "
        "socket, the first item of what accept() returns",
        f"accept_clients() 往 conn_list 里加入的是 {', '.join(waiting['types'])} 对象；应当加入连接套接字，"
        "也就是 accept() 返回值的第一项",
    )
    assert waiting["count"] == count or waiting["still_waiting"], say(
        f"{count} clients were waiting and accept_clients() accepted them all, but conn_list holds "
        f"{waiting['count']}: append each connection to the list you were given (conn_list.append(conn)); "
        "`conn_list = ...` inside the function makes a new list that the caller never sees",
        f"有 {count} 个客户端在等待，accept_clients() 全都接受了，但 conn_list 里只有 {waiting['count']} 个："
        "把每个连接加入传给你的那个列表（conn_list.append(conn)）；在函数里写 `conn_list = ...` 会创建一个新列表，"
        "调用者永远看不到它",
    )
    assert waiting["count"] == count, say(
        f"{count} clients were waiting and accept_clients() added {waiting['count']} to conn_list: call accept() "
        "in a loop until it raises BlockingIOError, so that one pass takes every waiting client",
        f"有 {count} 个客户端在等待，accept_clients() 往 conn_list 里加了 {waiting['count']} 个：在循环里调用 "
        "accept()，直到它抛出 BlockingIOError，这样一轮就能接受所有等待的客户端",
    )
    assert waiting["peers"] == facts["clients"], say(
        f"conn_list holds connections to {waiting['peers']}; the waiting clients were {facts['clients']}",
        f"conn_list 里的连接通向 {waiting['peers']}；而等待的客户端是 {facts['clients']}",
    )
    assert waiting["blocking"] == 0, say(
        f"{waiting['blocking']} of the {count} accepted sockets are still blocking: call conn.setblocking(False) "
        "on each one, or the first recv() on a silent client stops the whole loop",
        f"接受的 {count} 个套接字中有 {waiting['blocking']} 个仍是阻塞的：对每一个调用 conn.setblocking(False)，"
        "否则对不说话的客户端第一次 recv() 就会让整个循环停住",
    )
    assert after["count"] == count, say(
        f"called again with nobody waiting, accept_clients() changed conn_list from {count} to {after['count']} "
        "sockets; it should only append new connections",
        f"没有客户端等待时再次调用，accept_clients() 把 conn_list 从 {count} 个套接字变成了 {after['count']} 个；"
        "它只应追加新的连接",
    )
    slowest = max(before["elapsed"], waiting["elapsed"], after["elapsed"])
    assert slowest < 0.5, say(
        f"accept_clients() took {slowest:.1f} s; it must return at once when nobody is waiting",
        f"accept_clients() 用了 {slowest:.1f} 秒；没有客户端等待时它必须立即返回",
    )


# -- task 3 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_read_clients_reads_everyone_skips_the_silent_and_drops_the_departed(student):
    count = random.randint(5, 8)
    facts = student.run(probes.read_trace, random.getrandbits(32), count, timeout=4)
    roles = facts["roles"]
    silent, leaving = roles.index("silent"), roles.index("leaving")
    first_sizes = facts["passes"][0]["sent_sizes"]
    for number, seen in enumerate(facts["passes"], 1):
        assert seen["elapsed"] < 0.5, say(
            f"pass {number} of read_clients() took {seen['elapsed']:.1f} s: never wait",
            f"第 {number} 轮 read_clients() 用了 {seen['elapsed']:.1f} 秒：永远不要等待",
        )
        if number == 2:
            assert not seen["in_list"][leaving], say(
                f"client {leaving + 1} closed its connection, and after read_clients() it is still in conn_list: "
                "when recv() returns b'' the client has left; remove it from conn_list and close it",
                f"客户端 {leaving + 1} 关闭了连接，但 read_clients() 之后它还在 conn_list 里：recv() 返回 b'' "
                "表示客户端已经离开；把它从 conn_list 中移除并关闭它",
            )
            assert seen["closed"][leaving], say(
                f"client {leaving + 1} left and was removed from conn_list, but its socket is still open: call "
                "conn.close(), or every departed client keeps a file open in the server for good",
                f"客户端 {leaving + 1} 已经离开，也从 conn_list 中移除了，但它的套接字还开着：调用 conn.close()，"
                "否则每个离开的客户端都会在服务器里永远占着一个打开的文件",
            )
            assert not seen["in_outbox"][leaving], say(
                f"client {leaving + 1} sent data and then left, and it still has an entry in outbox: remove it "
                "there too (outbox.pop(conn, None)), or the bytes of every departed client stay in memory for good",
                f"客户端 {leaving + 1} 发送数据后离开了，但它在 outbox 里还有条目：也要从那里移除"
                "（outbox.pop(conn, None)），否则每个离开的客户端的字节都会永远留在内存里",
            )
        assert seen["in_list"][silent] and not seen["closed"][silent] and seen["outbox"][silent], say(
            f"client {silent + 1} has sent nothing yet, and read_clients() dropped it or put data in its outbox: "
            "BlockingIOError only means 'nothing yet'; leave the client as it is and go on",
            f"客户端 {silent + 1} 还什么都没发送，read_clients() 却移除了它，或往它的 outbox 里放了数据："
            "BlockingIOError 只表示「还没有数据」；让这个客户端保持原样，继续处理下一个",
        )
        for index, role in enumerate(roles):
            if role == "silent" or (role == "leaving" and number == 2):
                continue
            assert seen["in_list"][index] and not seen["closed"][index], say(
                f"client {index + 1} is still connected and talking, but read_clients() dropped it in pass {number}",
                f"客户端 {index + 1} 仍然连着并在发送数据，但 read_clients() 在第 {number} 轮把它移除了",
            )
            if seen["outbox"][index]:
                continue
            got, sent = seen["outbox_sizes"][index], seen["sent_sizes"][index]
            if number == 2 and index == leaving + 1 and got == first_sizes[index]:
                pytest.fail(
                    say(
                        f"client {index + 1}, right after the client that left, was not read in the pass where that "
                        "client left: removing from conn_list while a for loop goes over it makes the loop skip the "
                        "next client. Loop over a copy: `for conn in conn_list[:]:`",
                        f"客户端 {index + 1} 紧跟在离开的那个客户端后面，在那个客户端离开的那一轮里没有被读取："
                        "在 for 循环遍历 conn_list 的同时从中删除元素，会让循环跳过下一个客户端。"
                        "要遍历一个副本：`for conn in conn_list[:]:`",
                    ),
                    pytrace=False,
                )
            if number == 2 and got == sent - first_sizes[index]:
                pytest.fail(
                    say(
                        f"after two passes outbox[conn] of client {index + 1} holds {got} bytes, but it has sent "
                        f"{sent} and nothing was echoed yet: add new data to the end of outbox[conn] "
                        "(bytearray.extend), do not replace what is waiting there",
                        f"两轮之后，客户端 {index + 1} 的 outbox[conn] 里有 {got} 字节，但它已经发送了 {sent} 字节，"
                        "而且还什么都没有回显：把新数据追加到 outbox[conn] 的末尾（bytearray.extend），"
                        "不要替换掉还在等待的数据",
                    ),
                    pytrace=False,
                )
            pytest.fail(
                say(
                    f"in pass {number}, client {index + 1} had sent {sent} bytes that had all arrived, and afterwards "
                    f"outbox[conn] held {got}: recv() once from every client in conn_list and add what it returns "
                    "to the end of outbox[conn] (send_pending() echoes it later)",
                    f"第 {number} 轮中，客户端 {index + 1} 发送的 {sent} 字节都已到达，之后 outbox[conn] 里却有 "
                    f"{got} 字节：对 conn_list 中的每个客户端 recv() 一次，把返回的数据追加到 outbox[conn] 的末尾"
                    "（之后由 send_pending() 回显）",
                ),
                pytrace=False,
            )


# -- task 4 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_send_pending_loses_nothing_when_the_client_reads_late(student):
    size = 1 << 20
    facts = student.run(probes.send_trace, random.getrandbits(32), size)
    if facts["equal"]:
        return
    got = facts["received"]
    detail = detail_zh = ""
    if facts["partial"] or facts["would_block"]:
        detail = (
            f" (send() took only part of the data {facts['partial']} times and raised BlockingIOError "
            f"{facts['would_block']} times)"
        )
        detail_zh = (
            f"（send() 有 {facts['partial']} 次只发出了部分数据，{facts['would_block']} 次抛出了 BlockingIOError）"
        )
    if got < size and facts["left_in_outbox"] and facts["first_difference"] == got:
        pytest.fail(
            say(
                f"the client read everything it was sent, {got} of {size} bytes, but {facts['left_in_outbox']} "
                f"bytes stayed in outbox[conn]: each call of send_pending() should send() what is waiting{detail}",
                f"客户端读完了发给它的全部数据（{size} 字节中的 {got} 字节），但还有 {facts['left_in_outbox']} "
                f"字节留在 outbox[conn] 里：每次调用 send_pending() 都应当 send() 正在等待的数据{detail_zh}",
            ),
            pytrace=False,
        )
    cut_short = facts["first_difference"] == got
    what = (
        f"only the first {got} bytes: the rest was lost"
        if cut_short
        else f"{got} bytes, different from the data from byte {facts['first_difference']} on"
    )
    what_zh = (
        f"只收到了前 {got} 字节，其余的都丢了"
        if cut_short
        else f"收到了 {got} 字节，从第 {facts['first_difference']} 字节起就与原数据不同"
    )
    pytest.fail(
        say(
            f"outbox[conn] held {size} bytes for a client that first read nothing, then everything; it received "
            f"{what}{detail}. send() returns "
            "how many bytes it took: delete exactly those from outbox[conn] and keep the rest (sendall() cannot "
            "tell you how much it sent before it raised BlockingIOError)",
            f"outbox[conn] 里有 {size} 字节要发给一个先完全不读、后来全部读取的客户端；它{what_zh}{detail_zh}。"
            "send() 返回它发出了多少字节：从 outbox[conn] 中正好删掉这么多，其余的留着（sendall() 在抛出 "
            "BlockingIOError 之前发出了多少，它没法告诉你）",
        ),
        pytrace=False,
    )


# -- task 5 ----------------------------------------------------------------------------------------------------


def _judge_wiring(record: dict) -> None:
    log = record["log"]
    accepts = [entry for entry in log if entry[0] == "accept"]
    if not accepts:
        pytest.fail(
            say(
                "serve() never called accept_clients(server, conn_list)"
                + (" and returned" if record["returned"] else "")
                + ": on every pass of its loop it should call accept_clients, read_clients, then send_pending for "
                "every client; do the work through those three functions",
                "serve() 从未调用 accept_clients(server, conn_list)"
                + ("就返回了" if record["returned"] else "")
                + "：它的循环每一轮都应当调用 accept_clients、read_clients，再对每个客户端调用 send_pending；"
                "通过这三个函数完成工作",
            ),
            pytrace=False,
        )
    assert all(entry[2] for entry in accepts), say(
        "serve() passed accept_clients a socket other than its `server`",
        "serve() 传给 accept_clients 的套接字不是它的 `server`",
    )
    assert accepts[0][3], say(
        "serve() passed accept_clients a conn_list that is not a list: start with conn_list = []",
        "serve() 传给 accept_clients 的 conn_list 不是列表：一开始先写 conn_list = []",
    )
    if record["returned"] or len(accepts) < record["passes"]:
        pytest.fail(
            say(
                f"serve() called accept_clients {'once' if len(accepts) == 1 else f'{len(accepts)} times'} and then "
                + ("returned" if record["returned"] else "never again")
                + ": serve() should loop forever, calling accept_clients on every pass, then read_clients, then "
                "send_pending for every client",
                f"serve() 调用了 {'一' if len(accepts) == 1 else len(accepts)} 次 accept_clients，然后"
                + ("就返回了" if record["returned"] else "再也没有调用")
                + "：serve() 应当永远循环下去，每一轮都调用 accept_clients，然后调用 read_clients，"
                "再对每个客户端调用 send_pending",
            ),
            pytrace=False,
        )
    passes: list[list] = []
    for entry in log:
        if entry[0] == "accept":
            passes.append([entry])
        elif passes:
            passes[-1].append(entry)
    lists, outboxes = {entry[1] for entry in accepts}, set()
    for number, calls in enumerate(passes[: record["passes"]], 1):
        reads = [entry for entry in calls if entry[0] == "read"]
        assert len(reads) == 1, say(
            f"in pass {number} of its loop serve() called read_clients {len(reads)} times; call it once per pass, "
            "after accept_clients",
            f"在循环的第 {number} 轮中，serve() 调用了 {len(reads)} 次 read_clients；每一轮应当在 accept_clients "
            "之后调用它一次",
        )
        _, read_list, outbox, clients, waiting = reads[0]
        lists.add(read_list)
        outboxes.add(outbox)
        sends = [entry for entry in calls if entry[0] == "send"]
        outboxes.update(entry[2] for entry in sends)
        sent_to = sorted(entry[1] for entry in sends)
        assert set(waiting) <= set(sent_to) <= set(clients) and len(sent_to) == len(set(sent_to)), say(
            f"in pass {number}, after read_clients, conn_list held clients {sorted(clients)}, with data waiting "
            f"in outbox for {sorted(waiting)}, and serve() called send_pending for {sent_to}: call "
            "send_pending(conn, outbox) once for every client in conn_list",
            f"第 {number} 轮调用 read_clients 之后，conn_list 里的客户端是 {sorted(clients)}，outbox 里有数据在等待的"
            f"是 {sorted(waiting)}，而 serve() 对 {sent_to} 调用了 send_pending：对 conn_list 中的每个客户端调用"
            "一次 send_pending(conn, outbox)",
        )
    assert len(lists) == 1, say(
        "serve() passed different lists to accept_clients and read_clients, or a new one on each pass: create "
        "conn_list once, before the loop, and pass the same list to both",
        "serve() 传给 accept_clients 和 read_clients 的是不同的列表，或者每一轮都传一个新的：在循环之前创建一次 "
        "conn_list，把同一个列表传给这两个函数",
    )
    assert len(outboxes) == 1, say(
        "serve() passed different outbox dicts to read_clients and send_pending, or a new one on each pass: create "
        "outbox once, before the loop, so that what read_clients puts there waits until send_pending sends it",
        "serve() 传给 read_clients 和 send_pending 的是不同的 outbox 字典，或者每一轮都传一个新的：在循环之前创建"
        "一次 outbox，这样 read_clients 放进去的数据会一直等到 send_pending 把它发出去",
    )


@pytest.mark.task(5)
def test_serve_loops_over_accept_read_and_send_for_every_client(student):
    record = student.run(probes.serve_wiring, 1.0, timeout=3)
    if not record["finished"] and not record["log"]:
        where = student.where()
        pytest.fail(
            say(
                f"serve() called none of accept_clients, read_clients, send_pending within 1 s ({where}): on "
                "every pass of its loop it should call accept_clients, read_clients, then send_pending for every "
                "client; do the work through those three functions",
                f"serve() 在 1 秒内没有调用 accept_clients、read_clients、send_pending 中的任何一个（{where}）："
                "它的循环每一轮都应当调用 accept_clients、read_clients，再对每个客户端调用 send_pending；"
                "通过这三个函数完成工作",
            ),
            pytrace=False,
        )
    _judge_wiring(record)
