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
    # TODO(task 3): return the SYN, the SYN+ACK and the ACK, with their seq and ack and both sides' states.
    raise NotImplementedError("task 3")


def four_way_close(client_seq: int, server_seq: int) -> list[Segment]:
    """The four segments that close an ESTABLISHED connection when the client closes first; `client_seq` and
    `server_seq` are the sequence numbers each side sends next (the outline's u and v)."""
    # TODO(task 4): return FIN, ACK, FIN, ACK with their seq and ack and both sides' states.
    raise NotImplementedError("task 4")


def server_state(arrived: list[tuple[str, int, int | None]], server_isn: int) -> str:
    """The state of a server that was in LISTEN once the segments `arrived` (each `(flags, seq, ack)`, in the
    order they reached it) have arrived. It answers a SYN with its SYN+ACK, whose seq is `server_isn`."""
    # TODO(task 5): return "LISTEN", "SYN_RCVD" or "ESTABLISHED": when does the server open the connection?
    raise NotImplementedError("task 5")
