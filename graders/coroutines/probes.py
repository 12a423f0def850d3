"""Probes for the coroutines topic: they drive the student's generators and greenlets and record every event.

A trace is a list of tuples, one per event, in the order the events happened:
("send", value) the probe sends a value, ("yield", value) the generator yielded it, ("log", name, value) the
student's code called log(name, value), ("stop",) the generator finished, ("raised", type, message) it
raised, ("returned",) the student's function returned. Cooperative code has one right order, so the grader
compares the whole trace with the one expected.
"""

from __future__ import annotations

import inspect
from typing import Any

from greenlet import getcurrent

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

Trace = list[tuple]


def _generator(module: str, name: str, *args: Any):
    gen = getattr(student_module(module), name)(*args)
    if not inspect.isgenerator(gen):
        raise StudentMistake(
            say(
                f"{name}() returned {type(gen).__name__}, not a generator: a function becomes a generator "
                "function when its body contains `yield`",
                f"{name}() 返回了 {type(gen).__name__}，而不是生成器：函数体里含有 `yield` 的函数才是生成器函数",
            )
        )
    return gen


def _send(gen, value: Any, trace: Trace) -> bool:
    """Send `value` (None starts the generator) and record what came back; False once it can take no more."""
    trace.append(("send", value))
    try:
        trace.append(("yield", gen.send(value)))
    except StopIteration:
        trace.append(("stop",))
        return False
    except Exception as error:  # the student's generator may raise anything; the trace shows where
        trace.append(("raised", type(error).__name__, str(error)))
        return False
    return True


def fun_trace(values: list[Any]) -> Trace:
    """Start fun(log) with send(None), then send each value: the outline's g.send(None), g.send(1), g.send(2)..."""
    trace: Trace = []
    gen = _generator("generators", "fun", lambda name, value: trace.append(("log", name, value)))
    for value in [None, *values]:
        if not _send(gen, value, trace):
            break
    gen.close()
    return trace


def _doubler(trace: Trace, token: str, limit: int | None):
    """The grader's generator for drive(): yields a greeting, then twice each value sent; ends after `limit`."""
    trace.append(("started",))
    reply: Any = f"ready {token}"
    received = 0
    while True:
        value = yield reply
        trace.append(("received", value))
        received += 1
        if limit is not None and received >= limit:
            trace.append(("finished",))
            return
        reply = value * 2


def drive_trace(values: list[Any], token: str, limit: int | None) -> dict:
    """Call drive() on the grader's generator; report what the generator received and what drive returned."""
    trace: Trace = []
    drive = student_module("generators").drive
    try:
        result = drive(_doubler(trace, token, limit), list(values))
    except StopIteration:
        raise StudentMistake(
            say(
                f"drive() let StopIteration escape: the generator ended when it received value {limit} of "
                f"{len(values)}, and gen.send raises StopIteration when a generator ends; catch it and return what "
                "was yielded so far",
                f"drive() 让 StopIteration 传了出去：生成器收到 {len(values)} 个值中的第 {limit} 个时就结束了，"
                "而生成器结束时 gen.send 会抛出 StopIteration；要捕获它，并返回到目前为止 yield 出的值",
            )
        ) from None
    except TypeError as error:
        if "just-started generator" not in str(error):
            raise
        raise StudentMistake(
            say(
                f"drive() sent {values[0]!r} to a generator that had not started yet, and "
                f"Python refused: TypeError: {error}. Start it with gen.send(None) (or next(gen)) first",
                f"drive() 把 {values[0]!r} 发给了一个还没有启动的生成器，Python 拒绝了：TypeError: {error}。"
                "要先用 gen.send(None)（或 next(gen)）启动它",
            )
        ) from None
    return {"trace": trace, "result": result if isinstance(result, list) else repr(result)}


def consumer_trace(items: list[Any]) -> Trace:
    """Start consumer(log) with next(), then send each item, as the outline's produce() does."""
    trace: Trace = []
    gen = _generator("generators", "consumer", lambda name, value: trace.append(("log", name, value)))
    for item in [None, *items]:
        if not _send(gen, item, trace):
            break
    gen.close()
    return trace


def _recording_consumer(trace: Trace):
    trace.append(("started",))
    while True:
        item = yield
        trace.append(("received", item))


def produce_trace(items: list[Any]) -> Trace:
    """Call produce(g, items, log) with the grader's consumer generator as g."""
    trace: Trace = []
    produce = student_module("generators").produce
    try:
        produce(_recording_consumer(trace), list(items), lambda name, value: trace.append(("log", name, value)))
    except TypeError as error:
        if "just-started generator" not in str(error):
            raise
        raise StudentMistake(
            say(
                f"produce() sent an item to the consumer before starting it, and Python refused: TypeError: {error}. "
                "Start the consumer once with next(g) before the loop",
                f"produce() 还没启动消费者就向它发送了数据，Python 拒绝了：TypeError: {error}。"
                "要在循环之前先用 next(g) 启动消费者一次",
            )
        ) from None
    trace.append(("returned",))
    return trace


def greenlet_trace(items: list[Any]) -> dict:
    """Call switching.run(items, log); record each log call with the greenlet it ran in."""
    caller = getcurrent()
    seen: list = [caller]  # kept alive so that no two greenlets share an id
    trace: Trace = []

    def log(event: str, item: Any) -> None:
        current = getcurrent()
        if current not in seen:
            seen.append(current)
        trace.append(("log", event, item, seen.index(current)))

    try:
        student_module("switching").run(list(items), log)
    except (StudentMistake, NotImplementedError):
        raise
    except Exception as error:  # reported with the trace, which shows how far the switching got
        trace.append(("raised", type(error).__name__, str(error)))
    else:
        trace.append(("returned",))
    return {"trace": trace}
