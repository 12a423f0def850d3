"""The outline's table of network layers: the seven OSI layers, the four TCP/IP layers, and their protocols."""

# The names your functions return, top layer first (the outline's 应用层, 表示层, 会话层, 传输层, 网络层,
# 数据链路层, 物理层). The TCP/IP model of the outline has four layers; its lowest one is called "data link" too.
OSI_LAYERS = ("application", "presentation", "session", "transport", "network", "data link", "physical")
TCP_IP_LAYERS = ("application", "transport", "network", "data link")

# TCP/IP folds the three upper OSI layers into its application layer, and the two lowest into data link.
_TCP_IP_OF_OSI = {
    "application": "application",
    "presentation": "application",
    "session": "application",
    "transport": "transport",
    "network": "network",
    "data link": "data link",
    "physical": "data link",
}

_PROTOCOLS = {
    **dict.fromkeys(["HTTP", "HTTPS", "FTP", "TELNET", "SSH", "SMTP", "POP3", "DNS"], "application"),
    **dict.fromkeys(["TCP", "UDP"], "transport"),
    **dict.fromkeys(["IP", "ARP", "RARP", "ICMP"], "network"),
}


def tcp_ip_layer(osi_layer: str) -> str:
    """The TCP/IP layer (a name from TCP_IP_LAYERS) that does the work of the OSI layer `osi_layer`."""
    return _TCP_IP_OF_OSI[osi_layer]


def protocol_layer(protocol: str) -> str:
    """The OSI layer (a name from OSI_LAYERS) of a protocol in the outline's table: "HTTP", "udp", "Arp"..."""
    return _PROTOCOLS[protocol.upper()]


def deliver(frame: dict, host: dict) -> str:
    """Which layer of `host` drops `frame`, peeling its headers from the outside in: "data link", "network" or
    "transport"; "application" when the payload reaches a program listening on the destination port.

    frame = {"dst_mac": ..., "src_mac": ..., "packet": {"dst_ip": ..., "src_ip": ...,
             "segment": {"dst_port": ..., "src_port": ..., "flags": ..., "payload": b"..."}}}
    host = {"mac": "3c:22:fb:10:aa:01", "ip": "192.168.1.20", "open_ports": [22, 8000]}
    """
    if frame["dst_mac"] != host["mac"]:  # data link: is this frame for this node, the next hop?
        return "data link"
    packet = frame["packet"]
    if packet["dst_ip"] != host["ip"]:  # network: is this packet for this host, wherever it came from?
        return "network"
    if packet["segment"]["dst_port"] not in host["open_ports"]:  # transport: which program, end to end?
        return "transport"
    return "application"
