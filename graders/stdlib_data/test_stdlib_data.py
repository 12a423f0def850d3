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
    assert isinstance(dumped, str), f"to_json should return the JSON text as a str; it returned {type(dumped).__name__}"
    try:
        data = json.loads(dumped)
    except ValueError as error:
        looks_like_repr = "'" in dumped or "None" in dumped or "True" in dumped or "False" in dumped
        pytest.fail(
            f"to_json returned text that is not JSON ({error}): {dumped[:120]!r}"
            + ("; str(obj) writes Python's repr (quotes ', True, None), JSON needs \", true, null: use json.dumps"
               if looks_like_repr else ""),
            pytrace=False,
        )
    assert data == as_json_data(obj), (
        f"json.loads(to_json(obj)) should give back {as_json_data(obj)} (the tuple becomes a list); got {data}"
    )
    assert obj["name"] in dumped, (
        f"to_json wrote the name {obj['name']!r} as {json.dumps(obj['name'])}: by default json.dumps escapes every "
        "non-ASCII character as \\uXXXX; pass ensure_ascii=False so Chinese and emoji stay readable"
    )
    assert seen["loaded"] == other, (
        f"from_json({json.dumps(other, ensure_ascii=False)!r}) should return {other}; got {seen['loaded']!r}"
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
        return (
            f"{function} opened the file with {call}: utf-8-sig writes a byte order mark (EF BB BF) before the "
            "JSON, and JSON text must not start with one (RFC 8259): json.load with encoding='utf-8' fails on "
            "it. Write with encoding='utf-8'"
        )
    if encoding is None or encoding == "locale":
        return (
            f"{function} opened the file with {call}: without encoding='utf-8' open() uses the computer's default "
            "encoding, which is GBK (cp936) on a Chinese Windows: the file would not be UTF-8, and the emoji in "
            "this data cannot be written in GBK at all. Pass encoding='utf-8'"
        )
    return (
        f"{function} opened the file with {call}: that is not UTF-8, so Chinese and emoji are not stored as "
        "UTF-8 (some cannot be stored at all). Pass encoding='utf-8'"
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
    assert saved.exists(), f"save_json(obj, {saved.name!r}) did not create the file {saved.name}"
    raw = saved.read_bytes()
    try:
        content = raw.decode("utf-8")
        data = json.loads(content)
    except ValueError as error:
        pytest.fail(f"{saved.name} should hold the JSON of obj in UTF-8; reading it failed: {error}", pytrace=False)
    assert data == as_json_data(obj), f"{saved.name} should hold {as_json_data(obj)}; it holds {data}"
    assert obj["name"] in content, (
        f"in {saved.name} the name {obj['name']!r} is written as \\u escapes: pass ensure_ascii=False to json.dump "
        "so that a person opening the file can read the Chinese"
    )
    assert seen["loaded"] == given, f"load_json should return {given} from {to_load.name}; got {seen['loaded']!r}"


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
        assert not isinstance(got, bytes), (
            f"{name}({text!r}) returned bytes {got!r}; base64.b64encode gives bytes, return them as str with "
            ".decode('ascii')"
        )
        if name == "to_urlsafe_base64" and got == standard:
            pytest.fail(
                f"to_urlsafe_base64({text!r}) returned {got!r}, which has '+' or '/': those mean something in a "
                "URL; base64.urlsafe_b64encode uses '-' and '_' instead",
                pytrace=False,
            )
        assert got == expected, f"{name}({text!r}) should be {expected!r}; got {got!r}"
    for name, given in (("from_base64", standard), ("from_urlsafe_base64", urlsafe)):
        got = seen[name]
        assert not isinstance(got, bytes), (
            f"{name}({given!r}) returned bytes {got!r}; turn them back into text with .decode('utf-8')"
        )
        assert got == text, f"{name}({given!r}) should give back {text!r}; got {got!r}"


# -- task 4: md5 of text ---------------------------------------------------------------------------------------


@pytest.mark.task(4)
def test_md5_hex_is_the_hexdigest_of_the_utf8_bytes(student, rng):
    texts = ["abc", mixed_text(rng), mixed_text(rng, 30)]
    got = student.run(probes.md5_of_texts, texts)
    for text, result in zip(texts, got, strict=True):
        expected = hashlib.md5(text.encode("utf-8")).hexdigest()
        if isinstance(result, bytes):
            pytest.fail(
                f"md5_hex({text!r}) returned bytes {result[:8]!r}...: that is digest(), the raw 16 bytes; "
                "hexdigest() gives the 32 hexadecimal characters",
                pytrace=False,
            )
        assert result == expected, f"md5_hex({text!r}) should be {expected} (md5 of its UTF-8 bytes); got {result!r}"


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
    assert result == expected, (
        f"file_md5 of a {size / 1e6:.1f} MB file gave {result!r}, but the md5 of the whole file is {expected}: "
        "create one md5 object before the loop and update() it with every chunk, the last short one too"
    )
    assert grown < size / 3, (
        f"while file_md5 hashed a {size / 1e6:.1f} MB file, the memory it held grew by {grown / 1e6:.1f} MB: it "
        "read the whole file at once (f.read() does; so do `for line in f` and readline() on a file like this "
        f"one, with no newline in it). Read it with f.read(chunk_size), {chunk_size} bytes at a time, so a "
        "10 GB file would work too"
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
    assert isinstance(first, str), f"hash_password should return a str to store; it returned {first!r}"
    secret = password.encode("utf-8")
    if first in (hashlib.md5(secret).hexdigest(), hashlib.sha256(secret).hexdigest()):
        kind = "md5" if len(first) == 32 else "sha256"
        pytest.fail(
            f"hash_password returned plain {kind}(password).hexdigest(). Plain {kind} is not safe for passwords: "
            "with no salt, everyone with the same password gets the same hash, and tables of precomputed hashes "
            "give back common passwords at once; and it is fast, so a GPU tries billions of guesses a second. "
            "Use a random salt and hashlib.pbkdf2_hmac with many iterations",
            pytrace=False,
        )
    parts = first.split("$")
    assert len(parts) == 4 and parts[0] == "pbkdf2_sha256", (
        f"hash_password({password!r}, {iterations}) returned {first!r}; the stored form is "
        "'pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>'"
    )
    _, stored_iterations, salt_hex, hash_hex = parts
    assert stored_iterations == str(iterations), (
        f"hash_password(..., iterations={iterations}) stored {stored_iterations!r} as the iterations: store and "
        "use the number it was given"
    )
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        pytest.fail(f"the salt part {salt_hex!r} is not hexadecimal: store salt.hex()", pytrace=False)
    assert len(salt) >= 16, f"the salt is {len(salt)} bytes; use 16 random bytes: secrets.token_bytes(16)"
    assert seen["second"] != first and seen["second"].split("$")[2:3] != [salt_hex], (
        f"the same password hashed twice gave the same salt {salt_hex}: a fixed salt lets an attacker attack all "
        "users at once, and equal passwords still get equal hashes. Make a new random salt for every call"
    )
    if hash_hex in fast_hashes(password, salt):
        pytest.fail(
            "the hash part is a plain md5/sha of salt and password: salted, but fast, so guessing is cheap. "
            "Use hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)",
            pytrace=False,
        )
    expected = pbkdf2(password, salt, iterations).hex()
    assert hash_hex == expected, (
        f"with salt {salt_hex} and {iterations} iterations the hash part should be "
        f"pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations).hex() = {expected}; got {hash_hex}"
    )
    default = seen["default"] if isinstance(seen["default"], str) else ""
    default_iterations = default.split("$")[1] if default.count("$") == 3 else "?"
    assert default_iterations.isdigit() and int(default_iterations) >= 100_000, (
        f"hash_password(password) without iterations stored {default_iterations!r} iterations; its default "
        "must be ITERATIONS (at least 100000): fewer makes each guess cheap"
    )


def verify_attempts(
    password: str, iterations: int, salt: bytes, rng: random.Random
) -> list[tuple[str, str, bool, str]]:
    """(attempt, stored, the verdict expected, what it is) for the right password, wrong ones and a tampered hash."""
    stored = f"pbkdf2_sha256${iterations}${salt.hex()}${pbkdf2(password, salt, iterations).hex()}"
    tampered = stored[:-1] + ("0" if stored[-1] != "0" else "1")
    wrong = password[:-1] + rng.choice("xyz中")
    return [
        (password, stored, True, "the right password"),
        (wrong, stored, False, f"a wrong password ({wrong!r})"),
        (password, tampered, False, "the right password against a stored hash whose last digit was changed"),
        ("", stored, False, "an empty password"),
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
    for (attempt, stored, expected, what), result in zip(attempts, seen["plain"], strict=True):
        verdict = result["verdict"]
        assert isinstance(verdict, bool), (
            f"verify_password should return True or False; for {what} it returned {verdict}"
        )
        if expected and verdict is False:
            pytest.fail(
                f"verify_password({attempt!r}, {stored!r}) returned False for the right password: hash the attempt "
                f"with the salt and the iterations ({iterations}) written in the stored string, not new ones",
                pytrace=False,
            )
        assert verdict is expected, f"verify_password returned {verdict} for {what}"
    if not any(result["compares"] for result in seen["plain"]):
        pytest.fail(
            "verify_password never called hmac.compare_digest: `==` stops at the first character that differs, so "
            "how long it takes tells an attacker how much of a guess was right; compare the two hashes with "
            "hmac.compare_digest, which takes the same time whatever the inputs",
            pytrace=False,
        )
    for (_, _, expected, what), verdict in zip(attempts[:3], seen["forced"], strict=True):
        assert verdict is (not expected), (
            f"verify_password calls hmac.compare_digest, but its verdict does not rest on it: for {what}, while "
            f"compare_digest answered {not expected}, verify_password still returned {verdict}. The hashes "
            "themselves must be compared with hmac.compare_digest (its result is the answer), not with `==`"
        )
