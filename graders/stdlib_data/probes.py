"""Probes for stdlib-data: they run in the worker, next to the student's data_formats, hashing and passwords."""

from __future__ import annotations

import builtins
import codecs
import hmac
import io
import secrets
from pathlib import Path
from typing import Any

from graders.harness.core.curriculum import say
from graders.harness.core.probing import StudentMistake, student_module

_real_open = builtins.open
_opens: list[dict] = []
_watched: set[Path] = set()
_compares: list[tuple[Any, Any]] = []
_real_compare_digest = hmac.compare_digest


def _spy_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
    """open() as usual, noting how the files the grader watches were opened (text mode without an encoding)."""
    try:
        watched = isinstance(file, (str, Path)) and Path(file).resolve() in _watched
    except (OSError, ValueError):
        watched = False
    if watched:
        _opens.append({"mode": mode, "encoding": encoding})
    return _real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)


def _watch_opens(*paths: str) -> None:
    _watched.clear()
    _watched.update(Path(path).resolve() for path in paths)
    _opens.clear()
    builtins.open = io.open = _spy_open  # pathlib's Path.open calls io.open, the builtin open is the same object


def _opened_with() -> list[dict]:
    """How the watched files were opened: the mode, and the encoding with the codec it names (None if none)."""
    found = []
    for seen in _opens:
        encoding = seen["encoding"]
        try:
            codec = codecs.lookup(encoding).name if isinstance(encoding, str) and encoding != "locale" else None
        except LookupError:
            codec = None
        found.append({
            "mode": seen["mode"] if isinstance(seen["mode"], str) else repr(seen["mode"]),
            "encoding": encoding if encoding is None or isinstance(encoding, str) else repr(encoding),
            "codec": codec,
        })
    return found


def json_round_trip(obj: dict, text: str) -> dict:
    module = student_module("data_formats")
    return {"dumped": _plain(module.to_json(obj)), "loaded": _plain(module.from_json(text))}


def json_files(obj: dict, save_path: str, load_path: str) -> dict:
    """save_json into save_path and load_json from load_path, noting how each file was opened."""
    module = student_module("data_formats")
    _watch_opens(save_path, load_path)
    try:
        module.save_json(obj, save_path)
        saved_with = _opened_with()
        _opens.clear()
        loaded = module.load_json(load_path)
        loaded_with = _opened_with()
    finally:
        builtins.open = io.open = _real_open
    return {"loaded": _plain(loaded), "save_opens": saved_with, "load_opens": loaded_with}


def base64_calls(text: str, standard: str, urlsafe: str) -> dict:
    module = student_module("data_formats")
    return {
        "to_base64": _plain(module.to_base64(text)),
        "from_base64": _plain(module.from_base64(standard)),
        "to_urlsafe_base64": _plain(module.to_urlsafe_base64(text)),
        "from_urlsafe_base64": _plain(module.from_urlsafe_base64(urlsafe)),
    }


def md5_of_texts(texts: list[str]) -> list:
    module = student_module("hashing")
    return [_plain(module.md5_hex(text)) for text in texts]


def import_hashing() -> None:
    """Import hashing.py, so that what importing it costs is not counted in what file_md5 then uses."""
    student_module("hashing")


def md5_of_file(path: str, chunk_size: int) -> Any:
    """file_md5(path, chunk_size); the grader watches the worker's memory from outside meanwhile."""
    module = student_module("hashing")
    try:
        return _plain(module.file_md5(path, chunk_size))
    except UnicodeDecodeError as error:
        raise StudentMistake(say(
            f"file_md5 read the file as text and failed ({error}): a file is bytes, not always UTF-8 text; "
            "open it in binary mode, open(path, 'rb')",
            f"file_md5 把文件当作文本读取，失败了（{error}）：文件是字节，不一定是 UTF-8 文本；"
            "请用二进制模式打开它：open(path, 'rb')",
        )) from None


def hash_passwords(password: str, iterations: int) -> dict:
    module = student_module("passwords")
    return {
        "first": _plain(module.hash_password(password, iterations)),
        "second": _plain(module.hash_password(password, iterations)),
        "default": _plain(module.hash_password(password)),
    }


_forced: list[bool | None] = [None]


def _spy_compare_digest(a, b) -> bool:
    """compare_digest as usual, counted; or, while the grader forces an answer, that answer."""
    _compares.append((a, b))
    real = _real_compare_digest(a, b)
    return real if _forced[0] is None else _forced[0]


def _verdict(value: Any) -> bool | str:
    return value if isinstance(value, bool) else repr(value)


def verify_passwords(attempts: list[tuple[str, str]], forced: list[tuple[str, str, bool]]) -> dict:
    """verify_password(password, stored) for each attempt, counting its compare_digest calls; then again for
    each of `forced` while compare_digest answers the given bool whatever it is asked.

    Whether the verdict rests on compare_digest is judged by what verify_password then returns, so comparing
    hex, bytes or whole stored strings all count. It can only be seen inside the worker: compare_digest is a
    call in the student's process. hmac.compare_digest (and secrets.compare_digest, the same function) are
    replaced before the student's module is imported, so `from hmac import compare_digest` gets this one too.
    """
    hmac.compare_digest = secrets.compare_digest = _spy_compare_digest
    module = student_module("passwords")
    plain = []
    for password, stored in attempts:
        _compares.clear()
        plain.append({"verdict": _verdict(module.verify_password(password, stored)), "compares": len(_compares)})
    answers = []
    for password, stored, answer in forced:
        _forced[0] = answer
        try:
            answers.append(_verdict(module.verify_password(password, stored)))
        finally:
            _forced[0] = None
    return {"plain": plain, "forced": answers}


_PLAIN = (type(None), bool, int, float, str, bytes)


def _plain(value: Any) -> Any:
    """`value` as plain data for the grader: JSON-like structures as they are, anything else as its repr."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _plain(item) for key, item in value.items()}
    return {"repr": repr(value)}


def map_calls(module_name: str, function: str, calls: list[tuple]) -> list[dict]:
    """function(*arguments) for each of `calls`, in one trip to the worker: {"value": ...} or {"raised": ...}."""
    call = getattr(student_module(module_name), function)
    answers = []
    for arguments in calls:
        try:
            answers.append({"value": _plain(call(*arguments))})
        except NotImplementedError:
            raise
        except Exception as error:
            answers.append({"raised": f"{type(error).__name__}: {error}"})
    return answers
