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

from graders.harness.core.curriculum import say
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
    assert path.exists(), say(f"no log file was written at the path setup_logger was given ({path.name})",
                              f"传给 setup_logger 的路径上没有写出日志文件（{path.name}）")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        pytest.fail(say(f"the log file {path.name} is not UTF-8 ({error}): open it with encoding='utf-8'",
                        f"日志文件 {path.name} 不是 UTF-8 编码（{error}）：用 encoding='utf-8' 打开它"), pytrace=False)


def levels_in(text: str, messages: list[tuple[str, str]]) -> list[str]:
    return [level for level, message in messages if message in text]


def inherited_console(seen: dict) -> dict | None:
    """A console handler of a parent logger (the root's, from logging.basicConfig) that the records reach."""
    return next(
        (h for h in seen["handlers"] if h["owner"] != seen["name"] and h["stream"] in ("stderr", "stdout")), None
    )


def root_handler_note(handler: dict) -> str:
    root = handler["owner"] == "root"
    where = "the root logger" if root else f"the logger {handler['owner']!r}"
    where_zh = "root logger" if root else f"logger {handler['owner']!r}"
    return say(
        f"{where} has a console handler too (logging.basicConfig adds one), at level {handler['level']}, and "
        "your logger's records propagate to it. Leave basicConfig out of setup_logger: the logger's own "
        "handlers are all it needs (or set logger.propagate = False)",
        f"{where_zh} 也有一个控制台 handler（logging.basicConfig 会添加一个），级别是 {handler['level']}，"
        "你的 logger 的日志会传播（propagate）给它。不要在 setup_logger 里调用 basicConfig：logger 自己的 "
        "handler 就够了（或者设置 logger.propagate = False）",
    )


# -- task 1: a named logger, a console handler at WARNING -------------------------------------------------------


@pytest.mark.task(1)
def test_console_shows_warning_and_above_on_stderr(student, rng):
    seen, (messages,), name, _ = set_up(student, rng)
    assert seen["name"] == name and seen["registered"], say(
        f"setup_logger({name!r}, ...) returned the logger {seen['name']!r}; return logging.getLogger(name), so "
        "every module that asks for that name gets the same logger",
        f"setup_logger({name!r}, ...) 返回的是 logger {seen['name']!r}；应当返回 logging.getLogger(name)，"
        "这样任何模块用这个名字拿到的都是同一个 logger",
    )
    on_stdout = levels_in(seen["stdout"], messages)
    assert not on_stdout, say(
        f"the {', '.join(on_stdout)} messages were written to stdout: a console handler should write to stderr, "
        "as logging.StreamHandler() with no argument does, so logs stay apart from the program's own output",
        f"{'、'.join(on_stdout)} 级别的消息写到了 stdout：控制台 handler 应当写到 stderr（不带参数的 "
        "logging.StreamHandler() 就是这样），让日志和程序自己的输出分开",
    )
    on_stderr = levels_in(seen["stderr"], messages)
    missing = [level for level in LEVELS if level in CONSOLE_LEVELS and level not in on_stderr]
    if missing:
        consoles = [h for h in seen["handlers"] if h["owner"] == name and h["stream"] == "stderr"]
        if seen["level"] not in ("NOTSET", "DEBUG", "INFO", "WARNING"):
            fix = say(
                f"the logger's own level is {seen['level']}: it drops lower records before any handler sees them. "
                "logger.setLevel(logging.DEBUG)",
                f"logger 自身的级别是 {seen['level']}：低于这个级别的日志在任何 handler 看到之前就被丢掉了。"
                "logger.setLevel(logging.DEBUG)",
            )
        elif consoles:
            fix = say(
                f"your console handler is at level {consoles[0]['level']}, which lets through only records at that "
                "level and above: sh.setLevel(logging.WARNING)",
                f"你的控制台 handler 的级别是 {consoles[0]['level']}，只放行这个级别及以上的日志："
                "sh.setLevel(logging.WARNING)",
            )
        else:
            fix = say("add a logging.StreamHandler() to the logger, at level WARNING",
                      "给 logger 添加一个级别为 WARNING 的 logging.StreamHandler()")
        stderr = seen["stderr"]
        pytest.fail(
            say(f"logger.{missing[0]}(...) did not reach the console (stderr); it showed {on_stderr or 'nothing'}: ",
                f"logger.{missing[0]}(...) 没有输出到控制台（stderr）；"
                + (f"控制台只显示了 {on_stderr}：" if on_stderr else "控制台什么也没显示："))
            + fix
            + (say(f". stderr held: {stderr[-300:]!r}", f"。stderr 中的内容：{stderr[-300:]!r}") if stderr else ""),
            pytrace=False,
        )
    too_low = [level for level in on_stderr if level not in CONSOLE_LEVELS]
    inherited = inherited_console(seen)
    if too_low and inherited and inherited["level"] not in ("WARNING", "ERROR", "CRITICAL"):
        pytest.fail(
            say(f"the console showed the {' and '.join(too_low)} messages too: only WARNING and above belong there. ",
                f"控制台也显示了 {' 和 '.join(too_low)} 级别的消息：只有 WARNING 及以上的消息才应该出现在那里。")
            + root_handler_note(inherited),
            pytrace=False,
        )
    assert not too_low, say(
        f"the console showed the {' and '.join(too_low)} messages too: only WARNING and above belong there. "
        "sh.setLevel(logging.WARNING) on the console handler",
        f"控制台也显示了 {' 和 '.join(too_low)} 级别的消息：只有 WARNING 及以上的消息才应该出现在那里。"
        "给控制台 handler 设置 sh.setLevel(logging.WARNING)",
    )


