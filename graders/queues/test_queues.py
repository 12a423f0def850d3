"""Grades exercises/queues: a bounded producer/consumer pipeline, task_done and join, stopping N consumers with
sentinels, consumer processes on a Manager queue, the producer and consumer as threading.Thread subclasses, and
what empty(), full() and qsize() can and cannot be trusted with."""

import random
import time
from collections import Counter

import pytest

from graders.harness.core.observe import Reports, context_switches, cpu_seconds, still_running, threads
from graders.queues import probes

# While the items stop coming (IDLE_PAUSE), the grader watches the worker from outside. A consumer blocked in
# get() uses no CPU and is never woken (no context switch). One that spins gets whatever CPU the machine can
# spare; one that polls get_nowait() with a short sleep uses little CPU but wakes up at every sleep. Either
# sign is enough. A blocking get with a timeout may wake once or twice per consumer: that is allowed.
IDLE_PAUSE = 0.3
BUSY_CPU = 0.05
WAKEUPS_PER_CONSUMER = 2


def _exactly_once(items: list, handled: list) -> str:
    """'' if every item was handled exactly once, else what went wrong, in words."""
    counts, known = Counter(handled), set(items)
    missing = [item for item in items if item not in counts]
    twice = sorted(item for item, n in counts.items() if n > 1 and item in known)
    strangers = sorted({repr(item) for item in counts if item not in known})
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(items)} items were never handled (e.g. {missing[:3]})")
    if twice:
        problems.append(f"items handled more than once: {twice[:5]}")
    if strangers:
        problems.append(f"handle was called with things that are not items: {strangers[:3]}")
    return "; ".join(problems)


def _check_queue(queues: list, maxsize: int, function: str) -> None:
    assert queues, f"{function} created no queue.Queue: the producer and the consumers must share one"
    assert all(size == maxsize for size, _ in queues), (
        f"{function} created its queue with maxsize={[size for size, _ in queues]}; expected "
        f"queue.Queue({maxsize}). Without maxsize the queue is unbounded and a fast producer fills memory"
    )
    peak = max(peak for _, peak in queues)
    assert peak <= maxsize, f"the queue held up to {peak} items at once; queue.Queue({maxsize}) never holds more"


def _watch_idle(student, paused: bool) -> dict:
    """CPU seconds and context switches of the worker over IDLE_PAUSE, read from /proc here in the grader."""
    pid = student.pid
    if not paused or pid is None:
        return {}
    cpu, switches = cpu_seconds(pid), context_switches(pid)
    time.sleep(IDLE_PAUSE)
    cpu_after, switches_after = cpu_seconds(pid), context_switches(pid)
    if None in (cpu, switches, cpu_after, switches_after):
        return {}  # this system lets no one see another process's CPU time: the idle check cannot be made
    return {"cpu": cpu_after - cpu, "wakeups": switches_after - switches}


def _check_idle(idle: dict, consumers: int) -> None:
    if not idle:
        return
    assert idle["cpu"] < BUSY_CPU and idle["wakeups"] <= WAKEUPS_PER_CONSUMER * consumers + 1, (
        f"while the queue stayed empty for {IDLE_PAUSE:g} s your code used {idle['cpu']:.2f} s of CPU and its "
        f"threads woke up {idle['wakeups']} times: a consumer is busy-waiting (polling empty() or get_nowait() "
        "in a loop, even with a short sleep). q.get() blocks until an item arrives and uses no CPU while it waits"
    )


def _fail_stuck(student, function: str, seen: dict, count: int) -> None:
    """Fail with where the items stopped flowing, when the producer never got through them all."""
    if seen["produced"] < count:
        pytest.fail(
            f"{function} got stuck after the producer had put {seen['produced']} of {count} items, "
            f"{len(seen['handled'])} of which were handled: put() waits while the queue is full, so the "
            f"consumers must keep taking items with get() ({student.where()})",
            pytrace=False,
        )


