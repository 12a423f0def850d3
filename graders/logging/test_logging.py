"""Grades exercises/logging: the outline's logger with a console handler, a file handler, its format, a second
set-up that adds nothing, and logger.exception for the outline's 10 / 0.

The logger's name, the file's name and every message (Chinese and emoji) are made for this run. What reached
the console is what the student's StreamHandler wrote to the worker's sys.stderr; what reached the file is
read back from the file.
"""

from __future__ import annotations

import random
import re
import secrets

import pytest

from graders.logging import probes

LEVELS = ["debug", "info", "warning", "error", "critical"]
CONSOLE_LEVELS = {"warning", "error", "critical"}
CHINESE = "订单支付库存用户登录失败成功数据库连接超时重试北京上海"
EMOJI = "😀🎉🐍🔥🚀💡"
LINE = re.compile(r"时间: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d{3})?); 级别: ([A-Z]+); 日志内容: (.*)")
FORMAT = "时间: %(asctime)s; 级别: %(levelname)s; 日志内容: %(message)s"
EXAMPLE = "时间: 2018-08-16 20:30:38,123; 级别: WARNING; 日志内容: ..."


@pytest.fixture
def rng() -> random.Random:
    return random.Random(secrets.randbits(64))


def make_messages(rng: random.Random) -> list[tuple[str, str]]:
    """One message per level, each with a token of its own so it can be found (and counted) anywhere."""
    messages = []
    for level in LEVELS:
        words = "".join(rng.choice(CHINESE) for _ in range(rng.randint(3, 8)))
        messages.append((level, f"{words}{rng.choice(EMOJI)} #{secrets.token_hex(4)}"))
    return messages


def set_up(student, rng, setups: int = 1) -> tuple[dict, list[list[tuple[str, str]]], str, object]:
    """Call setup_logger `setups` times, each followed by one message per level; return what was seen."""
    name = f"shop.{rng.choice(['orders', 'payments', 'users'])}{rng.randint(10, 99)}"
    path = student.workdir / f"log-{secrets.token_hex(3)}.txt"
    rounds = [make_messages(rng) for _ in range(setups)]
    seen = student.run(probes.log_every_level, name, str(path), rounds)
    return seen, rounds, name, path


def read_log(path) -> str:
    assert path.exists(), f"no log file was written at the path setup_logger was given ({path.name})"
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        pytest.fail(f"the log file {path.name} is not UTF-8 ({error}): open it with encoding='utf-8'", pytrace=False)


def levels_in(text: str, messages: list[tuple[str, str]]) -> list[str]:
    return [level for level, message in messages if message in text]


def inherited_console(seen: dict) -> dict | None:
    """A console handler of a parent logger (the root's, from logging.basicConfig) that the records reach."""
    return next(
        (h for h in seen["handlers"] if h["owner"] != seen["name"] and h["stream"] in ("stderr", "stdout")), None
    )


def root_handler_note(handler: dict) -> str:
    where = "the root logger" if handler["owner"] == "root" else f"the logger {handler['owner']!r}"
    return (
        f"{where} has a console handler too (logging.basicConfig adds one), at level {handler['level']}, and "
        "your logger's records propagate to it. Leave basicConfig out of setup_logger: the logger's own "
        "handlers are all it needs (or set logger.propagate = False)"
    )


# -- task 1: a named logger, a console handler at WARNING -------------------------------------------------------


