"""Grades exercises/tcp_handshake: the layer models, the three-way handshake, the four-way close, and why."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from graders.harness.core.curriculum import Text, say
from graders.tcp_handshake import probes

TCP_IP_OF_OSI = {
    "application": "application",
    "presentation": "application",
    "session": "application",
    "transport": "transport",
    "network": "network",
    "data link": "data link",
    "physical": "data link",
}
_FOLDED = Text(
    "TCP/IP folds OSI's application, presentation and session layers into its one application layer",
    "TCP/IP 把 OSI 的应用层、表示层和会话层合并成了它的一个应用层",
)
_LOWEST = Text(
    "TCP/IP's lowest layer, data link (网络通信硬件及接口), covers OSI's data link and physical layers",
    "TCP/IP 最底下的一层是数据链路层（网络通信硬件及接口），它包含了 OSI 的数据链路层和物理层",
)
WHY_TCP_IP = {
    "application": Text(
        "TCP/IP keeps OSI's application layer as its application layer", "TCP/IP 的应用层沿用了 OSI 的应用层"
    ),
    "presentation": _FOLDED,
    "session": _FOLDED,
    "transport": Text("the transport layer is the same in both models", "两个模型的传输层是同一层"),
    "network": Text("the network layer is the same in both models", "两个模型的网络层是同一层"),
    "data link": _LOWEST,
    "physical": _LOWEST,
}

PROTOCOLS = {
    **dict.fromkeys(["HTTP", "HTTPS", "FTP", "TELNET", "SSH", "SMTP", "POP3", "DNS"], "application"),
    **dict.fromkeys(["TCP", "UDP"], "transport"),
    **dict.fromkeys(["IP", "ARP", "RARP", "ICMP"], "network"),
}


@pytest.mark.task(1)
def test_tcp_ip_layer_maps_every_osi_layer(student):
    osi = list(TCP_IP_OF_OSI)
    random.shuffle(osi)
    answers = student.run(probes.tcp_ip_layers, osi)
    for layer in osi:
        expected, got = TCP_IP_OF_OSI[layer], answers[layer]
        if "raised" in got:
            pytest.fail(
                say(
                    f"tcp_ip_layer({layer!r}) raised {got['raised']}; expected {expected!r}",
                    f"tcp_ip_layer({layer!r}) 抛出了 {got['raised']}；应当返回 {expected!r}",
                ),
                pytrace=False,
            )
        why = WHY_TCP_IP[layer]
        assert got["value"] == repr(expected), say(
            f"tcp_ip_layer({layer!r}) returned {got['value']}; expected {expected!r}: {why.en}",
            f"tcp_ip_layer({layer!r}) 返回了 {got['value']}；应当是 {expected!r}：{why.zh}",
        )


def _other_case(name: str) -> str:
    return random.choice([name.lower(), name.capitalize()])


@pytest.mark.task(2)
def test_protocol_layer_knows_every_protocol_of_the_table_in_any_letter_case(student):
    names = list(PROTOCOLS)
    random.shuffle(names)
    asked = names + [_other_case(name) for name in names]
    answers = student.run(probes.protocol_layers, asked)
    for name in asked:
        expected, got = PROTOCOLS[name.upper()], answers[name]
        if "raised" in got:
            if name != name.upper() and answers[name.upper()].get("value") == repr(expected):
                pytest.fail(
                    say(
                        f"protocol_layer({name!r}) raised {got['raised']}, while protocol_layer({name.upper()!r}) "
                        "worked: compare protocol names in any letter case (e.g. protocol.upper())",
                        f"protocol_layer({name!r}) 抛出了 {got['raised']}，而 protocol_layer({name.upper()!r}) "
                        "是对的：比较协议名时不要区分大小写（例如用 protocol.upper()）",
                    ),
                    pytrace=False,
                )
            pytest.fail(
                say(
                    f"protocol_layer({name!r}) raised {got['raised']}; expected {expected!r}",
                    f"protocol_layer({name!r}) 抛出了 {got['raised']}；应当返回 {expected!r}",
                ),
                pytrace=False,
            )
        assert got["value"] == repr(expected), say(
            f"protocol_layer({name!r}) returned {got['value']}; the outline's table puts {name.upper()} in the "
            f"{expected} layer (协议 column of the table)",
            f"protocol_layer({name!r}) 返回了 {got['value']}；大纲的表格把 {name.upper()} 放在 {expected} 层"
            "（表格的「协议」一列）",
        )


@dataclass
class Expected:
    """One segment as it must be, with the reason for each field, for the message when a field is wrong."""

    name: Text
    sender: str
    flags: list[tuple[set[str], int | None]]  # the flags allowed, each with the ack it then needs
    seq: int
    client: str
    server: str
    why: dict[str, Text] = field(default_factory=dict)


def _handshake(x: int, y: int) -> list[Expected]:
    return [
        Expected(Text("the client's SYN", "客户端的 SYN"), "client", [({"SYN"}, None)], x, "SYN_SENT", "SYN_RCVD", {
            "sender": Text("the client opens the connection", "由客户端发起连接"),
            "seq": Text(
                f"the SYN carries the client's initial sequence number client_isn = {x}",
                f"SYN 携带客户端的初始序号 client_isn = {x}",
            ),
            "ack": Text(
                "a SYN alone has no ACK flag, so its ack is None", "单独的 SYN 没有 ACK 标志，所以它的 ack 是 None"
            ),
            "client": Text("it has sent its SYN and waits for the answer", "它已经发出 SYN，正在等待回复"),
            "server": Text(
                "it has received a SYN and answered it at once with its own SYN+ACK",
                "它收到了 SYN，并立即用自己的 SYN+ACK 作了回复",
            ),
        }),
        Expected(
            Text("the server's SYN+ACK", "服务端的 SYN+ACK"), "server", [({"SYN", "ACK"}, x + 1)], y, "ESTABLISHED",
            "SYN_RCVD", {
                "sender": Text("the server answers the SYN", "服务端回复这个 SYN"),
                "seq": Text(
                    f"the server's SYN carries its own initial sequence number server_isn = {y}",
                    f"服务端的 SYN 携带它自己的初始序号 server_isn = {y}",
                ),
                "ack": Text(
                    f"it acknowledges the client's SYN with client_isn + 1 = {x + 1}: a SYN uses up one sequence "
                    "number",
                    f"它用 client_isn + 1 = {x + 1} 确认客户端的 SYN：SYN 要占用一个序号",
                ),
                "client": Text(
                    "its SYN is acknowledged and it now knows the server's ISN, so it answers with an ACK",
                    "它的 SYN 得到了确认，也知道了服务端的初始序号，于是回复一个 ACK",
                ),
                "server": Text("it still waits for the ACK of its own SYN", "它还在等待对自己那个 SYN 的 ACK"),
            },
        ),
        Expected(
            Text("the client's ACK", "客户端的 ACK"), "client", [({"ACK"}, y + 1)], x + 1, "ESTABLISHED",
            "ESTABLISHED", {
                "sender": Text("the client acknowledges the server's SYN", "客户端确认服务端的 SYN"),
                "seq": Text(
                    f"the client's SYN used up client_isn, so it sends client_isn + 1 = {x + 1}",
                    f"客户端的 SYN 占用了 client_isn，所以它发送 client_isn + 1 = {x + 1}",
                ),
                "ack": Text(
                    f"it acknowledges the server's SYN with server_isn + 1 = {y + 1}: a SYN uses up one sequence "
                    "number",
                    f"它用 server_isn + 1 = {y + 1} 确认服务端的 SYN：SYN 要占用一个序号",
                ),
                "client": Text(
                    "nothing changes for the client when its ACK arrives", "它的 ACK 到达时，客户端的状态不变"
                ),
                "server": Text("its SYN is acknowledged now", "它的 SYN 现在得到了确认"),
            },
        ),
    ]


def _close(u: int, v: int) -> list[Expected]:
    return [
        Expected(
            Text("the client's FIN", "客户端的 FIN"), "client", [({"FIN"}, None), ({"FIN", "ACK"}, v)], u,
            "FIN_WAIT_1", "CLOSE_WAIT", {
                "sender": Text("the client closes first", "客户端先关闭"),
                "seq": Text(
                    f"the FIN carries the client's next sequence number u = client_seq = {u}",
                    f"FIN 携带客户端的下一个序号 u = client_seq = {u}",
                ),
                "ack": Text(
                    f"a FIN alone has no ack; a FIN+ACK acknowledges what the server sent so far, v = {v}",
                    f"单独的 FIN 没有 ack；FIN+ACK 确认服务端到目前为止发送的数据，v = {v}",
                ),
                "client": Text("it has sent its FIN and waits for the ACK", "它已经发出 FIN，正在等待 ACK"),
                "server": Text(
                    "it got the FIN: the client will send nothing more, but the server may still send",
                    "它收到了 FIN：客户端不会再发送数据，但服务端仍然可以发送",
                ),
            },
        ),
        Expected(
            Text("the server's ACK", "服务端的 ACK"), "server", [({"ACK"}, u + 1)], v, "FIN_WAIT_2", "CLOSE_WAIT", {
                "sender": Text("the server acknowledges the client's FIN", "服务端确认客户端的 FIN"),
                "seq": Text(
                    f"the server's next sequence number is v = server_seq = {v}",
                    f"服务端的下一个序号是 v = server_seq = {v}",
                ),
                "ack": Text(
                    f"it acknowledges the FIN with u + 1 = {u + 1}: a FIN uses up one sequence number",
                    f"它用 u + 1 = {u + 1} 确认 FIN：FIN 要占用一个序号",
                ),
                "client": Text(
                    "its FIN is acknowledged; it now waits for the server's FIN",
                    "它的 FIN 得到了确认；现在它等待服务端的 FIN",
                ),
                "server": Text("it has not closed its own side yet", "它还没有关闭自己这一端"),
            },
        ),
        Expected(
            Text("the server's FIN", "服务端的 FIN"), "server", [({"FIN", "ACK"}, u + 1), ({"FIN"}, None)], v,
            "TIME_WAIT", "LAST_ACK", {
                "sender": Text("now the server closes its side", "现在服务端关闭它这一端"),
                "seq": Text(
                    f"the server has sent no data since its ACK, so its FIN carries v = {v} again",
                    f"服务端发出 ACK 之后没有再发送数据，所以它的 FIN 仍然携带 v = {v}",
                ),
                "ack": Text(
                    f"a FIN+ACK still acknowledges the client's FIN with u + 1 = {u + 1}; a FIN alone has no ack",
                    f"FIN+ACK 仍然用 u + 1 = {u + 1} 确认客户端的 FIN；单独的 FIN 没有 ack",
                ),
                "client": Text(
                    "it got the server's FIN; after acknowledging it, it waits 2 MSL in TIME_WAIT in case that "
                    "ACK is lost",
                    "它收到了服务端的 FIN；确认之后，它要在 TIME_WAIT 状态等待 2 MSL，以防那个 ACK 丢失",
                ),
                "server": Text("it has sent its FIN and waits for the last ACK", "它已经发出 FIN，正在等待最后的 ACK"),
            },
        ),
        Expected(
            Text("the client's last ACK", "客户端最后的 ACK"), "client", [({"ACK"}, v + 1)], u + 1, "TIME_WAIT",
            "CLOSED", {
                "sender": Text("the client acknowledges the server's FIN", "客户端确认服务端的 FIN"),
                "seq": Text(
                    f"the client's FIN used up u, so it sends u + 1 = {u + 1}",
                    f"客户端的 FIN 占用了 u，所以它发送 u + 1 = {u + 1}",
                ),
                "ack": Text(
                    f"it acknowledges the server's FIN with v + 1 = {v + 1}: a FIN uses up one sequence number",
                    f"它用 v + 1 = {v + 1} 确认服务端的 FIN：FIN 要占用一个序号",
                ),
                "client": Text(
                    "it stays in TIME_WAIT for 2 MSL after sending the last ACK, and only then is CLOSED",
                    "发出最后的 ACK 之后，它要在 TIME_WAIT 停留 2 MSL，然后才进入 CLOSED",
                ),
                "server": Text(
                    "its FIN is acknowledged: the connection is gone on its side",
                    "它的 FIN 得到了确认：在它这一端，连接已经不存在了",
                ),
            },
        ),
    ]


def _show_flags(flags: set[str]) -> str:
    return "+".join(sorted(flags, key=["SYN", "FIN", "ACK"].index)) if flags <= {"SYN", "FIN", "ACK"} else str(flags)


SIDES_ZH = {"client": "客户端", "server": "服务端"}


def _check(call: str, rows: list[dict], expected: list[Expected]) -> None:
    assert len(rows) == len(expected), say(
        f"{call} returned {len(rows)} segments; expected {len(expected)}: "
        + ", ".join(segment.name.en for segment in expected),
        f"{call} 返回了 {len(rows)} 个报文段；应当是 {len(expected)} 个："
        + "、".join(segment.name.zh for segment in expected),
    )
    for number, (row, want) in enumerate(zip(rows, expected, strict=True), 1):
        where = f"{call}, segment {number} ({want.name.en})"
        where_zh = f"{call}，第 {number} 个报文段（{want.name.zh}）"
        why = want.why
        assert row["sender"] == want.sender, say(
            f"{where}: expected sender={want.sender!r}, got {row['sender']!r}: {why['sender'].en}",
            f"{where_zh}：sender 应当是 {want.sender!r}，实际是 {row['sender']!r}：{why['sender'].zh}",
        )
        allowed = {frozenset(flags): ack for flags, ack in want.flags}
        got_flags = frozenset(row["flags"]) if isinstance(row["flags"], list) else None
        assert got_flags in allowed, say(
            f"{where}: expected flags {' or '.join(repr(_show_flags(f)) for f, _ in want.flags)}, got {row['flags']}",
            f"{where_zh}：flags 应当是 {' 或 '.join(repr(_show_flags(f)) for f, _ in want.flags)}，"
            f"实际是 {row['flags']}",
        )
        assert row["seq"] == want.seq, say(
            f"{where}: expected seq={want.seq}, got seq={row['seq']}: {why['seq'].en}",
            f"{where_zh}：应当是 seq={want.seq}，实际是 seq={row['seq']}：{why['seq'].zh}",
        )
        assert row["ack"] == allowed[got_flags], say(
            f"{where}: expected ack={allowed[got_flags]}, got ack={row['ack']}: {why['ack'].en}",
            f"{where_zh}：应当是 ack={allowed[got_flags]}，实际是 ack={row['ack']}：{why['ack'].zh}",
        )
        for side in ("client", "server"):
            state = getattr(want, side)
            assert row[side] == state, say(
                f"{where}: once it has arrived the {side} should be in {state}, your code says {row[side]}: "
                f"{why[side].en}",
                f"{where_zh}：这个报文段到达之后，{SIDES_ZH[side]}应当处于 {state}，你的代码给出的是 {row[side]}："
                f"{why[side].zh}",
            )


def _numbers() -> tuple[int, int]:
    """Two different sequence numbers, well inside 32 bits so that + 1 never wraps around."""
    first = random.randrange(1, 2**32 - 2)
    second = random.randrange(1, 2**32 - 2)
    return (first, second) if first != second else (first, second // 2)


@pytest.mark.task(3)
def test_handshake_segments_and_states_follow_the_random_initial_sequence_numbers(student):
    for _ in range(2):
        x, y = _numbers()
        rows = student.run(probes.segments, "handshake", x, y)
        _check(f"handshake(client_isn={x}, server_isn={y})", rows, _handshake(x, y))


@pytest.mark.task(4)
def test_four_way_close_segments_and_states_follow_the_random_sequence_numbers(student):
    for _ in range(2):
        u, v = _numbers()
        rows = student.run(probes.segments, "four_way_close", u, v)
        _check(f"four_way_close(client_seq={u}, server_seq={v})", rows, _close(u, v))


def _arrivals(x: int, y: int, other: int) -> list[tuple[list[tuple[str, int, int | None]], str, Text]]:
    """(arrived, the state it leaves, why) for a server in LISTEN whose SYN+ACK carries seq y; the client's SYN
    carries x, and `other` is the ISN of some other server's SYN+ACK."""
    syn, ack, rst = ("SYN", x, None), ("ACK", x + 1, y + 1), ("RST", x + 1, None)
    return [
        ([syn], "SYN_RCVD", Text(
            "a SYN alone proves nothing: it may be an old request that lingered in the network (the outline's "
            "reason for the third segment). Were the server ESTABLISHED now, a stale SYN would open a connection "
            "nobody uses; it waits in SYN_RCVD for the ACK of its SYN+ACK",
            "单凭一个 SYN 什么也证明不了：它可能是在网络中滞留已久的旧请求（这正是大纲给出的第三次握手的原因）。"
            "如果服务端这时就进入 ESTABLISHED，一个过期的 SYN 就会打开一个没人使用的连接；它要在 SYN_RCVD 等待对它的 "
            "SYN+ACK 的 ACK",
        )),
        ([syn, ack], "ESTABLISHED", Text(
            f"the ACK acknowledges the server's SYN+ACK with server_isn + 1 = {y + 1}: only a client that received "
            "this very SYN+ACK can send that number, so it really asks for this connection",
            f"这个 ACK 用 server_isn + 1 = {y + 1} 确认了服务端的 SYN+ACK：只有真正收到这个 SYN+ACK 的客户端才能"
            "发出这个确认号，所以它确实要建立这个连接",
        )),
        ([syn, rst], "LISTEN", Text(
            "the client never sent that SYN (it was an old one) and answered the SYN+ACK with an RST: the server "
            "drops the half-open connection and goes back to LISTEN",
            "客户端根本没有发过那个 SYN（那是一个旧请求），于是用 RST 回应 SYN+ACK：服务端丢弃这个半开的连接，"
            "回到 LISTEN",
        )),
        ([syn, ("ACK", x + 1, y)], "SYN_RCVD", Text(
            f"ack = server_isn = {y} does not acknowledge the SYN+ACK: a SYN uses up one sequence number, so its "
            f"ACK carries server_isn + 1 = {y + 1}; the server keeps waiting",
            f"ack = server_isn = {y} 没有确认 SYN+ACK：SYN 要占用一个序号，所以对它的 ACK 携带的是 server_isn + 1 = "
            f"{y + 1}；服务端继续等待",
        )),
        ([syn, ("ACK", x + 1, other + 1)], "SYN_RCVD", Text(
            f"this ACK acknowledges some other SYN+ACK (seq {other}), not this server's (seq {y}): it proves "
            "nothing about this connection, so the server keeps waiting",
            f"这个 ACK 确认的是另一个 SYN+ACK（seq {other}），而不是这个服务端的（seq {y}）：它不能证明与这个连接有关"
            "的任何事，所以服务端继续等待",
        )),
        ([ack], "LISTEN", Text(
            "a listening server only starts a connection on a SYN: an ACK on its own (left over from an old "
            "connection) changes nothing",
            "处于监听状态的服务端只有收到 SYN 才会开始建立连接：单独一个 ACK（旧连接遗留下来的）不会改变任何状态",
        )),
        ([syn, syn, ack], "ESTABLISHED", Text(
            "the client sent its SYN again (it thought the first one lost); the server answers it again and stays "
            "in SYN_RCVD until the ACK of its SYN+ACK opens the connection",
            "客户端重发了 SYN（它以为第一个丢了）；服务端再回复一次，并停在 SYN_RCVD，直到对它的 SYN+ACK 的 ACK "
            "建立连接",
        )),
        ([rst, syn], "SYN_RCVD", Text(
            "an RST reaching a listening server changes nothing; the SYN then takes it to SYN_RCVD",
            "处于监听状态的服务端收到 RST 不会改变状态；随后的 SYN 让它进入 SYN_RCVD",
        )),
    ]