# -- task 2: a file handler at DEBUG, in UTF-8 ------------------------------------------------------------------


@pytest.mark.task(2)
def test_log_file_gets_every_level_in_utf8(student, rng):
    seen, (messages,), _, path = set_up(student, rng)
    files = [handler for handler in seen["handlers"] if handler["file"]]
    wrong = [handler["encoding"] for handler in files if str(handler["encoding"]).lower().replace("_", "-") not in
             ("utf-8", "utf8")]
    assert not wrong, say(
        f"the FileHandler was made with encoding={wrong[0]!r}: without encoding='utf-8' it writes in the "
        "computer's default encoding, GBK on a Chinese Windows, where the emoji in these messages cannot be "
        "written. logging.FileHandler(path, encoding='utf-8')",
        f"FileHandler 创建时用的是 encoding={wrong[0]!r}：不指定 encoding='utf-8' 时，它用电脑的默认编码写文件，"
        "在中文版 Windows 上是 GBK，写不了这些消息里的 emoji。logging.FileHandler(path, encoding='utf-8')",
    )
    content = read_log(path)
    in_file = levels_in(content, messages)
    missing = [level for level in LEVELS if level not in in_file]
    if missing and set(missing) <= {"debug", "info"} and seen["level"] != "DEBUG":
        pytest.fail(
            say(
                f"the file has no {' and '.join(level.upper() for level in missing)} lines, and the logger's own "
                f"level is {seen['level']}: "
                "a logger drops records below its level before any handler sees them (NOTSET means it takes the "
                "root logger's WARNING). logger.setLevel(logging.DEBUG)",
                f"文件里没有 {' 和 '.join(level.upper() for level in missing)} 级别的行，而 logger 自身的级别是 "
                f"{seen['level']}：logger 会在任何 handler 看到之前，先丢掉低于自身级别的日志（NOTSET 表示沿用 "
                "root logger 的 WARNING）。logger.setLevel(logging.DEBUG)",
            ),
            pytrace=False,
        )
    assert not missing, (
        say(
            f"the log file lacks the {', '.join(missing)} messages; everything from DEBUG up belongs in the file: "
            "fh.setLevel(logging.DEBUG) on the FileHandler, and the logger at DEBUG. The file holds:\n",
            f"日志文件里缺少 {'、'.join(missing)} 级别的消息；从 DEBUG 开始的所有日志都应该写进文件：给 FileHandler "
            "设置 fh.setLevel(logging.DEBUG)，logger 也设为 DEBUG。文件的内容是：\n",
        )
        + content[-400:]
    )


