"""Property graders of tcp-handshake, kept out of students' repositories: hypothesis generates the inputs.

Each example is one batch of inputs that a single `student.run` maps the student's function over (a call
into the worker per input would be slow); the grader then judges every answer. Generation is derandomized,
so a verdict never changes between runs, and shrinking is off: the message names the shortest wrong case of
the batch instead.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.harness.core.curriculum import Text, say
from graders.harness.core.properties import deterministic
from graders.tcp_handshake import probes
from graders.tcp_handshake.oracle_hidden import deliver, server_state
from graders.tcp_handshake.test_tcp_handshake import (
    _check,
    _close,
    _handshake,
    check_deliveries,
    check_server_states,
    make_frame,
)

pytestmark = pytest.mark.hidden

BATCH = 60
PROPERTIES = deterministic(4)
# Sequence numbers well inside 32 bits, so that + 1 never wraps around (the README does not ask for wrapping).
NUMBERS = st.integers(min_value=0, max_value=2**32 - 3)


def _check_each(function: str, pairs: list[tuple[int, int]], answers: list, expected: list) -> None:
    for (first, second), rows, want in zip(pairs, answers, expected, strict=True):
        names = ("client_isn", "server_isn") if function == "handshake" else ("client_seq", "server_seq")
        call = f"{function}({names[0]}={first}, {names[1]}={second})"
        if isinstance(rows, dict):
            pytest.fail(say(f"{call}: {rows['mistake']}", f"{call}：{rows['mistake']}"), pytrace=False)
        _check(call, rows, want)


@pytest.mark.task(3)
@PROPERTIES
@given(pairs=st.lists(st.tuples(NUMBERS, NUMBERS), min_size=BATCH, max_size=BATCH))
def test_handshake_holds_for_any_initial_sequence_numbers(student, pairs):
    answers = student.run(probes.segments_of_each, "handshake", pairs)
    _check_each("handshake", pairs, answers, [_handshake(x, y) for x, y in pairs])


@pytest.mark.task(4)
@PROPERTIES
@given(pairs=st.lists(st.tuples(NUMBERS, NUMBERS), min_size=BATCH, max_size=BATCH))
def test_four_way_close_holds_for_any_sequence_numbers(student, pairs):
    answers = student.run(probes.segments_of_each, "four_way_close", pairs)
    _check_each("four_way_close", pairs, answers, [_close(u, v) for u, v in pairs])


# What may reach the server, as a token turned into (flags, seq, ack) once the numbers are drawn: the SYN (sent
# again, too), the right ACK, ACKs of the wrong number, and RSTs.
TOKENS = ["SYN", "ACK", "ACK of server_isn", "ACK of server_isn + 2", "ACK of another", "RST"]


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[tuple[str, int, int | None]], int]:
    x, y, other = draw(NUMBERS), draw(NUMBERS), draw(NUMBERS.filter(lambda n: n > 0))
    segments = {
        "SYN": ("SYN", x, None),
        "ACK": ("ACK", x + 1, y + 1),
        "ACK of server_isn": ("ACK", x + 1, y),
        "ACK of server_isn + 2": ("ACK", x + 1, y + 2),
        "ACK of another": ("ACK", x + 1, (y + other) % (2**32 - 2) + 1),
        "RST": ("RST", x + 1, None),
    }
    arrived: list[tuple[str, int, int | None]] = []
    for token in draw(st.lists(st.sampled_from(TOKENS), max_size=7)):
        arrived.append(segments[token])
        if server_state(arrived, y) == "ESTABLISHED":
            break  # the README promises that nothing arrives after that
    return arrived, y


@pytest.mark.task(5)
@PROPERTIES
@given(cases=st.lists(arrivals(), min_size=BATCH, max_size=BATCH))
def test_server_state_agrees_with_the_handshake_for_any_arrivals(student, cases):
    answers = student.run(probes.server_states, cases)
    assert len(answers) == len(cases), say(
        f"expected {len(cases)} answers, got {len(answers)}", f"应当有 {len(cases)} 个答案，实际得到 {len(answers)} 个"
    )
    wrong = [
        (len(arrived), index)
        for index, ((arrived, server_isn), answer) in enumerate(zip(cases, answers, strict=True))
        if answer != {"value": server_state(arrived, server_isn)}
    ]
    if wrong:
        _, first = min(wrong)  # the shortest wrong case is the easiest to follow
        case = cases[first]
        check_server_states([case], [answers[first]], [(server_state(*case), _why(*case))])


def _why(arrived: list[tuple[str, int, int | None]], server_isn: int) -> Text:
    """The rule of the README that decides this case: what the last arrival that mattered did."""
    because = Text(
        "nothing that arrived changes the state of a listening server", "到达的报文段都不会改变监听中的服务端的状态"
    )
    for end, (flags, _seq, ack) in enumerate(arrived, 1):
        before, after = server_state(arrived[: end - 1], server_isn), server_state(arrived[:end], server_isn)
        if after == "SYN_RCVD" and before == "LISTEN":
            because = Text(
                "a SYN takes a listening server to SYN_RCVD, never straight to ESTABLISHED: it may be an old "
                "request that lingered in the network",
                "SYN 让处于监听状态的服务端进入 SYN_RCVD，绝不会直接进入 ESTABLISHED：它可能是在网络中滞留已久的旧请求",
            )
        elif after == "LISTEN" and before == "SYN_RCVD":
            because = Text(
                "an RST in SYN_RCVD (the client never sent that SYN) sends the server back to LISTEN",
                "在 SYN_RCVD 状态下收到 RST（客户端根本没有发过那个 SYN），服务端回到 LISTEN",
            )
        elif after == "ESTABLISHED":
            because = Text(
                f"an ACK with ack = server_isn + 1 = {server_isn + 1} acknowledges the server's own SYN+ACK: "
                "only then does the connection open",
                f"ack = server_isn + 1 = {server_isn + 1} 的 ACK 确认了服务端自己的 SYN+ACK：只有这时连接才建立",
            )
        elif after == "SYN_RCVD" and flags == "ACK":
            because = Text(
                f"an ACK with ack = {ack} does not acknowledge the SYN+ACK (that needs server_isn + 1 = "
                f"{server_isn + 1}): the server keeps waiting in SYN_RCVD",
                f"ack = {ack} 的 ACK 没有确认 SYN+ACK（那需要 server_isn + 1 = {server_isn + 1}）：服务端继续在 "
                "SYN_RCVD 等待",
            )
        elif after == "SYN_RCVD" and flags == "SYN":
            because = Text(
                "a SYN sent again changes nothing: the server stays in SYN_RCVD until the ACK of its SYN+ACK",
                "重发的 SYN 不改变任何状态：服务端停在 SYN_RCVD，直到收到对它的 SYN+ACK 的 ACK",
            )
        elif after == "LISTEN":
            because = Text(
                f"an {flags} reaching a listening server changes nothing: only a SYN starts a connection",
                f"处于监听状态的服务端收到 {flags} 不会改变状态：只有 SYN 才会开始建立连接",
            )
    return because


MACS = st.lists(st.integers(0, 255), min_size=6, max_size=6).map(lambda octets: ":".join(f"{o:02x}" for o in octets))
IPS = st.lists(st.integers(1, 254), min_size=4, max_size=4).map(lambda octets: ".".join(map(str, octets)))
PORTS = st.integers(1, 65535)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict, dict]:
    """A host and a frame whose destination MAC, IP and port are each this host's (an open port) or not, and
    whose source MAC and IP are sometimes this host's own: a layer reading the source would be fooled."""
    open_ports = draw(st.lists(PORTS, min_size=1, max_size=4, unique=True))
    host = {"mac": draw(MACS), "ip": draw(IPS), "open_ports": open_ports}

    def pick(own: object, others: st.SearchStrategy) -> object:
        return own if draw(st.booleans()) else draw(others.filter(lambda value: value != own))

    closed = PORTS.filter(lambda port: port not in host["open_ports"])
    dst_port = draw(st.sampled_from(host["open_ports"])) if draw(st.booleans()) else draw(closed)
    frame = make_frame(
        pick(host["mac"], MACS), pick(host["mac"], MACS), pick(host["ip"], IPS), pick(host["ip"], IPS), dst_port,
        draw(PORTS),
    )
    return frame, host


@pytest.mark.task(6)
@PROPERTIES
@given(cases=st.lists(deliveries(), min_size=BATCH, max_size=BATCH))
def test_deliver_agrees_with_the_layers_for_any_addresses_and_ports(student, cases):
    answers = student.run(probes.deliveries, cases)
    assert len(answers) == len(cases), say(
        f"expected {len(cases)} answers, got {len(answers)}", f"应当有 {len(cases)} 个答案，实际得到 {len(answers)} 个"
    )
    wrong = [
        index
        for index, ((frame, host), answer) in enumerate(zip(cases, answers, strict=True))
        if answer != {"value": repr(deliver(frame, host))}
    ]
    if wrong:
        case = cases[wrong[0]]
        check_deliveries([case], [answers[wrong[0]]], [deliver(*case)])
