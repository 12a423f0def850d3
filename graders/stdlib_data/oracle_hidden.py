"""The reference for the property graders of stdlib-data (teacher-side: export leaves this file out)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def from_json(text: str) -> Any:
    return json.loads(text)


def to_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def from_base64(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def to_urlsafe_base64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def from_urlsafe_base64(data: str) -> str:
    return base64.urlsafe_b64decode(data).decode("utf-8")


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def stored_password(password: str, salt: bytes, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    algorithm, iterations, salt, expected = stored.split("$")
    attempt = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iterations))
    return algorithm == "pbkdf2_sha256" and hmac.compare_digest(attempt.hex(), expected)