@pytest.mark.task(1)
def test_run_pipeline_moves_every_item_through_a_bounded_queue_in_order(student):
    count, maxsize = 24, random.randint(2, 4)
    paused = student.run(probes.pipeline_start, count, maxsize, random.randint(1, 999), timeout=6)
    idle = _watch_idle(student, paused)
    seen = student.run(probes.pipeline_finish, timeout=8)
    if not seen["returned"]:
        _fail_stuck(student, "run_pipeline", seen, count)
        pytest.fail(
            f"run_pipeline did not return within 1 s after the producer had put the last item: the consumer "
            f"never stopped. It must return when it gets STOP, which the producer puts after the items "
            f"({student.where()})",
            pytrace=False,
        )
    assert not seen["left_running"], (
        f"run_pipeline returned while the producer or the consumer was still running ({count - seen['done_at_return']} "
        "items not yet handled): join both threads before returning"
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, f"every item must be handled exactly once: {problem}"
    assert seen["handled"] == seen["items"], (
        f"one consumer should handle the items in the order they were produced; it handled {seen['handled']}"
    )
    assert seen["caller"] not in seen["handle_threads"], (
        "handle ran in the thread that called run_pipeline: run consumer() in a threading.Thread"
    )
    assert not set(seen["handle_threads"]) & set(seen["feed_threads"]), (
        "the producer and the consumer ran in the same thread: give each one a thread of its own"
    )
    _check_queue(seen["queues"], maxsize, "run_pipeline")
    _check_idle(idle, 1)


@pytest.mark.task(2)
def test_feed_and_wait_returns_once_every_item_is_done(student):
    count, workers = 9, 3
    seen = student.run(probes.feed_and_wait_trace, count, workers, random.randint(1, 999), timeout=8)
    if not seen["returned"]:
        pytest.fail(
            f"feed_and_wait never returned, although {seen['done_at_return']} of {count} items had been handled: "
            f"q.join() waits until task_done() has been called once for every item put ({student.where()})",
            pytrace=False,
        )
    assert seen["done_at_return"] == count, (
        f"feed_and_wait returned while {count - seen['done_at_return']} of {count} items were still being "
        "handled: call task_done() only after handle(item) has finished, and wait with q.join()"
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, f"every item must be handled exactly once: {problem}"
    assert seen["threads"] == workers and seen["peak"] == workers, (
        f"feed_and_wait(items, handle, {workers}) should handle items in {workers} worker threads at once; "
        f"they ran in {seen['threads']} threads, at most {seen['peak']} at a time"
    )
    assert seen["daemon"], (
        "the worker threads are not daemon threads: they wait in q.get() forever and would keep the program "
        "from ending. Start them with daemon=True"
    )


@pytest.mark.task(3)
def test_run_consumers_stops_every_consumer_with_its_own_sentinel(student):
    count, consumers, maxsize = 24, 3, 4
    paused = student.run(probes.consumers_start, count, consumers, maxsize, random.randint(1, 999), timeout=6)
    idle = _watch_idle(student, paused)
    seen = student.run(probes.consumers_finish, timeout=8)
    if not seen["returned"]:
        _fail_stuck(student, "run_consumers", seen, count)
        pytest.fail(
            f"run_consumers did not return within 1 s after the last item; {seen['waiting']} consumer thread(s) "
            f"never stopped: put one STOP for each consumer, since a consumer takes one STOP and ends "
            f"({student.where()})",
            pytrace=False,
        )
    assert not seen["waiting"], (
        f"run_consumers returned while {seen['waiting']} consumer thread(s) were still running "
        f"({count - seen['done_at_return']} items not yet handled): join every consumer thread"
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, f"every item must be handled exactly once: {problem}"
    assert seen["threads"] == consumers and seen["peak"] == consumers, (
        f"run_consumers(items, handle, {consumers}, {maxsize}) should run {consumers} consumer threads at once; "
        f"handle ran in {seen['threads']} threads, at most {seen['peak']} at a time"
    )
    _check_queue(seen["queues"], maxsize, "run_consumers")
    _check_idle(idle, consumers)


@pytest.mark.task(4)
def test_consumer_processes_share_a_manager_queue(student):
    count, consumers, maxsize = 12, 2, 3
    seen = student.run(probes.process_pipeline_trace, count, consumers, maxsize, random.randint(1, 999), timeout=15)
    reports = Reports(seen["folder"]).within(student.workdir)
    handled_by = reports.of("handled")
    handled = [item for item, _ in handled_by]
    real = len(set(handled) & set(seen["items"]))
    plain_queue = (
        "no Manager().Queue was created: a queue.Queue is copied into each child at start(), so the children "
        "never see the items the parent puts"
    )
    if seen["cannot_send"]:
        pytest.fail(
            f"{plain_queue} (and under the spawn and forkserver start methods it cannot even be sent to a child: "
            f"{seen['cannot_send']}). Make it with multiprocessing.Manager().Queue(maxsize)",
            pytrace=False,
        )
    if not seen["returned"]:
        why = (
            plain_queue
            if not seen["manager_queues"]
            else f"all {count} items were handled, but the consumers did not all stop: does each get a STOP?"
            if real == count
            else f"only {real} of the {count} items were handled: do the consumers keep taking items until they "
            "get STOP?"
        )
        pytest.fail(f"run_process_pipeline did not return within 8 s: {why} ({student.where()})", pytrace=False)
    assert seen["manager_queues"], (
        "run_process_pipeline created no Manager queue: make it with multiprocessing.Manager().Queue(maxsize)"
    )
    assert all(size == maxsize for size in seen["manager_queues"]), (
        f"the Manager queue was made with maxsize={seen['manager_queues']}; expected {maxsize}"
    )
    problem = _exactly_once(seen["items"], handled)
    assert not problem, f"every item must be handled exactly once: {problem}"
    pids = sorted({pid for _, pid in handled_by})
    assert seen["me"] not in pids, "handle ran in the calling process: run consumer() in child processes"
    assert len(pids) == consumers and seen["peak"] == consumers, (
        f"{consumers} consumer processes should handle items at the same time; handle ran in "
        f"{len(pids)} process(es), at most {seen['peak']} at a time"
    )
    running_after = still_running(pids, grace=0.5, root=student.pid)  # read from /proc here, in the grader
    assert not running_after, (
        f"consumer processes {running_after} were still running after run_process_pipeline returned: "
        "join every consumer process"
    )


def _threads_now(student) -> int | None:
    """The worker's thread count from /proc, after starting the worker if it is not running yet."""
    student.run(probes.ready)
    return threads(student.pid)


def _items_with_a_zero(count: int) -> list[int]:
    """`count` different items, one of them 0 in the second half: an item like any other, and falsy."""
    items = random.sample(range(1, 10_000), count - 1)
    items.insert(random.randint(count // 2, count - 1), 0)
    return items


def _why_missing(items: list, handled: list) -> str:
    """A hint when the only items never handled are falsy ones (0): the consumer took them for STOP."""
    missing = [item for item in items if item not in handled]
    if missing and not any(missing):
        return (
            ". A consumer stopped at item 0: `if not item` takes 0 (and \"\" or []) for the end; only STOP ends a "
            "consumer, so compare with `if item is STOP`"
        )
    return ""


# -- task 5 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(5)
def test_producer_and_consumer_threads_run_at_once_and_hand_over_every_item(student):
    shape = student.run(probes.thread_classes_shape)
    for name, work in (("Producer", "puts every item and then the STOPs"), ("Consumer", "takes items until STOP")):
        facts = shape[name]
        assert facts["thread"], f"{name} should subclass threading.Thread: `class {name}(threading.Thread):`"
        assert facts["run"], (
            f"{name} does not override run(): start() calls self.run() in the new thread, and Thread's own run() "
            f"only calls a target= function. Write the loop that {work} as `def run(self):` in {name}"
        )
        assert facts["init"], (
            f"{name} has no __init__ of its own: it needs one that calls super().__init__() and keeps what run() "
            "will need (the queue, ...) on self"
        )
    consumers, maxsize, count = 3, 2, 20
    items = _items_with_a_zero(count)
    base = _threads_now(student)
    started = student.run(probes.classes_start, items, consumers, maxsize, timeout=8)
    # While the grader holds `consumers` handle() calls, the producer cannot finish: the queue holds `maxsize`
    # items and it has more to put. So every thread of a correct run is alive now, read from /proc here.
    now = threads(student.pid)
    extra = None if base is None or now is None else now - base - 1  # besides the thread calling run_threads
    _check_queue(started["queues"], maxsize, "run_threads")
    if started["held"] < consumers:
        if started["ended"]:
            pytest.fail(
                f"run_threads returned, and within 3 s only {started['held']} of {consumers} consumers were handling "
                "items at once: start() the Producer and every Consumer, then join() every one before returning",
                pytrace=False,
            )
        if extra == 0:
            pytest.fail(
                "run_threads started no thread: while it ran, the process had no more threads than before. "
                "thread.run() runs the thread's code right there, in the calling thread, which then waited forever "
                f"({student.where()}). start() makes the new thread and calls run() in it: start() every Producer "
                "and Consumer, then join() them",
                pytrace=False,
            )
        if started["held"] == 0:
            pytest.fail(
                f"no consumer handled any item within 3 s; apart from the thread that called run_threads, the "
                f"process had {'?' if extra is None else extra} more thread(s) (the producer, waiting in put() on "
                f"the full queue?): the consumers were not running. start() every thread before joining any, and "
                f"let each Consumer take items until it gets STOP ({student.where()})",
                pytrace=False,
            )
        pytest.fail(
            f"only {started['held']} of {consumers} consumers were handling items at once; the others were not "
            "running: each Consumer needs a thread of its own. start() every one of them (consumer.run() runs in "
            f"the calling thread, one after another) before joining any ({student.where()})",
            pytrace=False,
        )
    seen = student.run(probes.classes_finish, timeout=8)
    assert not seen["ended_while_held"], (
        f"run_threads returned while {consumers} consumers were still handling items (the grader was holding "
        "them) and the producer had more to put: join() every thread before returning"
    )
    if extra is not None:  # run_threads was running all along, so `extra` counted its threads only
        assert extra >= consumers + 1, (
            f"while {consumers} consumers were busy and the producer still had items to put, the process had only "
            f"{extra} thread(s) besides the one that called run_threads; expected the producer and {consumers} "
            "consumers, each in a thread of its own. start() the Producer too (producer.run() would run it in "
            "the calling thread)"
        )
    if not seen["returned"]:
        if seen["produced"] < count:
            pytest.fail(
                f"run_threads got stuck after the producer had taken {seen['produced']} of {count} items, "
                f"{len(seen['handled'])} of which were handled: the consumers must keep taking items with get() "
                f"until each gets its STOP ({student.where()})",
                pytrace=False,
            )
        pytest.fail(
            f"run_threads did not return within 4 s; {len(seen['handled'])} of {count} items were handled. A "
            "thread never ended: the producer puts one STOP for each consumer, each Consumer returns from run() "
            f"at its STOP, and run_threads joins them all ({student.where()})",
            pytrace=False,
        )
    problem = _exactly_once(items, seen["handled"])
    assert not problem, f"every item must be handled exactly once: {problem}{_why_missing(items, seen['handled'])}"
    assert seen["caller"] not in seen["handle_threads"] and not seen["caller_put"], (
        "the thread that called run_threads did some of the work itself: a Producer's or Consumer's run() was "
        "called directly. start() every one of them instead"
    )
    assert not seen["not_consumers"], (
        f"handle ran in threads that are not your Consumer objects ({', '.join(seen['not_consumers'])}): "
        "run_threads should start Consumer(q, handle) objects, whose run() does the work"
    )
    assert not seen["put_by"], (
        f"items were put into the queue by threads that are not your Producer object ({', '.join(seen['put_by'])}): "
        "run_threads should start Producer(q, items, consumers), whose run() puts them"
    )
    assert not seen["left_running"], (
        f"run_threads returned while {seen['left_running']} of its threads were still running: join() every one"
    )


# -- task 6 ----------------------------------------------------------------------------------------------------

DRAIN_LIMIT = 4.0  # the probe waits this long for drain to return (a correct one takes well under 0.1 s)


@pytest.mark.task(6)
def test_report_says_what_the_queue_itself_says(student):
    maxsize = random.randint(3, 6)
    states = [[maxsize, 0], [maxsize, random.randint(1, maxsize - 1)], [maxsize, maxsize], [0, 0],
              [0, random.randint(2, 9)]]
    answers = student.run(probes.report_answers, states)
    for (size, count), got in zip(states, answers, strict=True):
        kind = f"queue.Queue({size})" if size else "queue.Queue() (no maxsize)"
        expected = {"size": count, "empty": count == 0, "full": 0 < size <= count}
        assert got["left"] == count, (
            f"report(q) changed the queue: a {kind} held {count} item(s) before and {got['left']} after. A report "
            "only looks: q.qsize(), q.empty() and q.full() take nothing out"
        )
        why = ""
        if size == 0 and got["answer"]["full"] is True:
            why = (
                ": a queue without maxsize is never full. q.full() knows that; a comparison with q.maxsize does not "
                "(it is 0 there)"
            )
        assert got["answer"] == expected, (
            f"for a {kind} holding {count} item(s), report(q) returned {got['answer']}; expected {expected}{why}"
        )
    size = random.randint(2, 4)
    got = student.run(probes.report_on_manager_queue, size, size, timeout=20)
    assert not got["error"], (
        f"report(q) raised {got['error']} on a multiprocessing.Manager().Queue({size}). q.queue and q.maxsize belong "
        "to queue.Queue's insides; a Manager queue is a proxy that has only the queue's methods. Ask with q.qsize(), "
        "q.empty() and q.full(), which every queue has"
    )
    expected = {"size": size, "empty": False, "full": True}
    assert got["answer"] == expected and got["left"] == size, (
        f"for a multiprocessing.Manager().Queue({size}) holding {size} items, report(q) returned {got['answer']} "
        f"(and left {got['left']} items); expected {expected}"
    )


@pytest.mark.task(6)
def test_drain_takes_every_item_once_and_no_consumer_waits_forever(student):
    consumers, count = 3, 12
    items = random.sample(range(1, 10_000), count)
    base = _threads_now(student)
    seen = student.run(probes.drain_trace, items, consumers, timeout=DRAIN_LIMIT + 6)
    if not seen["returned"]:
        now = threads(student.pid)
        stuck = seen["still_running"] if base is None or now is None else now - base - 1  # not the caller
        if not _exactly_once(items, seen["handled"]):
            pytest.fail(
                f"drain did not return within {DRAIN_LIMIT:g} s although all {count} items had been handled: "
                f"{stuck} consumer thread(s) still wait in get() for an item that will never come "
                f"({student.where()}). Near the end, each asked whether the queue was empty (q.empty(), q.qsize() "
                "or len(q.queue)) and was told no, but before it called get() the other consumers had taken the "
                "last items. "
                "What empty(), full() and qsize() say can be stale a moment later, once another thread has acted: "
                "take with q.get_nowait() and stop at queue.Empty, which looks and takes in one step",
                pytrace=False,
            )
        pytest.fail(
            f"drain did not return within {DRAIN_LIMIT:g} s; {len(seen['handled'])} of {count} items were handled "
            f"({student.where()})",
            pytrace=False,
        )
    problem = _exactly_once(items, seen["handled"])
    assert not problem, f"every item must be handled exactly once: {problem}"
    assert not seen["caller_handled"], "handle ran in the thread that called drain: take the items in new threads"
    assert seen["threads"] == consumers and seen["peak"] == consumers, (
        f"drain(q, handle, {consumers}) should take items in {consumers} threads at once; handle ran in "
        f"{seen['threads']} threads, at most {seen['peak']} at a time"
    )
    assert not seen["still_running"], (
        f"drain returned while {seen['still_running']} of its threads were still running: join() every one"
    )
