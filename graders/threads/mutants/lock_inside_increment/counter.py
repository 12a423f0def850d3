import threading


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> None:
        with threading.Lock():
            self.value += 1
