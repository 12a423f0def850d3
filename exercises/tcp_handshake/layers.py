"""The outline's table of network layers: the seven OSI layers, the four TCP/IP layers, and their protocols."""

# The names your functions return, top layer first (the outline's 应用层, 表示层, 会话层, 传输层, 网络层,
# 数据链路层, 物理层). The TCP/IP model of the outline has four layers; its lowest one is called "data link" too.
OSI_LAYERS = ("application", "presentation", "session", "transport", "network", "data link", "physical")
TCP_IP_LAYERS = ("application", "transport", "network", "data link")


def tcp_ip_layer(osi_layer: str) -> str:
    """The TCP/IP layer (a name from TCP_IP_LAYERS) that does the work of the OSI layer `osi_layer`."""
    # TODO(task 1): map each of the seven OSI layers to the TCP/IP layer that covers it.
    raise NotImplementedError("task 1")


def protocol_layer(protocol: str) -> str:
    """The OSI layer (a name from OSI_LAYERS) of a protocol in the outline's table: "HTTP", "udp", "Arp"..."""
    # TODO(task 2): return the layer of each protocol of the outline's table, whatever the letter case.
    raise NotImplementedError("task 2")


def deliver(frame: dict, host: dict) -> str:
    """Which layer of `host` drops `frame`, peeling its headers from the outside in: "data link", "network" or
    "transport"; "application" when the payload reaches a program listening on the destination port.

    frame = {"dst_mac": ..., "src_mac": ..., "packet": {"dst_ip": ..., "src_ip": ...,
             "segment": {"dst_port": ..., "src_port": ..., "flags": ..., "payload": b"..."}}}
    host = {"mac": "3c:22:fb:10:aa:01", "ip": "192.168.1.20", "open_ports": [22, 8000]}
    """
    # TODO(task 6): each layer reads only its own header and drops what is not for this host; return which one.
    raise NotImplementedError("task 6")