# -- task 3: the outline's format on both handlers --------------------------------------------------------------


ON_CONSOLE = ("on the console", "控制台上")
IN_FILE = ("in the log file", "日志文件里")


def check_lines(text: str, where: tuple[str, str], messages: list[tuple[str, str]]) -> int:
    """Every line of `text` that carries one of the messages has the outline's format with the right level.

    `where` is the place in English and in Chinese (ON_CONSOLE, IN_FILE)."""
    where, where_zh = where
    checked = 0
    for line in text.splitlines():
        level = next((lvl for lvl, message in messages if message in line), None)
        if level is None:
            continue
        match = LINE.fullmatch(line)
        assert match, say(
            f"this line {where} is not in the outline's format: {line!r}; expected e.g. {EXAMPLE!r}. Create one "
            "logging.Formatter(FORMAT) and setFormatter it on each handler",
            f"{where_zh}的这一行不是大纲里的格式：{line!r}；应当类似 {EXAMPLE!r}。创建一个 "
            "logging.Formatter(FORMAT)，并用 setFormatter 把它设置到每个 handler 上",
        )
        assert match[2] == level.upper(), say(
            f"this line {where} shows level {match[2]} for a logger.{level}(): {line!r}",
            f"{where_zh}的这一行把 logger.{level}() 的级别显示成了 {match[2]}：{line!r}",
        )
        assert match[3] == dict(messages)[level], say(
            f"this line {where} changes the message: {line!r}", f"{where_zh}的这一行改动了消息内容：{line!r}"
        )
        checked += 1
    return checked


@pytest.mark.task(3)
def test_console_and_file_lines_use_the_outline_format(student, rng):
    seen, (messages,), _, path = set_up(student, rng)
    inherited = inherited_console(seen)
    if inherited and inherited["format"] != FORMAT:
        pytest.fail(
            say("some console lines are not in the outline's format: they come from a handler that is not your "
                "logger's. ",
                "控制台上有些行不是大纲里的格式：它们来自一个不属于你的 logger 的 handler。")
            + root_handler_note(inherited),
            pytrace=False,
        )
    on_console = check_lines(seen["stderr"] + seen["stdout"], ON_CONSOLE, messages)
    in_file = check_lines(read_log(path), IN_FILE, messages)
    assert on_console and in_file, say(
        f"found {on_console} log lines on the console and {in_file} in the file; both handlers are needed to "
        "check their format",
        f"控制台上找到 {on_console} 行日志，文件里找到 {in_file} 行；两个 handler 都要有，才能检查它们的格式",
    )


# -- task 4: a second set-up adds no handlers -------------------------------------------------------------------


@pytest.mark.task(4)
def test_setting_up_twice_does_not_duplicate_lines(student, rng):
    seen, (first, second), name, path = set_up(student, rng, setups=2)
    content = read_log(path)
    before, after = seen["handler_counts"]
    for (where, where_zh), text in ((ON_CONSOLE, seen["stderr"] + seen["stdout"]), (IN_FILE, content)):
        for (level, once), (_, again) in zip(first, second, strict=True):
            expected, count = text.count(once), text.count(again)
            assert count <= expected, say(
                f"after a second setup_logger({name!r}, ...), logger.{level}(...) appeared {count} times "
                f"{where} instead of {expected}: getLogger(name) returns the same logger every time, so the second "
                "call added its handlers again. Add them only when the logger has none yet "
                "(if logger.handlers: return logger)",
                f"第二次调用 setup_logger({name!r}, ...) 之后，logger.{level}(...) 在{where_zh}出现了 {count} 次，"
                f"而不是 {expected} 次：getLogger(name) 每次返回的都是同一个 logger，所以第二次调用又把它的 handler "
                "添加了一遍。只在 logger 还没有 handler 时才添加（if logger.handlers: return logger）",
            )
            assert count == expected, say(
                f"after a second setup_logger({name!r}, ...), logger.{level}(...) appeared {count} times {where}, "
                f"where it appeared {expected} times after the first: the second call should leave the logger as "
                "the first call made it",
                f"第二次调用 setup_logger({name!r}, ...) 之后，logger.{level}(...) 在{where_zh}出现了 {count} 次，"
                f"而第一次调用之后是 {expected} 次：第二次调用应当让 logger 保持第一次调用配置好的样子",
            )
    assert after == before, say(
        f"the first setup_logger left {before} handlers on the logger, the second {after}: calling it again must "
        "not add (or remove) handlers",
        f"第一次调用 setup_logger 后 logger 上有 {before} 个 handler，第二次调用后有 {after} 个：再次调用不能添加"
        "（也不能移除）handler",
    )


