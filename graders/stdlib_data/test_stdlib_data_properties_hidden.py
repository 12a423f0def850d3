"""Property graders of stdlib-data, kept out of students' repositories: hypothesis generates the inputs and
the reference in oracle_hidden.py gives the answers.

Each example is one batch of inputs that a single `student.run` maps the student's function over (a call into
the worker per input would be slow); the grader then compares every answer with the oracle's. Generation is
derandomized, so a verdict never changes between runs, and shrinking is off: the message names the shortest
wrong input of the batch instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.harness.core.curriculum import say
from graders.harness.core.properties import deterministic
from graders.stdlib_data import oracle_hidden as oracle
from graders.stdlib_data import probes

pytestmark = pytest.mark.hidden

BATCH = 50
PROPERTIES = deterministic(4)
TEXTS = st.text(max_size=40)
JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=6,
)


def _first_wrong(module: str, function: str, calls: list[tuple], answers: list[dict], judge) -> None:
    """Fail with the shortest call whose answer `judge(arguments, answer)` finds wrong (it returns why, or None)."""
    assert len(answers) == len(calls), say(f"{function} answered {len(answers)} of {len(calls)} calls",
                                           f"{function} 只回答了 {len(calls)} 次调用中的 {len(answers)} 次")
    wrong = []
    for arguments, answer in zip(calls, answers, strict=True):
        shown = f"{function}({', '.join(repr(argument) for argument in arguments)})"
        if "raised" in answer:
            why = say(f"it raised {answer['raised']}", f"它抛出了 {answer['raised']}")
        else:
            why = judge(arguments, answer["value"])
        if why:
            wrong.append((len(shown), shown, why))
    if wrong:
        _, shown, why = min(wrong)
        file = f"{module}.py"
        pytest.fail(f"{file}: {shown:.400}: {why}", pytrace=False)


def _strings_in(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, list):
        return [text for item in obj for text in _strings_in(item)]
    if isinstance(obj, dict):
        return [text for key, item in obj.items() for text in [key, *_strings_in(item)]]
    return []


def _dumped_wrongly(arguments: tuple, dumped: Any) -> str | None:
    (obj,) = arguments
    if not isinstance(dumped, str):
        return say(f"it returned {dumped!r:.100}, not the JSON text as a str",
                   f"它返回了 {dumped!r:.100}，而不是 str 类型的 JSON 文本")
    try:
        back = json.loads(dumped)
    except ValueError as error:
        return say(f"it returned {dumped!r:.100}, which is not JSON ({error})",
                   f"它返回了 {dumped!r:.100}，这不是 JSON（{error}）")
    if back != obj:
        return say(f"json.loads of what it returned is {back!r:.100}, not the object it was given",
                   f"对它的返回值做 json.loads 得到的是 {back!r:.100}，而不是传给它的对象")
    escaped = sorted({c for text in _strings_in(obj) for c in text if ord(c) > 127 and c not in dumped})
    if escaped:
        return say(f"{''.join(escaped[:5])!r} came out as \\u escapes: pass ensure_ascii=False to json.dumps",
                   f"{''.join(escaped[:5])!r} 被写成了 \\u 转义：给 json.dumps 传入 ensure_ascii=False")
    return None


@pytest.mark.task(1)
@PROPERTIES
@given(objects=st.lists(JSON_DATA, min_size=BATCH // 2, max_size=BATCH // 2))
def test_to_json_and_from_json_round_trip_any_json_data(student, objects):
    calls = [(obj,) for obj in objects]
    answers = student.run(probes.map_calls, "data_formats", "to_json", calls)
    _first_wrong("data_formats", "to_json", calls, answers, _dumped_wrongly)
    texts = [(oracle.to_json(obj),) for obj in objects]
    answers = student.run(probes.map_calls, "data_formats", "from_json", texts)
    _first_wrong(
        "data_formats", "from_json", texts, answers,
        lambda arguments, got: None if got == oracle.from_json(*arguments) else say(
            f"it returned {got!r:.100}; json.loads gives {oracle.from_json(*arguments)!r:.100}",
            f"它返回了 {got!r:.100}；json.loads 得到的是 {oracle.from_json(*arguments)!r:.100}",
        ),
    )


def _equal_to(function):
    def judge(arguments: tuple, got: Any) -> str | None:
        expected = function(*arguments)
        if got == expected and type(got) is type(expected):
            return None
        return say(f"expected {expected!r}, got {got!r}", f"应当是 {expected!r}，得到的是 {got!r}")
    return judge


@pytest.mark.task(3)
@PROPERTIES
@given(texts=st.lists(TEXTS, min_size=BATCH, max_size=BATCH))
def test_base64_functions_agree_with_base64_for_any_text(student, texts):
    for encode, decode in (("to_base64", "from_base64"), ("to_urlsafe_base64", "from_urlsafe_base64")):
        calls = [(text,) for text in texts]
        answers = student.run(probes.map_calls, "data_formats", encode, calls)
        _first_wrong("data_formats", encode, calls, answers, _equal_to(getattr(oracle, encode)))
        encoded = [(getattr(oracle, encode)(text),) for text in texts]
        answers = student.run(probes.map_calls, "data_formats", decode, encoded)
        _first_wrong("data_formats", decode, encoded, answers, _equal_to(getattr(oracle, decode)))


@pytest.mark.task(4)
@PROPERTIES
@given(texts=st.lists(TEXTS, min_size=BATCH, max_size=BATCH))
def test_md5_hex_agrees_with_hashlib_for_any_text(student, texts):
    calls = [(text,) for text in texts]
    answers = student.run(probes.map_calls, "hashing", "md5_hex", calls)
    _first_wrong("hashing", "md5_hex", calls, answers, _equal_to(oracle.md5_hex))


@st.composite
def logins(draw: st.DrawFn) -> tuple[str, str]:
    """(attempt, stored): the stored hash of a password, and either that password or another one."""
    password = draw(st.text(max_size=16))
    stored = oracle.stored_password(password, draw(st.binary(min_size=16, max_size=16)), draw(st.integers(1, 64)))
    attempt = draw(st.sampled_from([password, None]))
    if attempt is None:
        attempt = draw(st.text(max_size=16).filter(lambda other: other != password))
    return attempt, stored


@pytest.mark.task(7)
@PROPERTIES
@given(calls=st.lists(logins(), min_size=BATCH, max_size=BATCH))
def test_verify_password_agrees_with_pbkdf2_for_any_password_salt_and_iterations(student, calls):
    answers = student.run(probes.map_calls, "passwords", "verify_password", calls)
    _first_wrong("passwords", "verify_password", calls, answers, _equal_to(oracle.verify_password))
