"""Probes for stdlib-data: they run in the worker, next to the student's data_formats, hashing and passwords."""

from __future__ import annotations

import builtins
import codecs
import hmac
import io
import secrets
import tracemalloc
from pathlib import Path
from typing import Any

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


def _text_opens_without_utf8() -> list[str]:
    """How the watched files were opened in text mode without UTF-8, e.g. "open(..., 'w')"."""
    wrong = []
    for seen in _opens:
        if "b" in seen["mode"]:
            continue
        encoding = seen["encoding"]
        try:
            is_utf8 = encoding not in (None, "locale") and codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            is_utf8 = False
        if not is_utf8:
            shown = "" if encoding is None else f", encoding={encoding!r}"
            wrong.append(f"open(..., {seen['mode']!r}{shown})")
    return wrong


def json_round_trip(obj: dict, text: str) -> dict:
    module = student_module("data_formats")
    return {"dumped": module.to_json(obj), "loaded": module.from_json(text)}


def json_files(obj: dict, save_path: str, load_path: str) -> dict:
    """save_json into save_path and load_json from load_path, noting how each file was opened."""
    module = student_module("data_formats")
    _watch_opens(save_path, load_path)
    try:
        module.save_json(obj, save_path)
        saved_with = _text_opens_without_utf8()
        _opens.clear()
        loaded = module.load_json(load_path)
        loaded_with = _text_opens_without_utf8()
    finally:
        builtins.open = io.open = _real_open
    return {"loaded": loaded, "save_opens": saved_with, "load_opens": loaded_with}


def base64_calls(text: str, standard: str, urlsafe: str) -> dict:
    module = student_module("data_formats")
    return {
        "to_base64": module.to_base64(text),
        "from_base64": module.from_base64(standard),
        "to_urlsafe_base64": module.to_urlsafe_base64(text),
        "from_urlsafe_base64": module.from_urlsafe_base64(urlsafe),
    }


def md5_of_texts(texts: list[str]) -> list:
    module = student_module("hashing")
    return [module.md5_hex(text) for text in texts]


def md5_of_file(path: str, chunk_size: int) -> dict:
    """file_md5(path, chunk_size), with the peak of memory that Python allocated while it ran."""
    module = student_module("hashing")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            result = module.file_md5(path, chunk_size)
        except UnicodeDecodeError as error:
            raise StudentMistake(
                f"file_md5 read the file as text and failed ({error}): a file is bytes, not always UTF-8 text; "
                "open it in binary mode, open(path, 'rb')"
            ) from None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"result": result, "peak": peak}


def hash_passwords(password: str, iterations: int) -> dict:
    module = student_module("passwords")
    return {
        "first": module.hash_password(password, iterations),
        "second": module.hash_password(password, iterations),
        "default": module.hash_password(password),
    }


def _spy_compare_digest(a, b) -> bool:
    _compares.append((a, b))
    return _real_compare_digest(a, b)


def verify_passwords(attempts: list[tuple[str, str]]) -> list[dict]:
    """verify_password(password, stored) for each attempt, with the compare_digest calls each one made.

    hmac.compare_digest (and secrets.compare_digest, the same function) are replaced before the student's
    module is imported, so `from hmac import compare_digest` also gets the counting version.
    """
    hmac.compare_digest = secrets.compare_digest = _spy_compare_digest
    module = student_module("passwords")
    results = []
    for password, stored in attempts:
        _compares.clear()
        verdict = module.verify_password(password, stored)
        results.append({
            "verdict": verdict if isinstance(verdict, bool) else repr(verdict),
            "is_bool": isinstance(verdict, bool),
            "compared": [
                (a.hex() if isinstance(a, (bytes, bytearray)) else str(a),
                 b.hex() if isinstance(b, (bytes, bytearray)) else str(b))
                for a, b in _compares
            ],
        })
    return results
