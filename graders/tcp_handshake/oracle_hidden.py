"""The reference for the property graders of tcp-handshake (teacher-side: export leaves this file out).

Tasks 3 and 4 need no copy here: `_handshake` and `_close` in test_tcp_handshake.py already state every
field of every segment, with the variants the README allows (FIN or FIN+ACK) and the reason for each.
"""

from __future__ import annotations


def server_state(arrived: list[tuple[str, int, int | None]], server_isn: int) -> str:
    """Task 5: where a server that was in LISTEN is once `arrived` has reached it."""
    state = "LISTEN"
    for flags, _seq, ack in arrived:
        if state == "LISTEN" and flags == "SYN":
            state = "SYN_RCVD"
        elif state == "SYN_RCVD" and flags == "RST":
            state = "LISTEN"
        elif state == "SYN_RCVD" and flags == "ACK" and ack == server_isn + 1:
            state = "ESTABLISHED"
    return state


def deliver(frame: dict, host: dict) -> str:
    """Task 6: the layer that drops `frame` on `host`, outside in; "application" when a program gets it."""
    if frame["dst_mac"] != host["mac"]:
        return "data link"
    if frame["packet"]["dst_ip"] != host["ip"]:
        return "network"
    if frame["packet"]["segment"]["dst_port"] not in host["open_ports"]:
        return "transport"
    return "application"
