"""Grades exercises/tcp_handshake: the layer models, the three-way handshake, the four-way close, and why."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

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
WHY_TCP_IP = {
    "application": "TCP/IP keeps OSI's application layer as its application layer",
    "presentation": "TCP/IP folds OSI's application, presentation and session layers into its one application layer",
    "session": "TCP/IP folds OSI's application, presentation and session layers into its one application layer",
    "transport": "the transport layer is the same in both models",
    "network": "the network layer is the same in both models",
    "data link": "TCP/IP's lowest layer, data link (网络通信硬件及接口), covers OSI's data link and physical layers",
    "physical": "TCP/IP's lowest layer, data link (网络通信硬件及接口), covers OSI's data link and physical layers",
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
            pytest.fail(f"tcp_ip_layer({layer!r}) raised {got['raised']}; expected {expected!r}", pytrace=False)
        assert got["value"] == repr(expected), (
            f"tcp_ip_layer({layer!r}) returned {got['value']}; expected {expected!r}: {WHY_TCP_IP[layer]}"
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
                    f"protocol_layer({name!r}) raised {got['raised']}, while protocol_layer({name.upper()!r}) "
                    "worked: compare protocol names in any letter case (e.g. protocol.upper())",
                    pytrace=False,
                )
            pytest.fail(f"protocol_layer({name!r}) raised {got['raised']}; expected {expected!r}", pytrace=False)
        assert got["value"] == repr(expected), (
            f"protocol_layer({name!r}) returned {got['value']}; the outline's table puts {name.upper()} in the "
            f"{expected} layer (协议 column of the table)"
        )


@dataclass
class Expected:
    """One segment as it must be, with the reason for each field, for the message when a field is wrong."""

    name: str
    sender: str
    flags: list[tuple[set[str], int | None]]  # the flags allowed, each with the ack it then needs
    seq: int
    client: str
    server: str
    why: dict[str, str] = field(default_factory=dict)


def _handshake(x: int, y: int) -> list[Expected]:
    return [
        Expected("the client's SYN", "client", [({"SYN"}, None)], x, "SYN_SENT", "SYN_RCVD", {
            "sender": "the client opens the connection",
            "seq": f"the SYN carries the client's initial sequence number client_isn = {x}",
            "ack": "a SYN alone has no ACK flag, so its ack is None",
            "client": "it has sent its SYN and waits for the answer",
            "server": "it has received a SYN and answered it at once with its own SYN+ACK",
        }),
        Expected("the server's SYN+ACK", "server", [({"SYN", "ACK"}, x + 1)], y, "ESTABLISHED", "SYN_RCVD", {
            "sender": "the server answers the SYN",
            "seq": f"the server's SYN carries its own initial sequence number server_isn = {y}",
            "ack": f"it acknowledges the client's SYN with client_isn + 1 = {x + 1}: a SYN uses up one sequence number",
            "client": "its SYN is acknowledged and it now knows the server's ISN, so it answers with an ACK",
            "server": "it still waits for the ACK of its own SYN",
        }),
        Expected("the client's ACK", "client", [({"ACK"}, y + 1)], x + 1, "ESTABLISHED", "ESTABLISHED", {
            "sender": "the client acknowledges the server's SYN",
            "seq": f"the client's SYN used up client_isn, so it sends client_isn + 1 = {x + 1}",
            "ack": f"it acknowledges the server's SYN with server_isn + 1 = {y + 1}: a SYN uses up one sequence number",
            "client": "nothing changes for the client when its ACK arrives",
            "server": "its SYN is acknowledged now",
        }),
    ]


def _close(u: int, v: int) -> list[Expected]:
    return [
        Expected("the client's FIN", "client", [({"FIN"}, None), ({"FIN", "ACK"}, v)], u, "FIN_WAIT_1", "CLOSE_WAIT", {
            "sender": "the client closes first",
            "seq": f"the FIN carries the client's next sequence number u = client_seq = {u}",
            "ack": f"a FIN alone has no ack; a FIN+ACK acknowledges what the server sent so far, v = {v}",
            "client": "it has sent its FIN and waits for the ACK",
            "server": "it got the FIN: the client will send nothing more, but the server may still send",
        }),
        Expected("the server's ACK", "server", [({"ACK"}, u + 1)], v, "FIN_WAIT_2", "CLOSE_WAIT", {
            "sender": "the server acknowledges the client's FIN",
            "seq": f"the server's next sequence number is v = server_seq = {v}",
            "ack": f"it acknowledges the FIN with u + 1 = {u + 1}: a FIN uses up one sequence number",
            "client": "its FIN is acknowledged; it now waits for the server's FIN",
            "server": "it has not closed its own side yet",
        }),
        Expected("the server's FIN", "server", [({"FIN", "ACK"}, u + 1), ({"FIN"}, None)], v, "TIME_WAIT", "LAST_ACK", {
            "sender": "now the server closes its side",
            "seq": f"the server has sent no data since its ACK, so its FIN carries v = {v} again",
            "ack": f"a FIN+ACK still acknowledges the client's FIN with u + 1 = {u + 1}; a FIN alone has no ack",
            "client": "it got the server's FIN; after acknowledging it, it waits 2 MSL in TIME_WAIT in case that "
            "ACK is lost",
            "server": "it has sent its FIN and waits for the last ACK",
        }),
        Expected("the client's last ACK", "client", [({"ACK"}, v + 1)], u + 1, "TIME_WAIT", "CLOSED", {
            "sender": "the client acknowledges the server's FIN",
            "seq": f"the client's FIN used up u, so it sends u + 1 = {u + 1}",
            "ack": f"it acknowledges the server's FIN with v + 1 = {v + 1}: a FIN uses up one sequence number",
            "client": "it stays in TIME_WAIT for 2 MSL after sending the last ACK, and only then is CLOSED",
            "server": "its FIN is acknowledged: the connection is gone on its side",
        }),
    ]


def _show_flags(flags: set[str]) -> str:
    return "+".join(sorted(flags, key=["SYN", "FIN", "ACK"].index)) if flags <= {"SYN", "FIN", "ACK"} else str(flags)


def _check(call: str, rows: list[dict], expected: list[Expected]) -> None:
    assert len(rows) == len(expected), (
        f"{call} returned {len(rows)} segments; expected {len(expected)}: "
        + ", ".join(segment.name for segment in expected)
    )
    for number, (row, want) in enumerate(zip(rows, expected, strict=True), 1):
        where = f"{call}, segment {number} ({want.name})"
        assert row["sender"] == want.sender, (
            f"{where}: expected sender={want.sender!r}, got {row['sender']!r}: {want.why['sender']}"
        )
        allowed = {frozenset(flags): ack for flags, ack in want.flags}
        got_flags = frozenset(row["flags"]) if isinstance(row["flags"], list) else None
        assert got_flags in allowed, (
            f"{where}: expected flags {' or '.join(repr(_show_flags(f)) for f, _ in want.flags)}, got {row['flags']}"
        )
        assert row["seq"] == want.seq, f"{where}: expected seq={want.seq}, got seq={row['seq']}: {want.why['seq']}"
        assert row["ack"] == allowed[got_flags], (
            f"{where}: expected ack={allowed[got_flags]}, got ack={row['ack']}: {want.why['ack']}"
        )
        for side in ("client", "server"):
            state = getattr(want, side)
            assert row[side] == state, (
                f"{where}: once it has arrived the {side} should be in {state}, your code says {row[side]}: "
                f"{want.why[side]}"
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


def _arrivals(x: int, y: int, other: int) -> list[tuple[list[tuple[str, int, int | None]], str, str]]:
    """(arrived, the state it leaves, why) for a server in LISTEN whose SYN+ACK carries seq y; the client's SYN
    carries x, and `other` is the ISN of some other server's SYN+ACK."""
    syn, ack, rst = ("SYN", x, None), ("ACK", x + 1, y + 1), ("RST", x + 1, None)
    return [
        ([syn], "SYN_RCVD", "a SYN alone proves nothing: it may be an old request that lingered in the network "
         "(the outline's reason for the third segment). Were the server ESTABLISHED now, a stale SYN would open a "
         "connection nobody uses; it waits in SYN_RCVD for the ACK of its SYN+ACK"),
        ([syn, ack], "ESTABLISHED", f"the ACK acknowledges the server's SYN+ACK with server_isn + 1 = {y + 1}: only "
         "a client that received this very SYN+ACK can send that number, so it really asks for this connection"),
        ([syn, rst], "LISTEN", "the client never sent that SYN (it was an old one) and answered the SYN+ACK with "
         "an RST: the server drops the half-open connection and goes back to LISTEN"),
        ([syn, ("ACK", x + 1, y)], "SYN_RCVD", f"ack = server_isn = {y} does not acknowledge the SYN+ACK: a SYN "
         f"uses up one sequence number, so its ACK carries server_isn + 1 = {y + 1}; the server keeps waiting"),
        ([syn, ("ACK", x + 1, other + 1)], "SYN_RCVD", f"this ACK acknowledges some other SYN+ACK (seq {other}), "
         f"not this server's (seq {y}): it proves nothing about this connection, so the server keeps waiting"),
        ([ack], "LISTEN", "a listening server only starts a connection on a SYN: an ACK on its own (left over from "
         "an old connection) changes nothing"),
        ([syn, syn, ack], "ESTABLISHED", "the client sent its SYN again (it thought the first one lost); the "
         "server answers it again and stays in SYN_RCVD until the ACK of its SYN+ACK opens the connection"),
        ([rst, syn], "SYN_RCVD", "an RST reaching a listening server changes nothing; the SYN then takes it to "
         "SYN_RCVD"),
    ]