@pytest.mark.task(1)
def test_console_shows_warning_and_above_on_stderr(student, rng):
    seen, (messages,), name, _ = set_up(student, rng)
    assert seen["name"] == name and seen["registered"], (
        f"setup_logger({name!r}, ...) returned the logger {seen['name']!r}; return logging.getLogger(name), so "
        "every module that asks for that name gets the same logger"
    )
    on_stdout = levels_in(seen["stdout"], messages)
    assert not on_stdout, (
        f"the {', '.join(on_stdout)} messages were written to stdout: a console handler should write to stderr, "
        "as logging.StreamHandler() with no argument does, so logs stay apart from the program's own output"
    )
    on_stderr = levels_in(seen["stderr"], messages)
    missing = [level for level in LEVELS if level in CONSOLE_LEVELS and level not in on_stderr]
    if missing:
        consoles = [h for h in seen["handlers"] if h["owner"] == name and h["stream"] == "stderr"]
        if seen["level"] not in ("NOTSET", "DEBUG", "INFO", "WARNING"):
            fix = (
                f"the logger's own level is {seen['level']}: it drops lower records before any handler sees them. "
                "logger.setLevel(logging.DEBUG)"
            )
        elif consoles:
            fix = (
                f"your console handler is at level {consoles[0]['level']}, which lets through only records at that "
                "level and above: sh.setLevel(logging.WARNING)"
            )
        else:
            fix = "add a logging.StreamHandler() to the logger, at level WARNING"
        pytest.fail(
            f"logger.{missing[0]}(...) did not reach the console (stderr); it showed {on_stderr or 'nothing'}: "
            + fix
            + (f". stderr held: {seen['stderr'][-300:]!r}" if seen["stderr"] else ""),
            pytrace=False,
        )
    too_low = [level for level in on_stderr if level not in CONSOLE_LEVELS]
    inherited = inherited_console(seen)
    if too_low and inherited and inherited["level"] not in ("WARNING", "ERROR", "CRITICAL"):
        pytest.fail(
            f"the console showed the {' and '.join(too_low)} messages too: only WARNING and above belong there. "
            + root_handler_note(inherited),
            pytrace=False,
        )
    assert not too_low, (
        f"the console showed the {' and '.join(too_low)} messages too: only WARNING and above belong there. "
        "sh.setLevel(logging.WARNING) on the console handler"
    )


# -- task 2: a file handler at DEBUG, in UTF-8 ------------------------------------------------------------------


@pytest.mark.task(2)
def test_log_file_gets_every_level_in_utf8(student, rng):
    seen, (messages,), _, path = set_up(student, rng)
    files = [handler for handler in seen["handlers"] if handler["file"]]
    wrong = [handler["encoding"] for handler in files if str(handler["encoding"]).lower().replace("_", "-") not in
             ("utf-8", "utf8")]
    assert not wrong, (
        f"the FileHandler was made with encoding={wrong[0]!r}: without encoding='utf-8' it writes in the "
        "computer's default encoding, GBK on a Chinese Windows, where the emoji in these messages cannot be "
        "written. logging.FileHandler(path, encoding='utf-8')"
    )
    content = read_log(path)
    in_file = levels_in(content, messages)
    missing = [level for level in LEVELS if level not in in_file]
    if missing and set(missing) <= {"debug", "info"} and seen["level"] != "DEBUG":
        pytest.fail(
            f"the file has no {' and '.join(level.upper() for level in missing)} lines, and the logger's own "
            f"level is {seen['level']}: "
            "a logger drops records below its level before any handler sees them (NOTSET means it takes the root "
            "logger's WARNING). logger.setLevel(logging.DEBUG)",
            pytrace=False,
        )
    assert not missing, (
        f"the log file lacks the {', '.join(missing)} messages; everything from DEBUG up belongs in the file: "
        "fh.setLevel(logging.DEBUG) on the FileHandler, and the logger at DEBUG. The file holds:\n"
        + content[-400:]
    )


# -- task 3: the outline's format on both handlers --------------------------------------------------------------


def check_lines(text: str, where: str, messages: list[tuple[str, str]]) -> int:
    """Every line of `text` that carries one of the messages has the outline's format with the right level."""
    checked = 0
    for line in text.splitlines():
        level = next((lvl for lvl, message in messages if message in line), None)
        if level is None:
            continue
        match = LINE.fullmatch(line)
        assert match, (
            f"this line {where} is not in the outline's format: {line!r}; expected e.g. {EXAMPLE!r}. Create one "
            "logging.Formatter(FORMAT) and setFormatter it on each handler"
        )
        assert match[2] == level.upper(), f"this line {where} shows level {match[2]} for a logger.{level}(): {line!r}"
        assert match[3] == dict(messages)[level], f"this line {where} changes the message: {line!r}"
        checked += 1
    return checked


