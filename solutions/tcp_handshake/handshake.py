"""The three-way handshake and the four-way close, segment by segment, with the state of both ends."""

from typing import NamedTuple


class Segment(NamedTuple):
    """One TCP segment of the handshake or the close, and where it leaves the two ends of the connection."""

    sender: str  # "client" or "server"
    flags: str  # the flags that are set, joined by "+": "SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK"
    seq: int  # the segment's sequence number
    ack: int | None  # its acknowledgement number; None when the ACK flag is not set
    client: str  # the client's state once this segment has arrived: "SYN_SENT", "ESTABLISHED", ...
    server: str  # the server's state once this segment has arrived: "LISTEN", "SYN_RCVD", ...


def handshake(client_isn: int, server_isn: int) -> list[Segment]:
    """The three segments that open a connection, when the client starts with sequence number `client_isn`
    and the server with `server_isn`. Before the first one the client is CLOSED and the server LISTENs."""
    x, y = client_isn, server_isn
    # A SYN uses up one sequence number, so each side acknowledges the other's ISN + 1.
    return [
        Segment("client", "SYN", x, None, "SYN_SENT", "SYN_RCVD"),
        Segment("server", "SYN+ACK", y, x + 1, "ESTABLISHED", "SYN_RCVD"),
        Segment("client", "ACK", x + 1, y + 1, "ESTABLISHED", "ESTABLISHED"),
    ]


def four_way_close(client_seq: int, server_seq: int) -> list[Segment]:
    """The four segments that close an ESTABLISHED connection when the client closes first; `client_seq` and
    `server_seq` are the sequence numbers each side sends next (the outline's u and v)."""
    u, v = client_seq, server_seq
    # A FIN uses up one sequence number too; the client then waits 2 MSL in TIME_WAIT before it is CLOSED,
    # in case the last ACK is lost and the server sends its FIN again.
    return [
        Segment("client", "FIN", u, None, "FIN_WAIT_1", "CLOSE_WAIT"),
        Segment("server", "ACK", v, u + 1, "FIN_WAIT_2", "CLOSE_WAIT"),
        Segment("server", "FIN+ACK", v, u + 1, "TIME_WAIT", "LAST_ACK"),
        Segment("client", "ACK", u + 1, v + 1, "TIME_WAIT", "CLOSED"),
    ]


def server_state(arrived: list[tuple[str, int, int | None]], server_isn: int) -> str:
    """The state of a server that was in LISTEN once the segments `arrived` (each `(flags, seq, ack)`, in the
    order they reached it) have arrived. It answers a SYN with its SYN+ACK, whose seq is `server_isn`."""
    state = "LISTEN"
    for flags, _seq, ack in arrived:
        if state == "LISTEN" and flags == "SYN":
            state = "SYN_RCVD"
        elif state == "SYN_RCVD" and flags == "RST":
            state = "LISTEN"
        # A SYN proves nothing: it may be an old one that lingered in the network. Only a client that got this
        # very SYN+ACK can acknowledge server_isn + 1, so that ACK is the proof it really asks for a connection.
        elif state == "SYN_RCVD" and flags == "ACK" and ack == server_isn + 1:
            state = "ESTABLISHED"
    return state