def check_server_states(cases: list[tuple[list, int]], answers: list[dict], expected: list[tuple[str, str]]) -> None:
    """Each answer against the state expected, with why; the message names the first case that is wrong."""
    assert len(answers) == len(cases), f"expected {len(cases)} answers, got {len(answers)}"
    for (arrived, server_isn), got, (state, why) in zip(cases, answers, expected, strict=True):
        call = f"server_state({arrived}, server_isn={server_isn})"
        if "raised" in got:
            pytest.fail(f"{call} raised {got['raised']}; expected {state!r}: {why}", pytrace=False)
        assert got["value"] == state, f"{call} returned {got['value']!r}; expected {state!r}: {why}"


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


def why_delivered(frame: dict, host: dict, layer: str) -> str:
    """Why `layer` is the answer for this frame on this host, naming the fields each layer reads."""
    packet, segment = frame["packet"], frame["packet"]["segment"]
    mac, ip, port = frame["dst_mac"], packet["dst_ip"], segment["dst_port"]
    if layer == "data link":
        return (
            f"the data link layer delivers between neighbouring nodes (两个相邻节点之间) by MAC address, and it reads "
            f"its header first: dst_mac {mac} is not this host's {host['mac']}, so the frame is dropped there, before "
            "anyone reads its IP header or its port (src_mac only says which neighbour sent it)"
        )
    if layer == "network":
        return (
            f"dst_mac is this host's, so the data link layer passes the packet up; the network layer finds the "
            f"destination host by IP address (选择路由并正确的找着目标主机): dst_ip {ip} is not this host's "
            f"{host['ip']}, so the packet is dropped there, before the transport layer ever reads a port (src_ip only "
            "says who sent it)"
        )
    if layer == "transport":
        return (
            "dst_mac and dst_ip are this host's, so the segment reaches the transport layer, which delivers end to "
            f"end (端对端) to one program by port: no program listens on dst_port {port} (open: "
            f"{host['open_ports']}), so the transport layer drops it"
        )
    return (
        f"dst_mac and dst_ip are this host's and a program listens on dst_port {port}: every layer passes it up and "
        "the payload reaches the application, whoever sent it (src_mac and src_ip say who sent it, not where it goes)"
    )


def check_deliveries(cases: list[tuple[dict, dict]], answers: list[dict], expected: list[str]) -> None:
    assert len(answers) == len(cases), f"expected {len(cases)} answers, got {len(answers)}"
    for (frame, host), got, layer in zip(cases, answers, expected, strict=True):
        call = f"deliver(frame={frame}, host={host})"
        why = why_delivered(frame, host, layer)
        if "raised" in got:
            pytest.fail(f"{call} raised {got['raised']}; expected {layer!r}: {why}", pytrace=False)
        assert got["value"] == repr(layer), f"{call} returned {got['value']}; expected {layer!r}: {why}"


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