# -- task 5: logger.exception for 10 / 0 ------------------------------------------------------------------------


@pytest.mark.task(5)
def test_divide_ten_by_zero_logs_the_traceback(student, rng):
    a = rng.choice([rng.randint(1, 99), -rng.randint(1, 99), round(rng.uniform(0.5, 50), 2)])
    seen = student.run(probes.divide_and_log, f"calc.{secrets.token_hex(3)}", [a, 0])
    ok, zero = seen["calls"]
    expected = 10 / a
    assert ok["returned"] == expected, say(
        f"divide_ten_by({a}) should return {expected}; it returned {ok['returned']!r}",
        f"divide_ten_by({a}) 应当返回 {expected}；它返回的是 {ok['returned']!r}",
    )
    info = [record for record in ok["records"] if record["message"] == str(expected)]
    logged = [(r["level"], r["message"]) for r in ok["records"]]
    assert info and info[0]["level"] == "INFO", say(
        f"divide_ten_by({a}) should log {expected} at INFO, as the outline's logger.info(num); it logged "
        f"{logged}",
        f"divide_ten_by({a}) 应当像大纲里的 logger.info(num) 那样，以 INFO 级别记录 {expected}；它记录的是 {logged}",
    )
    assert zero["returned"] is None, say(
        f"divide_ten_by(0) should return None; it returned {zero['returned']!r}",
        f"divide_ten_by(0) 应当返回 None；它返回的是 {zero['returned']!r}",
    )
    records = zero["records"]
    printed = "Traceback" in seen["stderr"]  # a traceback printed to stderr instead of logged
    assert records, (
        say("divide_ten_by(0) logged nothing through the logger it was given",
            "divide_ten_by(0) 没有通过传给它的 logger 记录任何内容")
        + (say(": the traceback went to stderr instead (traceback.print_exc?)",
               "：traceback 反而输出到了 stderr（是不是用了 traceback.print_exc？）")
           if printed else "")
    )
    with_traceback = [
        r for r in records if "Traceback (most recent call last)" in r["text"] and "ZeroDivisionError" in r["text"]
    ]
    if not with_traceback:
        shown = "; ".join(f"{r['level']} {r['message']!r}" for r in records)
        pytest.fail(
            say(
                f"divide_ten_by(0) logged {shown}, with no traceback: the log says what went wrong but not where. "
                "Inside the except block, logger.exception(...) logs at ERROR and adds the traceback "
                "(10 / a, ZeroDivisionError: division by zero).",
                f"divide_ten_by(0) 记录了 {shown}，但没有 traceback：日志说明了出了什么错，却没说错在哪里。"
                "在 except 块里用 logger.exception(...)：它以 ERROR 级别记录，并附上 traceback"
                "（10 / a, ZeroDivisionError: division by zero）。",
            )
            + (say(" Your traceback went to stderr instead of the log.",
                   "你的 traceback 输出到了 stderr，而不是日志里。")
               if printed else ""),
            pytrace=False,
        )
    record = with_traceback[0]
    assert record["level"] == "ERROR", say(
        f"the traceback was logged at {record['level']}; an exception you handle belongs at ERROR, "
        "which logger.exception(...) uses",
        f"traceback 是以 {record['level']} 级别记录的；你处理了的异常应当记录为 ERROR，logger.exception(...) "
        "用的就是这个级别",
    )