def check_server_states(cases: list[tuple[list, int]], answers: list[dict], expected: list[tuple[str, Text]]) -> None:
    """Each answer against the state expected, with why; the message names the first case that is wrong."""
    assert len(answers) == len(cases), say(
        f"expected {len(cases)} answers, got {len(answers)}", f"应当有 {len(cases)} 个答案，实际得到 {len(answers)} 个"
    )
    for (arrived, server_isn), got, (state, why) in zip(cases, answers, expected, strict=True):
        call = f"server_state({arrived}, server_isn={server_isn})"
        if "raised" in got:
            pytest.fail(
                say(
                    f"{call} raised {got['raised']}; expected {state!r}: {why.en}",
                    f"{call} 抛出了 {got['raised']}；应当返回 {state!r}：{why.zh}",
                ),
                pytrace=False,
            )
        assert got["value"] == state, say(
            f"{call} returned {got['value']!r}; expected {state!r}: {why.en}",
            f"{call} 返回了 {got['value']!r}；应当是 {state!r}：{why.zh}",
        )


@pytest.mark.task(5)
def test_server_opens_the_connection_only_on_the_ack_of_its_own_syn(student):
    x, y = _numbers()
    other = (y + random.randrange(1_000, 1_000_000)) % (2**32 - 2)
    scenarios = _arrivals(x, y, other)
    cases = [(arrived, y) for arrived, _, _ in scenarios]
    answers = student.run(probes.server_states, cases)
    check_server_states(cases, answers, [(state, why) for _, state, why in scenarios])


