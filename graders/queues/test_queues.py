"""Grades exercises/queues: a bounded producer/consumer pipeline, task_done and join, stopping N consumers with
sentinels, consumer processes on a Manager queue, the producer and consumer as threading.Thread subclasses, and
what empty(), full() and qsize() can and cannot be trusted with."""

import random
import time
from collections import Counter

import pytest

from graders.harness.core.curriculum import say
from graders.harness.core.observe import Reports, context_switches, cpu_seconds, still_running, threads
from graders.queues import probes

# While the items stop coming (IDLE_PAUSE), the grader watches the worker from outside. A consumer blocked in
# get() uses no CPU and is never woken (no context switch). One that spins gets whatever CPU the machine can
# spare; one that polls get_nowait() with a short sleep uses little CPU but wakes up at every sleep. Either
# sign is enough. A blocking get with a timeout may wake once or twice per consumer: that is allowed.
IDLE_PAUSE = 0.15
BUSY_CPU = 0.05
WAKEUPS_PER_CONSUMER = 2


def _in_brackets(where: str) -> str:
    """`where` (a text already in the student's language, e.g. student.where()) in brackets, as a message ends."""
    return say(" (", "（") + where + say(")", "）")


def _exactly_once(items: list, handled: list) -> str:
    """'' if every item was handled exactly once, else what went wrong, in words."""
    counts, known = Counter(handled), set(items)
    missing = [item for item in items if item not in counts]
    twice = sorted(item for item, n in counts.items() if n > 1 and item in known)
    strangers = sorted({repr(item) for item in counts if item not in known})
    problems = []
    if missing:
        problems.append(say(f"{len(missing)} of {len(items)} items were never handled (e.g. {missing[:3]})",
                            f"{len(items)} 个数据中有 {len(missing)} 个从未被处理（例如 {missing[:3]}）"))
    if twice:
        problems.append(say(f"items handled more than once: {twice[:5]}", f"被处理了不止一次的数据：{twice[:5]}"))
    if strangers:
        problems.append(say(f"handle was called with things that are not items: {strangers[:3]}",
                            f"调用 handle 时传入了不是数据的东西：{strangers[:3]}"))
    return say("; ", "；").join(problems)


def _exactly_once_failed(problem: str) -> str:
    return say("every item must be handled exactly once: ", "每个数据都必须恰好被处理一次：") + problem


def _check_queue(queues: list, maxsize: int, function: str) -> None:
    assert queues, say(f"{function} created no queue.Queue: the producer and the consumers must share one",
                       f"{function} 没有创建 queue.Queue：生产者和消费者必须共用一个队列")
    sizes = [size for size, _ in queues]
    assert all(size == maxsize for size, _ in queues), say(
        f"{function} created its queue with maxsize={sizes}; expected "
        f"queue.Queue({maxsize}). Without maxsize the queue is unbounded and a fast producer fills memory",
        f"{function} 创建队列时用的是 maxsize={sizes}；应当是 queue.Queue({maxsize})。"
        "没有 maxsize 的队列是无界的，快速的生产者会把内存塞满",
    )
    peak = max(peak for _, peak in queues)
    assert peak <= maxsize, say(
        f"the queue held up to {peak} items at once; queue.Queue({maxsize}) never holds more",
        f"队列曾同时装有 {peak} 个数据；而 queue.Queue({maxsize}) 最多只装 {maxsize} 个",
    )


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
    assert idle["cpu"] < BUSY_CPU and idle["wakeups"] <= WAKEUPS_PER_CONSUMER * consumers + 1, say(
        f"while the queue stayed empty for {IDLE_PAUSE:g} s your code used {idle['cpu']:.2f} s of CPU and its "
        f"threads woke up {idle['wakeups']} times: a consumer is busy-waiting (polling empty() or get_nowait() "
        "in a loop, even with a short sleep). q.get() blocks until an item arrives and uses no CPU while it waits",
        f"队列保持为空的 {IDLE_PAUSE:g} 秒内，你的代码用了 {idle['cpu']:.2f} 秒 CPU，它的线程被唤醒了 "
        f"{idle['wakeups']} 次：有消费者在忙等（在循环里轮询 empty() 或 get_nowait()，即使每次 sleep 一小会儿也一样）。"
        "q.get() 会阻塞到有数据到来为止，等待时不占用 CPU",
    )


