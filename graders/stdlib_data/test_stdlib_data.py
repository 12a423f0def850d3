"""Grades exercises/stdlib_data: json text and files, base64, md5 of text and of big files, password hashes.

Every input is made for this run (Chinese, emoji, random numbers, a file of several megabytes), so only code
that really calls json, base64 and hashlib gets the answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets

import pytest

from graders.harness.core.curriculum import say
from graders.stdlib_data import probes

CHINESE = "张王李赵刘陈杨黄周吴中文数据时间日志北京上海广州深圳学生老师课程密码你好世界"
EMOJI = "😀🎉🐍🔥🚀🌏🍜💡"


def mixed_text(rng: random.Random, length: int = 12) -> str:
    """Chinese, emoji and ASCII, always at least one of the first two."""
    pool = CHINESE + EMOJI + "abcdefxyzABC019 -_."
    text = "".join(rng.choice(pool) for _ in range(length))
    return rng.choice(CHINESE) + text + rng.choice(EMOJI)


def outline_dict(rng: random.Random) -> dict:
    """The outline's json.dumps example with this run's values: a tuple, a bool and None among them."""
    return {
        "name": mixed_text(rng, 6),
        "age": rng.randint(7, 99),
        "list": [rng.randint(-50, 50) for _ in range(rng.randint(2, 5))],
        "tuple": tuple(rng.randint(0, 999) for _ in range(3)),
        "bool": rng.choice([True, False]),
        "None": None,
        "city": rng.choice(["北京", "上海", "深圳"]) + " " + rng.choice(EMOJI),
    }


def as_json_data(obj: dict) -> dict:
    """What json turns `obj` into: tuples become lists."""
    return json.loads(json.dumps(obj))


@pytest.fixture
def rng() -> random.Random:
    return random.Random(secrets.randbits(64))


# -- task 1: dumps and loads -----------------------------------------------------------------------------------


@pytest.mark.task(1)
def test_to_json_keeps_chinese_readable_and_from_json_reads_it_back(student, rng):
    obj = outline_dict(rng)
    other = {"课程": mixed_text(rng), "scores": [rng.randint(0, 100) for _ in range(3)], "ok": False, "x": None}
    seen = student.run(probes.json_round_trip, obj, json.dumps(other, ensure_ascii=False))
    dumped = seen["dumped"]
    assert isinstance(dumped, str), say(
        f"to_json should return the JSON text as a str; it returned {type(dumped).__name__}",
        f"to_json 应当以 str 返回 JSON 文本；它返回的是 {type(dumped).__name__}",
    )
    try:
        data = json.loads(dumped)
    except ValueError as error:
        looks_like_repr = "'" in dumped or "None" in dumped or "True" in dumped or "False" in dumped
        pytest.fail(
            say(f"to_json returned text that is not JSON ({error}): {dumped[:120]!r}",
                f"to_json 返回的文本不是 JSON（{error}）：{dumped[:120]!r}")
            + (say("; str(obj) writes Python's repr (quotes ', True, None), JSON needs \", true, null: use json.dumps",
                   "；str(obj) 写出的是 Python 的 repr（引号 '、True、None），JSON 要求的是 \"、true、null："
                   "请用 json.dumps")
               if looks_like_repr else ""),
            pytrace=False,
        )
    assert data == as_json_data(obj), say(
        f"json.loads(to_json(obj)) should give back {as_json_data(obj)} (the tuple becomes a list); got {data}",
        f"json.loads(to_json(obj)) 应当还原出 {as_json_data(obj)}（元组变成列表）；得到的是 {data}",
    )
    assert obj["name"] in dumped, say(
        f"to_json wrote the name {obj['name']!r} as {json.dumps(obj['name'])}: by default json.dumps escapes every "
        "non-ASCII character as \\uXXXX; pass ensure_ascii=False so Chinese and emoji stay readable",
        f"to_json 把名字 {obj['name']!r} 写成了 {json.dumps(obj['name'])}：json.dumps 默认会把所有非 ASCII 字符"
        "转义成 \\uXXXX；传入 ensure_ascii=False，让中文和 emoji 保持可读",
    )
    assert seen["loaded"] == other, say(
        f"from_json({json.dumps(other, ensure_ascii=False)!r}) should return {other}; got {seen['loaded']!r}",
        f"from_json({json.dumps(other, ensure_ascii=False)!r}) 应当返回 {other}；得到的是 {seen['loaded']!r}",
    )


# -- task 2: dump and load with a file ---------------------------------------------------------------------------


def encoding_problem(function: str, opened: dict) -> str | None:
    """What is wrong with how `function` opened its file, or None: text files need UTF-8, written without a BOM."""
    mode, encoding, codec = opened["mode"], opened["encoding"], opened["codec"]
    if "b" in mode:
        return None
    call = f"open(..., {mode!r}" + ("" if encoding is None else f", encoding={encoding!r}") + ")"
    if codec == "utf-8" or (codec == "utf-8-sig" and function == "load_json"):
        return None  # utf-8-sig reads UTF-8 with or without a BOM
    if codec == "utf-8-sig":
        return say(
            f"{function} opened the file with {call}: utf-8-sig writes a byte order mark (EF BB BF) before the "
            "JSON, and JSON text must not start with one (RFC 8259): json.load with encoding='utf-8' fails on "
            "it. Write with encoding='utf-8'",
            f"{function} 用 {call} 打开了文件：utf-8-sig 会在 JSON 前面写入字节顺序标记（BOM，EF BB BF），"
            "而 JSON 文本不能以它开头（RFC 8259）：用 encoding='utf-8' 的 json.load 读这个文件会失败。"
            "写文件时用 encoding='utf-8'",
        )
    if encoding is None or encoding == "locale":
        return say(
            f"{function} opened the file with {call}: without encoding='utf-8' open() uses the computer's default "
            "encoding, which is GBK (cp936) on a Chinese Windows: the file would not be UTF-8, and the emoji in "
            "this data cannot be written in GBK at all. Pass encoding='utf-8'",
            f"{function} 用 {call} 打开了文件：不指定 encoding='utf-8' 时，open() 使用电脑的默认编码，在中文版 "
            "Windows 上是 GBK（cp936）：文件就不是 UTF-8 了，而且这些数据里的 emoji 根本没法用 GBK 写出来。"
            "请传入 encoding='utf-8'",
        )
    return say(
        f"{function} opened the file with {call}: that is not UTF-8, so Chinese and emoji are not stored as "
        "UTF-8 (some cannot be stored at all). Pass encoding='utf-8'",
        f"{function} 用 {call} 打开了文件：这不是 UTF-8，所以中文和 emoji 不会以 UTF-8 保存（有些根本存不下）。"
        "请传入 encoding='utf-8'",
    )


@pytest.mark.task(2)
def test_save_json_and_load_json_use_utf8_files(student, rng):
    obj = outline_dict(rng)
    saved = student.workdir / f"saved-{rng.randint(1000, 9999)}.json"
    given = {"姓名": mixed_text(rng), "年龄": rng.randint(10, 60), "爱好": [mixed_text(rng, 4), None, True]}
    to_load = student.workdir / f"given-{rng.randint(1000, 9999)}.json"
    to_load.write_text(json.dumps(given, ensure_ascii=False, indent=2), encoding="utf-8")

    seen = student.run(probes.json_files, obj, str(saved), str(to_load))

    for function, opens in (("save_json", seen["save_opens"]), ("load_json", seen["load_opens"])):
        problem = next(filter(None, (encoding_problem(function, opened) for opened in opens)), None)
        assert problem is None, problem
    assert saved.exists(), say(f"save_json(obj, {saved.name!r}) did not create the file {saved.name}",
                               f"save_json(obj, {saved.name!r}) 没有创建文件 {saved.name}")
    raw = saved.read_bytes()
    try:
        content = raw.decode("utf-8")
        data = json.loads(content)
    except ValueError as error:
        pytest.fail(say(f"{saved.name} should hold the JSON of obj in UTF-8; reading it failed: {error}",
                        f"{saved.name} 应当以 UTF-8 保存 obj 的 JSON；读取它时出错：{error}"), pytrace=False)
    assert data == as_json_data(obj), say(f"{saved.name} should hold {as_json_data(obj)}; it holds {data}",
                                          f"{saved.name} 应当保存 {as_json_data(obj)}；它保存的是 {data}")
    assert obj["name"] in content, say(
        f"in {saved.name} the name {obj['name']!r} is written as \\u escapes: pass ensure_ascii=False to json.dump "
        "so that a person opening the file can read the Chinese",
        f"{saved.name} 里的名字 {obj['name']!r} 被写成了 \\u 转义：给 json.dump 传入 ensure_ascii=False，"
        "让打开文件的人能读懂中文",
    )
    assert seen["loaded"] == given, say(
        f"load_json should return {given} from {to_load.name}; got {seen['loaded']!r}",
        f"load_json 应当从 {to_load.name} 读出 {given}；得到的是 {seen['loaded']!r}",
    )


# -- task 3: base64 --------------------------------------------------------------------------------------------


@pytest.mark.task(3)
def test_base64_and_urlsafe_base64_round_trip_utf8_text(student, rng):
    text = mixed_text(rng)
    while not {"+", "/"} & set(base64.b64encode(text.encode("utf-8")).decode()):
        text = mixed_text(rng)  # the text must need "+" or "/" so that the URL-safe alphabet shows
    standard = base64.b64encode(text.encode("utf-8")).decode("ascii")
    urlsafe = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
    seen = student.run(probes.base64_calls, text, standard, urlsafe)

    for name, expected in (("to_base64", standard), ("to_urlsafe_base64", urlsafe)):
        got = seen[name]
        assert not isinstance(got, bytes), say(
            f"{name}({text!r}) returned bytes {got!r}; base64.b64encode gives bytes, return them as str with "
            ".decode('ascii')",
            f"{name}({text!r}) 返回的是 bytes {got!r}；base64.b64encode 得到的是 bytes，要用 .decode('ascii') "
            "把它变成 str 再返回",
        )
        if name == "to_urlsafe_base64" and got == standard:
            pytest.fail(
                say(
                    f"to_urlsafe_base64({text!r}) returned {got!r}, which has '+' or '/': those mean something in a "
                    "URL; base64.urlsafe_b64encode uses '-' and '_' instead",
                    f"to_urlsafe_base64({text!r}) 返回了 {got!r}，其中有 '+' 或 '/'：它们在 URL 中有特殊含义；"
                    "base64.urlsafe_b64encode 用 '-' 和 '_' 来代替它们",
                ),
                pytrace=False,
            )
        assert got == expected, say(f"{name}({text!r}) should be {expected!r}; got {got!r}",
                                    f"{name}({text!r}) 应当是 {expected!r}；得到的是 {got!r}")
    for name, given in (("from_base64", standard), ("from_urlsafe_base64", urlsafe)):
        got = seen[name]
        assert not isinstance(got, bytes), say(
            f"{name}({given!r}) returned bytes {got!r}; turn them back into text with .decode('utf-8')",
            f"{name}({given!r}) 返回的是 bytes {got!r}；要用 .decode('utf-8') 把它变回文本",
        )
        assert got == text, say(f"{name}({given!r}) should give back {text!r}; got {got!r}",
                                f"{name}({given!r}) 应当还原出 {text!r}；得到的是 {got!r}")


# -- task 4: md5 of text ---------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_md5_hex_is_the_hexdigest_of_the_utf8_bytes(student, rng):
    texts = ["abc", mixed_text(rng), mixed_text(rng, 30)]
    got = student.run(probes.md5_of_texts, texts)
    for text, result in zip(texts, got, strict=True):
        expected = hashlib.md5(text.encode("utf-8")).hexdigest()
        if isinstance(result, bytes):
            pytest.fail(
                say(
                    f"md5_hex({text!r}) returned bytes {result[:8]!r}...: that is digest(), the raw 16 bytes; "
                    "hexdigest() gives the 32 hexadecimal characters",
                    f"md5_hex({text!r}) 返回的是 bytes {result[:8]!r}...：那是 digest() 的结果，16 个原始字节；"
                    "hexdigest() 才给出 32 个十六进制字符",
                ),
                pytrace=False,
            )
        assert result == expected, say(
            f"md5_hex({text!r}) should be {expected} (md5 of its UTF-8 bytes); got {result!r}",
            f"md5_hex({text!r}) 应当是 {expected}（文本 UTF-8 字节的 md5）；得到的是 {result!r}",
        )


# -- task 5: a big file in chunks ------------------------------------------------------------------------------


def _peak_memory(pid: int) -> int | None:
    """The most memory (resident, in bytes) the process has held since its peak was last reset; None where
    the system does not say (no /proc: macOS, Windows), and then memory is not judged."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_memory(pid: int) -> None:
    """Start the peak of `_peak_memory` afresh ("5" to clear_refs, Linux 4.0+). Where that is not allowed, the
    peak only grows from here, which is as good for a fresh worker that has done nothing big yet."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


@pytest.mark.task(5)
def test_file_md5_reads_a_big_file_in_chunks(student, rng):
    chunk_size = rng.choice([4096, 8192, 65536, 100_000])
    size = rng.randint(12_000_000, 16_000_000) | 1  # odd: the last chunk is a short one
    path = student.workdir / f"big-{rng.randint(1000, 9999)}.bin"
    # Binary data with no newline at all: reading it "by lines" (for line in f, readline) reads it whole too.
    data = os.urandom(size).replace(b"\n", b"\x00")
    path.write_bytes(data)
    expected = hashlib.md5(data).hexdigest()
    del data

    student.run(probes.import_hashing)
    # Measured from outside the worker: the student's code cannot change what the kernel says it holds.
    _reset_peak_memory(student.pid)
    before = _peak_memory(student.pid)
    result = student.run(probes.md5_of_file, str(path), chunk_size)
    after = _peak_memory(student.pid)
    grown = 0 if before is None or after is None else after - before
    assert result == expected, say(
        f"file_md5 of a {size / 1e6:.1f} MB file gave {result!r}, but the md5 of the whole file is {expected}: "
        "create one md5 object before the loop and update() it with every chunk, the last short one too",
        f"对一个 {size / 1e6:.1f} MB 的文件，file_md5 得到 {result!r}，但整个文件的 md5 是 {expected}："
        "在循环之前创建一个 md5 对象，并用 update() 把每一块都交给它，包括最后较短的那一块",
    )
    assert grown < size / 3, say(
        f"while file_md5 hashed a {size / 1e6:.1f} MB file, the memory it held grew by {grown / 1e6:.1f} MB: it "
        "read the whole file at once (f.read() does; so do `for line in f` and readline() on a file like this "
        f"one, with no newline in it). Read it with f.read(chunk_size), {chunk_size} bytes at a time, so a "
        "10 GB file would work too",
        f"file_md5 计算一个 {size / 1e6:.1f} MB 文件的哈希时，占用的内存增长了 {grown / 1e6:.1f} MB：它一次读入了"
        "整个文件（f.read() 就是这样；对这种没有换行符的文件，`for line in f` 和 readline() 也是这样）。"
        f"用 f.read(chunk_size) 每次读 {chunk_size} 个字节，这样 10 GB 的文件也能处理",
    )


# -- tasks 6 and 7: passwords ----------------------------------------------------------------------------------


def pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def fast_hashes(password: str, salt: bytes) -> set[str]:
    """The quick hashes that look salted but are not slow: md5 and sha256 of salt and password, either order."""
    secret = password.encode("utf-8")
    found = set()
    for name in ("md5", "sha1", "sha256"):
        for blob in (salt + secret, secret + salt, salt.hex().encode() + secret, secret + salt.hex().encode()):
            found.add(hashlib.new(name, blob).hexdigest())
    return found


@pytest.mark.task(6)
def test_hash_password_stores_a_random_salt_and_a_pbkdf2_hash(student, rng):
    password = mixed_text(rng, 8)
    iterations = rng.randint(1000, 3000)
    seen = student.run(probes.hash_passwords, password, iterations)
    first = seen["first"]
    assert isinstance(first, str), say(f"hash_password should return a str to store; it returned {first!r}",
                                       f"hash_password 应当返回一个用来保存的 str；它返回的是 {first!r}")
    secret = password.encode("utf-8")
    if first in (hashlib.md5(secret).hexdigest(), hashlib.sha256(secret).hexdigest()):
        kind = "md5" if len(first) == 32 else "sha256"
        pytest.fail(
            say(
                f"hash_password returned plain {kind}(password).hexdigest(). Plain {kind} is not safe for passwords: "
                "with no salt, everyone with the same password gets the same hash, and tables of precomputed hashes "
                "give back common passwords at once; and it is fast, so a GPU tries billions of guesses a second. "
                "Use a random salt and hashlib.pbkdf2_hmac with many iterations",
                f"hash_password 返回的是简单的 {kind}(password).hexdigest()。简单的 {kind} 不能用来保存密码："
                "没有盐，密码相同的人得到的哈希也相同，用预先算好的哈希表能立刻反查出常见密码；而且它很快，"
                "一块显卡每秒就能尝试几十亿次猜测。请使用随机的盐和迭代次数很多的 hashlib.pbkdf2_hmac",
            ),
            pytrace=False,
        )
    parts = first.split("$")
    assert len(parts) == 4 and parts[0] == "pbkdf2_sha256", say(
        f"hash_password({password!r}, {iterations}) returned {first!r}; the stored form is "
        "'pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>'",
        f"hash_password({password!r}, {iterations}) 返回了 {first!r}；保存的格式是 "
        "'pbkdf2_sha256$<迭代次数>$<盐的十六进制>$<哈希的十六进制>'",
    )
    _, stored_iterations, salt_hex, hash_hex = parts
    assert stored_iterations == str(iterations), say(
        f"hash_password(..., iterations={iterations}) stored {stored_iterations!r} as the iterations: store and "
        "use the number it was given",
        f"hash_password(..., iterations={iterations}) 保存的迭代次数是 {stored_iterations!r}："
        "要保存并使用传给它的那个数",
    )
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        pytest.fail(say(f"the salt part {salt_hex!r} is not hexadecimal: store salt.hex()",
                        f"盐的部分 {salt_hex!r} 不是十六进制：请保存 salt.hex()"), pytrace=False)
    assert len(salt) >= 16, say(f"the salt is {len(salt)} bytes; use 16 random bytes: secrets.token_bytes(16)",
                                f"盐只有 {len(salt)} 个字节；请使用 16 个随机字节：secrets.token_bytes(16)")
    assert seen["second"] != first and seen["second"].split("$")[2:3] != [salt_hex], say(
        f"the same password hashed twice gave the same salt {salt_hex}: a fixed salt lets an attacker attack all "
        "users at once, and equal passwords still get equal hashes. Make a new random salt for every call",
        f"同一个密码哈希两次，得到了同样的盐 {salt_hex}：固定的盐让攻击者可以同时攻击所有用户，而且相同的密码"
        "仍然得到相同的哈希。每次调用都要生成新的随机盐",
    )
    if hash_hex in fast_hashes(password, salt):
        pytest.fail(
            say(
                "the hash part is a plain md5/sha of salt and password: salted, but fast, so guessing is cheap. "
                "Use hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)",
                "哈希部分只是盐和密码的简单 md5/sha：加了盐，但很快，所以猜测的代价很低。"
                "请使用 hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)",
            ),
            pytrace=False,
        )
    expected = pbkdf2(password, salt, iterations).hex()
    assert hash_hex == expected, say(
        f"with salt {salt_hex} and {iterations} iterations the hash part should be "
        f"pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations).hex() = {expected}; got {hash_hex}",
        f"盐为 {salt_hex}、迭代 {iterations} 次时，哈希部分应当是 "
        f"pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations).hex() = {expected}；得到的是 {hash_hex}",
    )
    default = seen["default"] if isinstance(seen["default"], str) else ""
    default_iterations = default.split("$")[1] if default.count("$") == 3 else "?"
    assert default_iterations.isdigit() and int(default_iterations) >= 100_000, say(
        f"hash_password(password) without iterations stored {default_iterations!r} iterations; its default "
        "must be ITERATIONS (at least 100000): fewer makes each guess cheap",
        f"不传 iterations 时，hash_password(password) 保存的迭代次数是 {default_iterations!r}；默认值必须是 "
        "ITERATIONS（至少 100000）：次数越少，每次猜测的代价就越低",
    )


def verify_attempts(
    password: str, iterations: int, salt: bytes, rng: random.Random
) -> list[tuple[str, str, bool, tuple[str, str]]]:
    """(attempt, stored, the verdict expected, what it is) for the right password, wrong ones and a tampered hash;
    what it is in English and in Chinese."""
    stored = f"pbkdf2_sha256${iterations}${salt.hex()}${pbkdf2(password, salt, iterations).hex()}"
    tampered = stored[:-1] + ("0" if stored[-1] != "0" else "1")
    wrong = password[:-1] + rng.choice("xyz中")
    return [
        (password, stored, True, ("the right password", "正确的密码")),
        (wrong, stored, False, (f"a wrong password ({wrong!r})", f"错误的密码（{wrong!r}）")),
        (password, tampered, False, ("the right password against a stored hash whose last digit was changed",
                                     "正确的密码，但保存的哈希的最后一位被改过")),
        ("", stored, False, ("an empty password", "空密码")),
    ]


@pytest.mark.task(7)
def test_verify_password_accepts_only_the_right_password_with_compare_digest(student, rng):
    password = mixed_text(rng, 8)
    iterations = rng.randint(1000, 3000)
    attempts = verify_attempts(password, iterations, secrets.token_bytes(16), rng)
    # The same calls again while compare_digest answers "equal" for the wrong ones and "different" for the right
    # one: a verdict that follows those answers is decided by compare_digest, whatever it was given to compare.
    forced = [(attempt, stored, not expected) for attempt, stored, expected, _ in attempts[:3]]
    seen = student.run(probes.verify_passwords, [(p, s) for p, s, _, _ in attempts], forced)
    for (attempt, stored, expected, (what, what_zh)), result in zip(attempts, seen["plain"], strict=True):
        verdict = result["verdict"]
        assert isinstance(verdict, bool), say(
            f"verify_password should return True or False; for {what} it returned {verdict}",
            f"verify_password 应当返回 True 或 False；对于{what_zh}，它返回了 {verdict}",
        )
        if expected and verdict is False:
            pytest.fail(
                say(
                    f"verify_password({attempt!r}, {stored!r}) returned False for the right password: hash the "
                    f"attempt with the salt and the iterations ({iterations}) written in the stored string, not new "
                    "ones",
                    f"verify_password({attempt!r}, {stored!r}) 对正确的密码返回了 False：要用保存的字符串里写着的盐和"
                    f"迭代次数（{iterations}）对输入的密码求哈希，而不是用新的",
                ),
                pytrace=False,
            )
        assert verdict is expected, say(f"verify_password returned {verdict} for {what}",
                                        f"对于{what_zh}，verify_password 返回了 {verdict}")
    if not any(result["compares"] for result in seen["plain"]):
        pytest.fail(
            say(
                "verify_password never called hmac.compare_digest: `==` stops at the first character that differs, "
                "so how long it takes tells an attacker how much of a guess was right; compare the two hashes with "
                "hmac.compare_digest, which takes the same time whatever the inputs",
                "verify_password 从来没有调用 hmac.compare_digest：`==` 遇到第一个不同的字符就停下，所用的时间会"
                "告诉攻击者他猜对了多少；请用 hmac.compare_digest 比较两个哈希，无论输入是什么，它花的时间都一样",
            ),
            pytrace=False,
        )
    for (_, _, expected, (what, what_zh)), verdict in zip(attempts[:3], seen["forced"], strict=True):
        assert verdict is (not expected), say(
            f"verify_password calls hmac.compare_digest, but its verdict does not rest on it: for {what}, while "
            f"compare_digest answered {not expected}, verify_password still returned {verdict}. The hashes "
            "themselves must be compared with hmac.compare_digest (its result is the answer), not with `==`",
            f"verify_password 调用了 hmac.compare_digest，但它的结果并不取决于 compare_digest：对于{what_zh}，"
            f"compare_digest 回答 {not expected} 时，verify_password 仍然返回了 {verdict}。必须用 "
            "hmac.compare_digest 比较两个哈希本身（它的结果就是答案），而不是用 `==`",
        )
