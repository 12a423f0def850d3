def handle(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def serve(server):
    while True:
        conn, _address = server.accept()
        handle(conn)