def random_mac() -> str:
    return ":".join(f"{random.randrange(256):02x}" for _ in range(6))


def random_ip() -> str:
    return ".".join(str(random.randrange(1, 255)) for _ in range(4))


def make_frame(dst_mac: str, src_mac: str, dst_ip: str, src_ip: str, dst_port: int, src_port: int) -> dict:
    segment = {"dst_port": dst_port, "src_port": src_port, "flags": "PSH+ACK", "payload": b"GET / HTTP/1.1\r\n\r\n"}
    return {"dst_mac": dst_mac, "src_mac": src_mac, "packet": {"dst_ip": dst_ip, "src_ip": src_ip, "segment": segment}}


def why_delivered(frame: dict, host: dict, layer: str) -> Text:
    """Why `layer` is the answer for this frame on this host, naming the fields each layer reads."""
    packet, segment = frame["packet"], frame["packet"]["segment"]
    mac, ip, port = frame["dst_mac"], packet["dst_ip"], segment["dst_port"]
    if layer == "data link":
        return Text(
            f"the data link layer delivers between neighbouring nodes (两个相邻节点之间) by MAC address, and it reads "
            f"its header first: dst_mac {mac} is not this host's {host['mac']}, so the frame is dropped there, before "
            "anyone reads its IP header or its port (src_mac only says which neighbour sent it)",
            f"数据链路层按 MAC 地址在两个相邻节点之间传输，而且它最先读自己的报头：dst_mac {mac} 不是本机的 "
            f"{host['mac']}，所以帧在这一层就被丢弃了，还没有人读到它的 IP 报头或端口（src_mac 只说明是哪个相邻节点"
            "发来的）",
        )
    if layer == "network":
        return Text(
            f"dst_mac is this host's, so the data link layer passes the packet up; the network layer finds the "
            f"destination host by IP address (选择路由并正确的找着目标主机): dst_ip {ip} is not this host's "
            f"{host['ip']}, so the packet is dropped there, before the transport layer ever reads a port (src_ip only "
            "says who sent it)",
            "dst_mac 是本机的，所以数据链路层把分组交给上一层；网络层按 IP 地址找到目标主机（选择路由并正确的找着"
            f"目标主机）：dst_ip {ip} 不是本机的 {host['ip']}，所以分组在这一层就被丢弃了，传输层根本读不到端口"
            "（src_ip 只说明是谁发的）",
        )
    if layer == "transport":
        return Text(
            "dst_mac and dst_ip are this host's, so the segment reaches the transport layer, which delivers end to "
            f"end (端对端) to one program by port: no program listens on dst_port {port} (open: "
            f"{host['open_ports']}), so the transport layer drops it",
            "dst_mac 和 dst_ip 都是本机的，所以报文段到达传输层，传输层按端口端对端地交给某一个程序：没有程序在 "
            f"dst_port {port} 上监听（开放的端口：{host['open_ports']}），所以传输层丢弃它",
        )
    return Text(
        f"dst_mac and dst_ip are this host's and a program listens on dst_port {port}: every layer passes it up and "
        "the payload reaches the application, whoever sent it (src_mac and src_ip say who sent it, not where it goes)",
        f"dst_mac 和 dst_ip 都是本机的，并且有程序在 dst_port {port} 上监听：每一层都把它交给上一层，payload 到达"
        "应用，不管是谁发的（src_mac 和 src_ip 说的是谁发的，而不是发给谁）",
    )


