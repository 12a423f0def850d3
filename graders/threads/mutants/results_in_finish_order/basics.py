import threading


def start_and_join(target, count):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def fetch_all(fetch, items):
    results = []
    lock = threading.Lock()

    def fetch_into(index):
        value = fetch(items[index])
        with lock:
            results.append(value)

    start_and_join(fetch_into, len(items))
    return results
