"""Grades exercises/coroutines: generators driven with send, a generator consumer, greenlets that switch.

Cooperative code runs in exactly one order, so each test compares the whole trace of events (what was sent,
what was yielded, what was logged, in which greenlet) with the one expected, and shows the first difference.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

import pytest

from graders.coroutines import probes
from graders.harness.core.curriculum import say

# Who ran a log() call, by the number the trace gives its greenlet: (English, Chinese).
Names = dict[int, tuple[str, str]]


def _event(event: tuple, names: Names | None = None, zh: bool = False) -> str:
    """One event of a trace in words, in English or (zh) in Chinese."""
    kind = event[0]
    if kind == "send":
        return f"send({event[1]!r})"
    if kind == "yield":
        return f"yield 出 {event[1]!r}" if zh else f"yielded {event[1]!r}"
    if kind == "log":
        where = ""
        if names is not None and len(event) > 3:
            name = names.get(event[3], (f"greenlet {event[3]}", f"编号 {event[3]} 的协程"))[1 if zh else 0]
            where = f"（在{name}里）" if zh else f" in {name}"
        return f"log({event[1]!r}, {event[2]!r}){where}"
    if kind == "stop":
        return "StopIteration（生成器结束了）" if zh else "StopIteration (the generator ended)"
    if kind == "raised":
        return f"抛出了 {event[1]}: {event[2]}" if zh else f"raised {event[1]}: {event[2]}"
    if kind == "received":
        return f"消费者收到了 {event[1]!r}" if zh else f"the consumer received {event[1]!r}"
    if zh:
        return {"started": "生成器启动了", "finished": "生成器结束了", "returned": "函数返回了"}[kind]
    return {"started": "the generator started", "finished": "the generator ended", "returned": "returned"}[kind]


def _compare(expected: list[tuple], got: list[tuple], what: tuple[str, str], names: Names | None = None) -> str | None:
    """None when the traces agree; else a message that shows both around the first difference.

    `what` says what the grader did, in English and in Chinese."""
    got = [tuple(event) for event in got]
    if got == expected:
        return None
    at = next((i for i, (e, g) in enumerate(zip(expected, got, strict=False)) if e != g), min(len(expected), len(got)))
    start = max(0, at - 4)

    def differing(trace: list[tuple], zh: bool) -> str:
        if at < len(trace):
            return _event(trace[at], names, zh)
        return "没有更多事件" if zh else "nothing more"

    def lines(trace: list[tuple], zh: bool = False) -> str:
        shown = [_event(event, names, zh) for event in trace[start : at + 3]]
        comma = "，" if zh else ", "
        return comma.join(["...", *shown] if start else shown) + (comma + "..." if len(trace) > at + 3 else "")

    return "\n".join(
        [
            say(
                f"{what[0]}: event {at + 1} should be {differing(expected, False)}, "
                f"but it was {differing(got, False)}.",
                f"{what[1]}：第 {at + 1} 个事件应当是 {differing(expected, True)}，实际是 {differing(got, True)}。",
            ),
            say(f"  expected: {lines(expected)}", f"  预期：{lines(expected, True)}"),
            say(f"  yours:    {lines(got)}", f"  你的：{lines(got, True)}"),
        ]
    )


def _values(count: int) -> list[Any]:
    words = ["苹果", "香蕉", "python", "yield", "send", "greenlet"]
    return [
        random.choice([random.randint(1, 999), f"{random.choice(words)}-{secrets.token_hex(2)}"]) for _ in range(count)
    ]


@pytest.mark.task(1)
def test_fun_yields_three_prompts_and_logs_each_value_sent_back(student):
    a, b, c = _values(3)
    trace = student.run(probes.fun_trace, [a, b, c])
    expected = [
        ("send", None), ("yield", "第一个yield"),
        ("send", a), ("log", "a", a), ("yield", "第二个yield"),
        ("send", b), ("log", "b", b), ("yield", "第三个yield"),
        ("send", c), ("log", "c", c), ("stop",),
    ]  # fmt: skip
    problem = _compare(
        expected,
        trace,
        (
            "driving fun(log) with send(None), then send(a), send(b), send(c)",
            "用 send(None) 启动 fun(log)，再依次 send(a)、send(b)、send(c)",
        ),
    )
    assert problem is None, (
        problem
        + "\n"
        + say(
            "`a = yield '第一个yield'` both yields the prompt and, on the next send, receives the value",
            "`a = yield '第一个yield'` 既 yield 出提示，又在下一次 send 时接收传回来的值",
        )
    )


def _expected_drive(values: list[Any], token: str, limit: int | None) -> tuple[list[tuple], list[Any]]:
    taken = values if limit is None else values[:limit]
    trace = [("started",), *[("received", value) for value in taken]]
    if limit is not None:
        trace.append(("finished",))
    replies = [value * 2 for value in taken]
    result = [f"ready {token}", *(replies if limit is None else replies[:-1])]
    return trace, result


@pytest.mark.task(2)
def test_drive_starts_the_generator_sends_every_value_and_collects_every_yield(student):
    values, token = [random.randint(1, 99) for _ in range(random.randint(4, 7))], secrets.token_hex(3)
    seen = student.run(probes.drive_trace, values, token, None)
    expected_trace, expected_result = _expected_drive(values, token, None)
    problem = _compare(expected_trace, seen["trace"], (f"drive(gen, {values})", f"drive(gen, {values})"))
    assert problem is None, problem
    assert seen["result"] == expected_result, say(
        f"drive(gen, {values}) should return everything gen yielded, starting with what it yielded when it "
        f"started: {expected_result}; yours returned {seen['result']}",
        f"drive(gen, {values}) 应当返回 gen yield 出的所有值，第一个是它启动时 yield 出的值：{expected_result}；"
        f"你的返回了 {seen['result']}",
    )


@pytest.mark.task(2)
def test_drive_stops_when_the_generator_finishes_early(student):
    values, token = [random.randint(1, 99) for _ in range(6)], secrets.token_hex(3)
    limit = random.randint(2, 4)
    seen = student.run(probes.drive_trace, values, token, limit)
    expected_trace, expected_result = _expected_drive(values, token, limit)
    problem = _compare(
        expected_trace,
        seen["trace"],
        (
            f"drive(gen, {values}) with a gen that ends after {limit} values",
            f"用一个收到 {limit} 个值后就结束的 gen 调用 drive(gen, {values})",
        ),
    )
    assert problem is None, problem
    assert seen["result"] == expected_result, say(
        f"gen ended after receiving {limit} of {len(values)} values; drive should return what it yielded until "
        f"then, {expected_result}; yours returned {seen['result']}",
        f"gen 在收到 {len(values)} 个值中的 {limit} 个后就结束了；drive 应当返回在那之前它 yield 出的值 "
        f"{expected_result}；你的返回了 {seen['result']}",
    )


@pytest.mark.task(3)
def test_consumer_logs_every_item_sent_to_it(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    trace = student.run(probes.consumer_trace, items)
    expected = [("send", None), ("yield", None)]
    for item in items:
        expected += [("send", item), ("log", "consume", item), ("yield", None)]
    problem = _compare(
        expected,
        trace,
        (
            f"starting consumer(log) with next(g), then sending {items}",
            f"用 next(g) 启动 consumer(log)，再依次发送 {items}",
        ),
    )
    if problem and ("stop",) in [tuple(event) for event in trace]:
        got = sum(1 for event in trace if event[0] == "log")
        problem += "\n" + say(
            f"your consumer stopped after {got} item(s): keep `item = yield` inside `while True:`",
            f"你的消费者收到 {got} 个数据后就停止了：要把 `item = yield` 放在 `while True:` 循环里",
        )
    assert problem is None, problem


@pytest.mark.task(3)
def test_produce_starts_the_consumer_once_and_sends_each_item_after_logging_it(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    trace = student.run(probes.produce_trace, items)
    expected = [("started",)]
    for item in items:
        expected += [("log", "produce", item), ("received", item)]
    expected.append(("returned",))
    problem = _compare(
        expected,
        trace,
        (
            f"produce(g, {items}, log) with the grader's consumer as g",
            f"以评分程序的消费者作为 g 调用 produce(g, {items}, log)",
        ),
    )
    assert problem is None, (
        problem
        + "\n"
        + say(
            "next(g) runs the consumer up to its first `yield` once; after that every g.send(item) delivers one item",
            "next(g) 只调用一次，让消费者运行到它的第一个 `yield`；之后每次 g.send(item) 交给它一个数据",
        )
    )


@pytest.mark.task(4)
def test_greenlets_hand_each_item_from_producer_to_consumer_and_back(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    seen = student.run(probes.greenlet_trace, items)
    trace = [tuple(event) for event in seen["trace"]]
    logs = [event for event in trace if event[0] == "log"]
    producers = {event[3] for event in logs if event[1] == "produce"}
    consumers = {event[3] for event in logs if event[1] == "consume"}
    names: Names = {0: ("the caller of run()", "run() 的调用者")}
    if len(producers) == 1 and producers != consumers:
        names.setdefault(next(iter(producers)), ("the producer greenlet", "生产者协程"))
    if len(consumers) == 1 and consumers != producers:
        names.setdefault(next(iter(consumers)), ("the consumer greenlet", "消费者协程"))

    if trace and trace[-1][0] == "raised":
        advice = ""
        if logs and logs[-1][1] == "produce" and not consumers:
            advice = "\n" + say(
                "the producer's first c.switch(item) started the consumer function with the item as an argument: "
                "switch to the consumer first with c.switch(), so that it is waiting in p.switch() for the item",
                "生产者的第一次 c.switch(item) 把数据作为参数启动了消费者函数：应当先用 c.switch() 切换到消费者，"
                "让它停在 p.switch() 里等待数据",
            )
        before = ", ".join(_event(event, names) for event in logs)
        before_zh = "，".join(_event(event, names, zh=True) for event in logs)
        pytest.fail(
            say(
                f"run({items}, log) raised {trace[-1][1]}: {trace[-1][2]}",
                f"run({items}, log) 抛出了 {trace[-1][1]}: {trace[-1][2]}",
            )
            + "\n"
            + say(f"  after: {before or 'nothing was logged'}", f"  在这之前：{before_zh or '没有记录任何事件'}")
            + advice,
            pytrace=False,
        )
    assert 0 not in producers | consumers, say(
        f"log() was called by {names[0][0]} itself, not by a greenlet: make the producer and the consumer "
        "greenlets with greenlet(produce) and greenlet(consumer) and let them call log()",
        f"log() 是由 {names[0][1]}自己调用的，而不是在 greenlet 里：用 greenlet(produce) 和 greenlet(consumer) "
        "创建生产者和消费者 greenlet，再让它们调用 log()",
    )
    assert not (producers & consumers), say(
        "produce and consume were logged in the same greenlet: the producer called the consumer like a plain "
        "function. Give the consumer a greenlet of its own and hand it each item with c.switch(item)",
        "produce 和 consume 是在同一个 greenlet 里记录的：生产者像调用普通函数那样调用了消费者。"
        "给消费者一个自己的 greenlet，再用 c.switch(item) 把每个数据交给它",
    )
    assert len(producers) <= 1 and len(consumers) <= 1, say(
        f"the items went through {len(producers | consumers)} greenlets: one producer and one consumer greenlet "
        "should pass every item, each switching back to the other",
        f"数据经过了 {len(producers | consumers)} 个 greenlet：应当由一个生产者 greenlet 和一个消费者 greenlet "
        "传递所有数据，两者来回切换",
    )
    expected = [event for item in items for event in (("log", "produce", item, 1), ("log", "consume", item, 2))]
    expected.append(("returned",))
    renumbered = [
        ("log", event[1], event[2], 1 if event[3] in producers else 2) if event[0] == "log" else event
        for event in trace
    ]
    problem = _compare(
        expected,
        renumbered,
        (f"run({items}, log)", f"run({items}, log)"),
        {1: ("the producer", "生产者"), 2: ("the consumer", "消费者")},
    )
    if problem and renumbered[-1] == ("returned",) and len(logs) < 2 * len(items):
        problem += "\n" + say(
            "run() came back too early: a greenlet whose function returns switches to its parent, so the "
            "consumer must wait for the next item in a `while True` loop",
            "run() 返回得太早了：greenlet 的函数一返回就会切换回它的父协程，所以消费者必须在 `while True` "
            "循环里等待下一个数据",
        )
    assert problem is None, problem