@pytest.mark.task(3)
def test_console_and_file_lines_use_the_outline_format(student, rng):
    seen, (messages,), _, path = set_up(student, rng)
    inherited = inherited_console(seen)
    if inherited and inherited["format"] != FORMAT:
        pytest.fail(
            "some console lines are not in the outline's format: they come from a handler that is not your "
            "logger's. " + root_handler_note(inherited),
            pytrace=False,
        )
    on_console = check_lines(seen["stderr"] + seen["stdout"], "on the console", messages)
    in_file = check_lines(read_log(path), "in the log file", messages)
    assert on_console and in_file, (
        f"found {on_console} log lines on the console and {in_file} in the file; both handlers are needed to "
        "check their format"
    )


# -- task 4: a second set-up adds no handlers -------------------------------------------------------------------


@pytest.mark.task(4)
def test_setting_up_twice_does_not_duplicate_lines(student, rng):
    seen, (first, second), name, path = set_up(student, rng, setups=2)
    content = read_log(path)
    before, after = seen["handler_counts"]
    for where, text in (("on the console", seen["stderr"] + seen["stdout"]), ("in the log file", content)):
        for (level, once), (_, again) in zip(first, second, strict=True):
            expected, count = text.count(once), text.count(again)
            assert count <= expected, (
                f"after a second setup_logger({name!r}, ...), logger.{level}(...) appeared {count} times "
                f"{where} instead of {expected}: getLogger(name) returns the same logger every time, so the second "
                "call added its handlers again. Add them only when the logger has none yet "
                "(if logger.handlers: return logger)"
            )
            assert count == expected, (
                f"after a second setup_logger({name!r}, ...), logger.{level}(...) appeared {count} times {where}, "
                f"where it appeared {expected} times after the first: the second call should leave the logger as "
                "the first call made it"
            )
    assert after == before, (
        f"the first setup_logger left {before} handlers on the logger, the second {after}: calling it again must "
        "not add (or remove) handlers"
    )


# -- task 5: logger.exception for 10 / 0 ------------------------------------------------------------------------


@pytest.mark.task(5)
def test_divide_ten_by_zero_logs_the_traceback(student, rng):
    a = rng.choice([rng.randint(1, 99), -rng.randint(1, 99), round(rng.uniform(0.5, 50), 2)])
    seen = student.run(probes.divide_and_log, f"calc.{secrets.token_hex(3)}", [a, 0])
    ok, zero = seen["calls"]
    expected = 10 / a
    assert ok["returned"] == expected, f"divide_ten_by({a}) should return {expected}; it returned {ok['returned']!r}"
    info = [record for record in ok["records"] if record["message"] == str(expected)]
    assert info and info[0]["level"] == "INFO", (
        f"divide_ten_by({a}) should log {expected} at INFO, as the outline's logger.info(num); it logged "
        f"{[(r['level'], r['message']) for r in ok['records']]}"
    )
    assert zero["returned"] is None, f"divide_ten_by(0) should return None; it returned {zero['returned']!r}"
    records = zero["records"]
    assert records, (
        "divide_ten_by(0) logged nothing through the logger it was given"
        + (": the traceback went to stderr instead (traceback.print_exc?)" if "Traceback" in seen["stderr"] else "")
    )
    with_traceback = [
        r for r in records if "Traceback (most recent call last)" in r["text"] and "ZeroDivisionError" in r["text"]
    ]
    if not with_traceback:
        shown = "; ".join(f"{r['level']} {r['message']!r}" for r in records)
        pytest.fail(
            f"divide_ten_by(0) logged {shown}, with no traceback: the log says what went wrong but not where. "
            "Inside the except block, logger.exception(...) logs at ERROR and adds the traceback "
            "(10 / a, ZeroDivisionError: division by zero)."
            + (" Your traceback went to stderr instead of the log." if "Traceback" in seen["stderr"] else ""),
            pytrace=False,
        )
    record = with_traceback[0]
    assert record["level"] == "ERROR", (
        f"the traceback was logged at {record['level']}; an exception you handle belongs at ERROR, "
        "which logger.exception(...) uses"
    )
