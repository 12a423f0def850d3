import threading


def start_and_join(target, count):
    for i in range(count):
        threading.Thread(target=target, args=(i,)).start()


def fetch_all(fetch, items):
    results = [None] * len(items)

    def fetch_into(index):
        results[index] = fetch(items[index])

    start_and_join(fetch_into, len(items))
    return results
