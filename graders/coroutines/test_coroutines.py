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


def _event(event: tuple, names: dict[int, str] | None = None) -> str:
    kind = event[0]
    if kind == "send":
        return f"send({event[1]!r})"
    if kind == "yield":
        return f"yielded {event[1]!r}"
    if kind == "log":
        where = f" in {names.get(event[3], f'greenlet {event[3]}')}" if names is not None and len(event) > 3 else ""
        return f"log({event[1]!r}, {event[2]!r}){where}"
    if kind == "stop":
        return "StopIteration (the generator ended)"
    if kind == "raised":
        return f"raised {event[1]}: {event[2]}"
    if kind == "received":
        return f"the consumer received {event[1]!r}"
    return {"started": "the generator started", "finished": "the generator ended", "returned": "returned"}[kind]


def _compare(expected: list[tuple], got: list[tuple], what: str, names: dict[int, str] | None = None) -> str | None:
    """None when the traces agree; else a message that shows both around the first difference."""
    got = [tuple(event) for event in got]
    if got == expected:
        return None
    at = next((i for i, (e, g) in enumerate(zip(expected, got, strict=False)) if e != g), min(len(expected), len(got)))
    want = _event(expected[at], names) if at < len(expected) else "nothing more"
    have = _event(got[at], names) if at < len(got) else "nothing more"
    start = max(0, at - 4)

    def lines(trace: list[tuple]) -> str:
        shown = [_event(event, names) for event in trace[start : at + 3]]
        return ", ".join(["...", *shown] if start else shown) + (", ..." if len(trace) > at + 3 else "")

    return (
        f"{what}: event {at + 1} should be {want}, but it was {have}.\n"
        f"  expected: {lines(expected)}\n"
        f"  yours:    {lines(got)}"
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
    problem = _compare(expected, trace, "driving fun(log) with send(None), then send(a), send(b), send(c)")
    assert problem is None, problem + (
        "\n`a = yield '第一个yield'` both yields the prompt and, on the next send, receives the value"
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
    problem = _compare(expected_trace, seen["trace"], f"drive(gen, {values})")
    assert problem is None, problem
    assert seen["result"] == expected_result, (
        f"drive(gen, {values}) should return everything gen yielded, starting with what it yielded when it "
        f"started: {expected_result}; yours returned {seen['result']}"
    )


@pytest.mark.task(2)
def test_drive_stops_when_the_generator_finishes_early(student):
    values, token = [random.randint(1, 99) for _ in range(6)], secrets.token_hex(3)
    limit = random.randint(2, 4)
    seen = student.run(probes.drive_trace, values, token, limit)
    expected_trace, expected_result = _expected_drive(values, token, limit)
    problem = _compare(expected_trace, seen["trace"], f"drive(gen, {values}) with a gen that ends after {limit} values")
    assert problem is None, problem
    assert seen["result"] == expected_result, (
        f"gen ended after receiving {limit} of {len(values)} values; drive should return what it yielded until "
        f"then, {expected_result}; yours returned {seen['result']}"
    )


@pytest.mark.task(3)
def test_consumer_logs_every_item_sent_to_it(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    trace = student.run(probes.consumer_trace, items)
    expected = [("send", None), ("yield", None)]
    for item in items:
        expected += [("send", item), ("log", "consume", item), ("yield", None)]
    problem = _compare(expected, trace, f"starting consumer(log) with next(g), then sending {items}")
    if problem and ("stop",) in [tuple(event) for event in trace]:
        got = sum(1 for event in trace if event[0] == "log")
        problem += f"\nyour consumer stopped after {got} item(s): keep `item = yield` inside `while True:`"
    assert problem is None, problem


@pytest.mark.task(3)
def test_produce_starts_the_consumer_once_and_sends_each_item_after_logging_it(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    trace = student.run(probes.produce_trace, items)
    expected = [("started",)]
    for item in items:
        expected += [("log", "produce", item), ("received", item)]
    expected.append(("returned",))
    problem = _compare(expected, trace, f"produce(g, {items}, log) with the grader's consumer as g")
    assert problem is None, problem + (
        "\nnext(g) runs the consumer up to its first `yield` once; after that every g.send(item) delivers one item"
    )


@pytest.mark.task(4)
def test_greenlets_hand_each_item_from_producer_to_consumer_and_back(student):
    items = [random.randint(0, 99) for _ in range(random.randint(4, 7))]
    seen = student.run(probes.greenlet_trace, items)
    trace = [tuple(event) for event in seen["trace"]]
    logs = [event for event in trace if event[0] == "log"]
    producers = {event[3] for event in logs if event[1] == "produce"}
    consumers = {event[3] for event in logs if event[1] == "consume"}
    names = {0: "the caller of run()"}
    if len(producers) == 1 and producers != consumers:
        names.setdefault(next(iter(producers)), "the producer greenlet")
    if len(consumers) == 1 and consumers != producers:
        names.setdefault(next(iter(consumers)), "the consumer greenlet")

    if trace and trace[-1][0] == "raised":
        advice = ""
        if logs and logs[-1][1] == "produce" and not consumers:
            advice = (
                "\nthe producer's first c.switch(item) started the consumer function with the item as an argument: "
                "switch to the consumer first with c.switch(), so that it is waiting in p.switch() for the item"
            )
        pytest.fail(
            f"run({items}, log) raised {trace[-1][1]}: {trace[-1][2]}\n  after: "
            + (", ".join(_event(event, names) for event in logs) or "nothing was logged")
            + advice,
            pytrace=False,
        )
    assert 0 not in producers | consumers, (
        f"log() was called by {names[0]} itself, not by a greenlet: make the producer and the consumer "
        "greenlets with greenlet(produce) and greenlet(consumer) and let them call log()"
    )
    assert not (producers & consumers), (
        "produce and consume were logged in the same greenlet: the producer called the consumer like a plain "
        "function. Give the consumer a greenlet of its own and hand it each item with c.switch(item)"
    )
    assert len(producers) <= 1 and len(consumers) <= 1, (
        f"the items went through {len(producers | consumers)} greenlets: one producer and one consumer greenlet "
        "should pass every item, each switching back to the other"
    )
    expected = [event for item in items for event in (("log", "produce", item, 1), ("log", "consume", item, 2))]
    expected.append(("returned",))
    renumbered = [
        ("log", event[1], event[2], 1 if event[3] in producers else 2) if event[0] == "log" else event
        for event in trace
    ]
    problem = _compare(expected, renumbered, f"run({items}, log)", {1: "the producer", 2: "the consumer"})
    if problem and renumbered[-1] == ("returned",) and len(logs) < 2 * len(items):
        problem += (
            "\nrun() came back too early: a greenlet whose function returns switches to its parent, so the "
            "consumer must wait for the next item in a `while True` loop"
        )
    assert problem is None, problem