def check_deliveries(cases: list[tuple[dict, dict]], answers: list[dict], expected: list[str]) -> None:
    assert len(answers) == len(cases), say(
        f"expected {len(cases)} answers, got {len(answers)}", f"应当有 {len(cases)} 个答案，实际得到 {len(answers)} 个"
    )
    for (frame, host), got, layer in zip(cases, answers, expected, strict=True):
        call = f"deliver(frame={frame}, host={host})"
        why = why_delivered(frame, host, layer)
        if "raised" in got:
            pytest.fail(
                say(
                    f"{call} raised {got['raised']}; expected {layer!r}: {why.en}",
                    f"{call} 抛出了 {got['raised']}；应当返回 {layer!r}：{why.zh}",
                ),
                pytrace=False,
            )
        assert got["value"] == repr(layer), say(
            f"{call} returned {got['value']}; expected {layer!r}: {why.en}",
            f"{call} 返回了 {got['value']}；应当是 {layer!r}：{why.zh}",
        )


def _other(value: str, draw: Callable[[], str]) -> str:
    """Another value than `value`, from `draw`."""
    while (other := draw()) == value:
        pass
    return other


@pytest.mark.task(6)
def test_deliver_drops_a_frame_at_the_layer_whose_header_is_not_for_this_host(student):
    host = {"mac": random_mac(), "ip": random_ip(), "open_ports": random.sample(range(1, 65536), 3)}
    port = random.choice(host["open_ports"])
    closed = random.choice([number for number in range(1, 1025) if number not in host["open_ports"]])
    mac, ip = host["mac"], host["ip"]
    other_mac, other_ip = _other(mac, random_mac), _other(ip, random_ip)
    client_port = random.randrange(49152, 65536)
    # (dst_mac, src_mac, dst_ip, src_ip, dst_port, expected): the source fields are some other machine's, or
    # this host's own where a layer that read the source instead of the destination would be fooled.
    rows = [
        (mac, random_mac(), ip, random_ip(), port, "application"),
        (other_mac, random_mac(), ip, random_ip(), port, "data link"),
        (mac, random_mac(), other_ip, random_ip(), port, "network"),
        (mac, random_mac(), ip, random_ip(), closed, "transport"),
        (other_mac, random_mac(), other_ip, random_ip(), port, "data link"),
        (mac, random_mac(), other_ip, random_ip(), closed, "network"),
        (other_mac, mac, other_ip, ip, port, "data link"),
        (mac, random_mac(), other_ip, ip, port, "network"),
    ]
    cases = [
        (make_frame(dst_mac, src_mac, dst_ip, src_ip, dst_port, client_port), host)
        for dst_mac, src_mac, dst_ip, src_ip, dst_port, _ in rows
    ]
    answers = student.run(probes.deliveries, cases)
    check_deliveries(cases, answers, [row[-1] for row in rows])
