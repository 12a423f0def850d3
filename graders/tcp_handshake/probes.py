"""Probes for the tcp-handshake topic: they call the student's pure functions and return plain data."""

from __future__ import annotations

import re
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

# Each state in a compact spelling (letters and digits only), so "SYN-RECEIVED", "syn_rcvd" and "FIN_WAIT1"
# are all understood; the value is the spelling the README uses.
_STATES = {
    "CLOSED": "CLOSED",
    "LISTEN": "LISTEN",
    "SYNSENT": "SYN_SENT",
    "SYNRCVD": "SYN_RCVD",
    "SYNRECV": "SYN_RCVD",
    "SYNRECEIVED": "SYN_RCVD",
    "ESTABLISHED": "ESTABLISHED",
    "FINWAIT1": "FIN_WAIT_1",
    "FINWAIT2": "FIN_WAIT_2",
    "CLOSEWAIT": "CLOSE_WAIT",
    "LASTACK": "LAST_ACK",
    "TIMEWAIT": "TIME_WAIT",
    "CLOSING": "CLOSING",
}


def _answer(call: Any, *args: Any) -> dict:
    """What one call returned, or what it raised, as plain data."""
    try:
        value = call(*args)
    except NotImplementedError:
        raise
    except Exception as error:
        return {"raised": f"{type(error).__name__}: {error}"}
    return {"value": repr(value)}


def tcp_ip_layers(osi_layers: list[str]) -> dict[str, dict]:
    layers = student_module("layers")
    return {layer: _answer(layers.tcp_ip_layer, layer) for layer in osi_layers}


def protocol_layers(names: list[str]) -> dict[str, dict]:
    layers = student_module("layers")
    return {name: _answer(layers.protocol_layer, name) for name in names}


def _flags(flags: Any) -> list[str] | str:
    if isinstance(flags, str):
        return sorted(word.upper() for word in re.split(r"[^A-Za-z]+", flags) if word)
    if isinstance(flags, (set, frozenset, list, tuple)) and all(isinstance(flag, str) for flag in flags):
        return sorted(flag.strip().upper() for flag in flags)
    return repr(flags)


def _number(value: Any) -> int | str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return repr(value)


def _state(state: Any) -> str:
    if not isinstance(state, str):
        return repr(state)
    return _STATES.get(re.sub(r"[^A-Z0-9]", "", state.upper()), state)


def segments(function: str, first: int, second: int) -> list[dict]:
    """Call handshake() or four_way_close(); each segment comes back with its fields in a plain form."""
    result = getattr(student_module("handshake"), function)(first, second)
    if not isinstance(result, (list, tuple)):
        raise StudentMistake(say(
            f"{function}() should return a list of Segment; it returned {type(result).__name__}",
            f"{function}() 应当返回一个由 Segment 组成的列表；它返回的是 {type(result).__name__}",
        ))
    rows = []
    for number, segment in enumerate(result, 1):
        try:
            sender, flags, seq, ack, client, server = segment
        except (TypeError, ValueError):
            raise StudentMistake(say(
                f"segment {number} of {function}() should be a Segment(sender, flags, seq, ack, client, server); "
                f"it is {segment!r:.200}",
                f"{function}() 的第 {number} 个报文段应当是一个 Segment(sender, flags, seq, ack, client, server)；"
                f"它是 {segment!r:.200}",
            )) from None
        rows.append(
            {
                "sender": sender.strip().lower() if isinstance(sender, str) else repr(sender),
                "flags": _flags(flags),
                "seq": _number(seq),
                "ack": _number(ack),
                "client": _state(client),
                "server": _state(server),
            }
        )
    return rows


def server_states(cases: list[tuple[list[tuple[str, int, int | None]], int]]) -> list[dict]:
    """server_state(arrived, server_isn) for each case, as {"value": state} or {"raised": why}."""
    server_state = student_module("handshake").server_state
    answers = []
    for arrived, server_isn in cases:
        try:
            state = server_state([tuple(segment) for segment in arrived], server_isn)
        except NotImplementedError:
            raise
        except Exception as error:
            answers.append({"raised": f"{type(error).__name__}: {error}"})
            continue
        answers.append({"value": _state(state)})
    return answers


def segments_of_each(function: str, pairs: list[tuple[int, int]]) -> list[list[dict] | dict]:
    """segments(function, first, second) for many pairs in one call; a mistake comes back as {"mistake": ...}."""
    answers: list[list[dict] | dict] = []
    for first, second in pairs:
        try:
            answers.append(segments(function, first, second))
        except NotImplementedError:
            raise
        except StudentMistake as mistake:
            answers.append({"mistake": str(mistake)})
        except Exception as error:
            answers.append({"mistake": say(
                f"{function}({first}, {second}) raised {type(error).__name__}: {error}",
                f"{function}({first}, {second}) 抛出了 {type(error).__name__}: {error}",
            )})
    return answers


def deliveries(cases: list[tuple[dict, dict]]) -> list[dict]:
    """deliver(frame, host) for each case, as {"value": repr} or {"raised": why}."""
    deliver = student_module("layers").deliver
    return [_answer(deliver, frame, host) for frame, host in cases]