def _fail_stuck(student, function: str, seen: dict, count: int) -> None:
    """Fail with where the items stopped flowing, when the producer never got through them all."""
    if seen["produced"] < count:
        pytest.fail(
            say(
                f"{function} got stuck after the producer had put {seen['produced']} of {count} items, "
                f"{len(seen['handled'])} of which were handled: put() waits while the queue is full, so the "
                "consumers must keep taking items with get()",
                f"{function} 卡住了：生产者放入了 {count} 个数据中的 {seen['produced']} 个，其中 "
                f"{len(seen['handled'])} 个已被处理。队列满时 put() 会等待，所以消费者必须不断用 get() 取数据",
            ) + _in_brackets(student.where()),
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
            say(
                "run_pipeline did not return within 1 s after the producer had put the last item: the consumer "
                "never stopped. It must return when it gets STOP, which the producer puts after the items",
                "生产者放入最后一个数据后，run_pipeline 没有在 1 秒内返回：消费者一直没有结束。"
                "消费者取到 STOP 时必须返回，而生产者会在所有数据之后放入 STOP",
            ) + _in_brackets(student.where()),
            pytrace=False,
        )
    assert not seen["left_running"], say(
        f"run_pipeline returned while the producer or the consumer was still running ({count - seen['done_at_return']} "
        "items not yet handled): join both threads before returning",
        f"run_pipeline 返回时生产者或消费者还在运行（还有 {count - seen['done_at_return']} 个数据没有处理）："
        "返回之前要 join 两个线程",
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, _exactly_once_failed(problem)
    assert seen["handled"] == seen["items"], say(
        f"one consumer should handle the items in the order they were produced; it handled {seen['handled']}",
        f"只有一个消费者时，它应当按生产的顺序处理数据；它处理的顺序是 {seen['handled']}",
    )
    assert seen["caller"] not in seen["handle_threads"], say(
        "handle ran in the thread that called run_pipeline: run consumer() in a threading.Thread",
        "handle 在调用 run_pipeline 的线程里运行了：要在一个 threading.Thread 里运行 consumer()",
    )
    assert not set(seen["handle_threads"]) & set(seen["feed_threads"]), say(
        "the producer and the consumer ran in the same thread: give each one a thread of its own",
        "生产者和消费者在同一个线程里运行：要让它们各自在自己的线程里运行",
    )
    _check_queue(seen["queues"], maxsize, "run_pipeline")
    _check_idle(idle, 1)


@pytest.mark.task(2)
def test_feed_and_wait_returns_once_every_item_is_done(student):
    count, workers = 9, 3
    seen = student.run(probes.feed_and_wait_trace, count, workers, random.randint(1, 999), timeout=8)
    if not seen["returned"]:
        pytest.fail(
            say(
                f"feed_and_wait never returned, although {seen['done_at_return']} of {count} items had been handled: "
                "q.join() waits until task_done() has been called once for every item put",
                f"feed_and_wait 一直没有返回，尽管 {count} 个数据中已有 {seen['done_at_return']} 个处理完了："
                "q.join() 会一直等到每个放入的数据都对应调用过一次 task_done()",
            ) + _in_brackets(student.where()),
            pytrace=False,
        )
    assert seen["done_at_return"] == count, say(
        f"feed_and_wait returned while {count - seen['done_at_return']} of {count} items were still being "
        "handled: call task_done() only after handle(item) has finished, and wait with q.join()",
        f"feed_and_wait 返回时，{count} 个数据中还有 {count - seen['done_at_return']} 个正在处理："
        "要等 handle(item) 执行完之后再调用 task_done()，并用 q.join() 等待",
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, _exactly_once_failed(problem)
    assert seen["threads"] == workers and seen["peak"] == workers, say(
        f"feed_and_wait(items, handle, {workers}) should handle items in {workers} worker threads at once; "
        f"they ran in {seen['threads']} threads, at most {seen['peak']} at a time",
        f"feed_and_wait(items, handle, {workers}) 应当让 {workers} 个 worker 线程同时处理数据；"
        f"实际上它们在 {seen['threads']} 个线程里运行，同一时刻最多 {seen['peak']} 个",
    )
    assert seen["daemon"], say(
        "the worker threads are not daemon threads: they wait in q.get() forever and would keep the program "
        "from ending. Start them with daemon=True",
        "worker 线程不是守护线程：它们永远等在 q.get() 里，会让程序无法退出。创建它们时要传 daemon=True",
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
            say(
                f"run_consumers did not return within 1 s after the last item; {seen['waiting']} consumer thread(s) "
                "never stopped: put one STOP for each consumer, since a consumer takes one STOP and ends",
                f"最后一个数据之后，run_consumers 没有在 1 秒内返回；有 {seen['waiting']} 个消费者线程一直没有结束："
                "要为每个消费者各放一个 STOP，因为一个消费者取到一个 STOP 就结束了",
            ) + _in_brackets(student.where()),
            pytrace=False,
        )
    assert not seen["waiting"], say(
        f"run_consumers returned while {seen['waiting']} consumer thread(s) were still running "
        f"({count - seen['done_at_return']} items not yet handled): join every consumer thread",
        f"run_consumers 返回时还有 {seen['waiting']} 个消费者线程在运行"
        f"（还有 {count - seen['done_at_return']} 个数据没有处理）：要 join 每一个消费者线程",
    )
    problem = _exactly_once(seen["items"], seen["handled"])
    assert not problem, _exactly_once_failed(problem)
    assert seen["threads"] == consumers and seen["peak"] == consumers, say(
        f"run_consumers(items, handle, {consumers}, {maxsize}) should run {consumers} consumer threads at once; "
        f"handle ran in {seen['threads']} threads, at most {seen['peak']} at a time",
        f"run_consumers(items, handle, {consumers}, {maxsize}) 应当同时运行 {consumers} 个消费者线程；"
        f"handle 实际在 {seen['threads']} 个线程里运行，同一时刻最多 {seen['peak']} 个",
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
        "never see the items the parent puts",
        "没有创建 Manager().Queue：queue.Queue 会在 start() 时被复制到每个子进程里，"
        "于是子进程永远看不到父进程放进去的数据",
    )
    if seen["cannot_send"]:
        pytest.fail(
            say(
                f"{plain_queue[0]} (and under the spawn and forkserver start methods it cannot even be sent to a "
                f"child: {seen['cannot_send']}). Make it with multiprocessing.Manager().Queue(maxsize)",
                f"{plain_queue[1]}（而在 spawn 和 forkserver 启动方式下，它连发送给子进程都做不到："
                f"{seen['cannot_send']}）。请用 multiprocessing.Manager().Queue(maxsize) 创建队列",
            ),
            pytrace=False,
        )
    if not seen["returned"]:
        why = (
            plain_queue
            if not seen["manager_queues"]
            else (f"all {count} items were handled, but the consumers did not all stop: does each get a STOP?",
                  f"{count} 个数据都处理完了，但消费者没有全部结束：每个消费者都拿到 STOP 了吗？")
            if real == count
            else (f"only {real} of the {count} items were handled: do the consumers keep taking items until they "
                  "get STOP?",
                  f"{count} 个数据中只有 {real} 个被处理了：消费者是否一直在取数据，直到取到 STOP？")
        )
        pytest.fail(
            say(f"run_process_pipeline did not return within 8 s: {why[0]}",
                f"run_process_pipeline 没有在 8 秒内返回：{why[1]}") + _in_brackets(student.where()),
            pytrace=False,
        )
    assert seen["manager_queues"], say(
        "run_process_pipeline created no Manager queue: make it with multiprocessing.Manager().Queue(maxsize)",
        "run_process_pipeline 没有创建 Manager 队列：请用 multiprocessing.Manager().Queue(maxsize) 创建",
    )
    assert all(size == maxsize for size in seen["manager_queues"]), say(
        f"the Manager queue was made with maxsize={seen['manager_queues']}; expected {maxsize}",
        f"创建 Manager 队列时用的是 maxsize={seen['manager_queues']}；应当是 {maxsize}",
    )
    problem = _exactly_once(seen["items"], handled)
    assert not problem, _exactly_once_failed(problem)
    pids = sorted({pid for _, pid in handled_by})
    assert seen["me"] not in pids, say("handle ran in the calling process: run consumer() in child processes",
                                       "handle 在调用它的进程里运行了：要在子进程里运行 consumer()")
    assert len(pids) == consumers and seen["peak"] == consumers, say(
        f"{consumers} consumer processes should handle items at the same time; handle ran in "
        f"{len(pids)} process(es), at most {seen['peak']} at a time",
        f"应当由 {consumers} 个消费者进程同时处理数据；handle 实际在 {len(pids)} 个进程里运行，"
        f"同一时刻最多 {seen['peak']} 个",
    )
    running_after = still_running(pids, grace=0.5, root=student.pid)  # read from /proc here, in the grader
    assert not running_after, say(
        f"consumer processes {running_after} were still running after run_process_pipeline returned: "
        "join every consumer process",
        f"run_process_pipeline 返回后，消费者进程 {running_after} 还在运行：要 join 每一个消费者进程",
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
        return say(
            ". A consumer stopped at item 0: `if not item` takes 0 (and \"\" or []) for the end; only STOP ends a "
            "consumer, so compare with `if item is STOP`",
            "。有消费者在数据 0 处停下了：`if not item` 会把 0（还有 \"\" 或 []）当成结束；只有 STOP 才让消费者结束，"
            "所以要用 `if item is STOP` 来判断",
        )
    return ""


# -- task 5 ----------------------------------------------------------------------------------------------------


@pytest.mark.task(5)
def test_producer_and_consumer_threads_run_at_once_and_hand_over_every_item(student):
    shape = student.run(probes.thread_classes_shape)
    for name, work, work_zh in (("Producer", "puts every item and then the STOPs", "放入每个数据、再放入 STOP"),
                                ("Consumer", "takes items until STOP", "不断取数据直到取到 STOP")):
        facts = shape[name]
        assert facts["thread"], say(f"{name} should subclass threading.Thread: `class {name}(threading.Thread):`",
                                    f"{name} 应当继承 threading.Thread：`class {name}(threading.Thread):`")
        assert facts["run"], say(
            f"{name} does not override run(): start() calls self.run() in the new thread, and Thread's own run() "
            f"only calls a target= function. Write the loop that {work} as `def run(self):` in {name}",
            f"{name} 没有重写 run()：start() 会在新线程里调用 self.run()，而 Thread 自带的 run() 只会调用 target= "
            f"传入的函数。在 {name} 里把{work_zh}的循环写成 `def run(self):`",
        )
        assert facts["init"], say(
            f"{name} has no __init__ of its own: it needs one that calls super().__init__() and keeps what run() "
            "will need (the queue, ...) on self",
            f"{name} 没有自己的 __init__：它需要一个 __init__，先调用 super().__init__()，"
            "再把 run() 要用的东西（队列等）保存在 self 上",
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
                say(
                    f"run_threads returned, and within 3 s only {started['held']} of {consumers} consumers were "
                    "handling items at once: start() the Producer and every Consumer, then join() every one before "
                    "returning",
                    f"run_threads 返回了，而 3 秒内同时在处理数据的消费者只有 {started['held']} 个"
                    f"（共 {consumers} 个）：要 start() Producer 和每一个 Consumer，然后在返回之前对每一个调用 join()",
                ),
                pytrace=False,
            )
        if extra == 0:
            pytest.fail(
                say(
                    "run_threads started no thread: while it ran, the process had no more threads than before. "
                    "thread.run() runs the thread's code right there, in the calling thread, which then waited "
                    "forever (",
                    "run_threads 没有启动任何线程：它运行时，进程的线程数并不比之前多。thread.run() 会就地在调用它的"
                    "线程里执行线程的代码，于是这个线程永远等了下去（",
                ) + student.where() + say(
                    "). start() makes the new thread and calls run() in it: start() every Producer and Consumer, "
                    "then join() them",
                    "）。start() 才会创建新线程并在其中调用 run()：对每个 Producer 和 Consumer 调用 start()，"
                    "然后再 join() 它们",
                ),
                pytrace=False,
            )
        if started["held"] == 0:
            more = "?" if extra is None else extra
            pytest.fail(
                say(
                    f"no consumer handled any item within 3 s; apart from the thread that called run_threads, the "
                    f"process had {more} more thread(s) (the producer, waiting in put() on "
                    "the full queue?): the consumers were not running. start() every thread before joining any, and "
                    "let each Consumer take items until it gets STOP",
                    f"3 秒内没有任何消费者处理过数据；除了调用 run_threads 的线程，进程里多出了 {more} 个线程"
                    "（是在满了的队列上等在 put() 里的生产者吗？）：消费者都没有在运行。先 start() 所有线程，"
                    "再开始 join，并让每个 Consumer 不断取数据，直到取到 STOP",
                ) + _in_brackets(student.where()),
                pytrace=False,
            )
        pytest.fail(
            say(
                f"only {started['held']} of {consumers} consumers were handling items at once; the others were not "
                "running: each Consumer needs a thread of its own. start() every one of them (consumer.run() runs in "
                "the calling thread, one after another) before joining any",
                f"{consumers} 个消费者中只有 {started['held']} 个在同时处理数据，其余的都没有在运行："
                "每个 Consumer 都需要自己的线程。先对每一个调用 start()（consumer.run() 会在调用它的线程里"
                "一个接一个地执行），再开始 join",
            ) + _in_brackets(student.where()),
            pytrace=False,
        )
    seen = student.run(probes.classes_finish, timeout=8)
    assert not seen["ended_while_held"], say(
        f"run_threads returned while {consumers} consumers were still handling items (the grader was holding "
        "them) and the producer had more to put: join() every thread before returning",
        f"run_threads 返回时，{consumers} 个消费者还在处理数据（评分程序扣留着它们），生产者也还有数据要放："
        "返回之前要 join() 每一个线程",
    )
    if extra is not None:  # run_threads was running all along, so `extra` counted its threads only
        assert extra >= consumers + 1, say(
            f"while {consumers} consumers were busy and the producer still had items to put, the process had only "
            f"{extra} thread(s) besides the one that called run_threads; expected the producer and {consumers} "
            "consumers, each in a thread of its own. start() the Producer too (producer.run() would run it in "
            "the calling thread)",
            f"{consumers} 个消费者正在忙、生产者还有数据要放的时候，除了调用 run_threads 的线程，进程里只有 "
            f"{extra} 个线程；应当有生产者和 {consumers} 个消费者，各自在自己的线程里。Producer 也要 start()"
            "（producer.run() 会让它在调用它的线程里运行）",
        )
    if not seen["returned"]:
        if seen["produced"] < count:
            pytest.fail(
                say(
                    f"run_threads got stuck after the producer had taken {seen['produced']} of {count} items, "
                    f"{len(seen['handled'])} of which were handled: the consumers must keep taking items with get() "
                    "until each gets its STOP",
                    f"run_threads 卡住了：生产者取了 {count} 个数据中的 {seen['produced']} 个，其中 "
                    f"{len(seen['handled'])} 个已被处理。消费者必须不断用 get() 取数据，直到各自取到自己的 STOP",
                ) + _in_brackets(student.where()),
                pytrace=False,
            )
        pytest.fail(
            say(
                f"run_threads did not return within 4 s; {len(seen['handled'])} of {count} items were handled. A "
                "thread never ended: the producer puts one STOP for each consumer, each Consumer returns from run() "
                "at its STOP, and run_threads joins them all",
                f"run_threads 没有在 4 秒内返回；{count} 个数据中有 {len(seen['handled'])} 个被处理了。"
                "有线程一直没有结束：生产者要为每个消费者各放一个 STOP，每个 Consumer 取到自己的 STOP 就从 run() "
                "返回，run_threads 再 join 所有线程",
            ) + _in_brackets(student.where()),
            pytrace=False,
        )
    handled = seen["handled"]
    problem = _exactly_once(items, handled)
    assert not problem, _exactly_once_failed(problem) + _why_missing(items, handled)
    assert seen["caller"] not in seen["handle_threads"] and not seen["caller_put"], say(
        "the thread that called run_threads did some of the work itself: a Producer's or Consumer's run() was "
        "called directly. start() every one of them instead",
        "调用 run_threads 的线程自己做了一部分工作：有 Producer 或 Consumer 的 run() 被直接调用了。"
        "应当对它们每一个调用 start()",
    )
    not_consumers = ", ".join(seen["not_consumers"])
    assert not seen["not_consumers"], say(
        f"handle ran in threads that are not your Consumer objects ({not_consumers}): "
        "run_threads should start Consumer(q, handle) objects, whose run() does the work",
        f"handle 在不是你的 Consumer 对象的线程里运行了（{not_consumers}）："
        "run_threads 应当启动 Consumer(q, handle) 对象，由它们的 run() 来做这些工作",
    )
    put_by = ", ".join(seen["put_by"])
    assert not seen["put_by"], say(
        f"items were put into the queue by threads that are not your Producer object ({put_by}): "
        "run_threads should start Producer(q, items, consumers), whose run() puts them",
        f"往队列里放数据的线程不是你的 Producer 对象（{put_by}）："
        "run_threads 应当启动 Producer(q, items, consumers)，由它的 run() 放入数据",
    )
    assert not seen["left_running"], say(
        f"run_threads returned while {seen['left_running']} of its threads were still running: join() every one",
        f"run_threads 返回时，它的线程中还有 {seen['left_running']} 个在运行：要 join() 每一个线程",
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
        kind_zh = f"queue.Queue({size})" if size else "queue.Queue()（没有 maxsize）"
        expected = {"size": count, "empty": count == 0, "full": 0 < size <= count}
        assert got["left"] == count, say(
            f"report(q) changed the queue: a {kind} held {count} item(s) before and {got['left']} after. A report "
            "only looks: q.qsize(), q.empty() and q.full() take nothing out",
            f"report(q) 改变了队列：一个 {kind_zh} 之前装有 {count} 个数据，之后只剩 {got['left']} 个。"
            "报告只是查看：q.qsize()、q.empty() 和 q.full() 不会取走任何数据",
        )
        why = ""
        if size == 0 and got["answer"]["full"] is True:
            why = say(
                ": a queue without maxsize is never full. q.full() knows that; a comparison with q.maxsize does not "
                "(it is 0 there)",
                "：没有 maxsize 的队列永远不会满。q.full() 知道这一点；和 q.maxsize 比较却不知道（这时它是 0）",
            )
        assert got["answer"] == expected, say(
            f"for a {kind} holding {count} item(s), report(q) returned {got['answer']}; expected {expected}",
            f"对装有 {count} 个数据的 {kind_zh}，report(q) 返回了 {got['answer']}；应当是 {expected}",
        ) + why
    size = random.randint(2, 4)
    got = student.run(probes.report_on_manager_queue, size, size, timeout=20)
    assert not got["error"], say(
        f"report(q) raised {got['error']} on a multiprocessing.Manager().Queue({size}). q.queue and q.maxsize belong "
        "to queue.Queue's insides; a Manager queue is a proxy that has only the queue's methods. Ask with q.qsize(), "
        "q.empty() and q.full(), which every queue has",
        f"report(q) 在 multiprocessing.Manager().Queue({size}) 上抛出了 {got['error']}。q.queue 和 q.maxsize "
        "属于 queue.Queue 的内部实现；Manager 队列是一个只有队列方法的代理对象。请用每种队列都有的 q.qsize()、"
        "q.empty() 和 q.full() 去问",
    )
    expected = {"size": size, "empty": False, "full": True}
    assert got["answer"] == expected and got["left"] == size, say(
        f"for a multiprocessing.Manager().Queue({size}) holding {size} items, report(q) returned {got['answer']} "
        f"(and left {got['left']} items); expected {expected}",
        f"对装有 {size} 个数据的 multiprocessing.Manager().Queue({size})，report(q) 返回了 {got['answer']}"
        f"（之后队列里剩 {got['left']} 个数据）；应当是 {expected}",
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
                say(
                    f"drain did not return within {DRAIN_LIMIT:g} s although all {count} items had been handled: "
                    f"{stuck} consumer thread(s) still wait in get() for an item that will never come (",
                    f"尽管 {count} 个数据都已处理完，drain 仍没有在 {DRAIN_LIMIT:g} 秒内返回：有 {stuck} 个消费者线程"
                    "还在 get() 里等待一个永远不会来的数据（",
                ) + student.where() + say(
                    "). Near the end, each asked whether the queue was empty (q.empty(), q.qsize() "
                    "or len(q.queue)) and was told no, but before it called get() the other consumers had taken the "
                    "last items. "
                    "What empty(), full() and qsize() say can be stale a moment later, once another thread has acted: "
                    "take with q.get_nowait() and stop at queue.Empty, which looks and takes in one step",
                    "）。快取完时，每个消费者都问过队列是否为空（q.empty()、q.qsize() 或 len(q.queue)），"
                    "得到的回答都是不空，但在它调用 get() 之前，其他消费者已经取走了最后的数据。"
                    "empty()、full() 和 qsize() 的回答，在别的线程动作之后可能马上就过时了："
                    "请用 q.get_nowait() 取数据，遇到 queue.Empty 就停止，它在一步之内完成查看和取出",
                ),
                pytrace=False,
            )
        pytest.fail(
            say(f"drain did not return within {DRAIN_LIMIT:g} s; {len(seen['handled'])} of {count} items were handled",
                f"drain 没有在 {DRAIN_LIMIT:g} 秒内返回；{count} 个数据中有 {len(seen['handled'])} 个被处理了")
            + _in_brackets(student.where()),
            pytrace=False,
        )
    problem = _exactly_once(items, seen["handled"])
    assert not problem, _exactly_once_failed(problem)
    assert not seen["caller_handled"], say("handle ran in the thread that called drain: take the items in new threads",
                                           "handle 在调用 drain 的线程里运行了：要在新线程里取数据")
    assert seen["threads"] == consumers and seen["peak"] == consumers, say(
        f"drain(q, handle, {consumers}) should take items in {consumers} threads at once; handle ran in "
        f"{seen['threads']} threads, at most {seen['peak']} at a time",
        f"drain(q, handle, {consumers}) 应当在 {consumers} 个线程里同时取数据；handle 实际在 {seen['threads']} "
        f"个线程里运行，同一时刻最多 {seen['peak']} 个",
    )
    assert not seen["still_running"], say(
        f"drain returned while {seen['still_running']} of its threads were still running: join() every one",
        f"drain 返回时，它的线程中还有 {seen['still_running']} 个在运行：要 join() 每一个线程",
    )
