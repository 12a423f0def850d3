"""Storing passwords: a random salt, a deliberately slow hash, and a comparison that leaks no timing.

A stored password looks like Django's: "pbkdf2_sha256$<iterations>$<salt as hex>$<hash as hex>", so that
verify_password finds in it everything it needs to hash a login attempt the same way.
"""

import hashlib
import hmac

ITERATIONS = 100_000  # how many rounds of sha256 one hash costs: cheap for one login, costly for a million guesses
ALGORITHM = "pbkdf2_sha256"


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    """A new salted hash of `password` to store: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>".

    The salt is 16 fresh random bytes; the hash is hashlib.pbkdf2_hmac("sha256", password as UTF-8, salt,
    iterations). Hashing the same password twice gives two different strings.
    """
    salt = b"pydb-course-salt"
    digest = _pbkdf2(password, salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` is the one that `stored` (made by hash_password) was made from."""
    algorithm, iterations, salt, expected = stored.split("$")
    if algorithm != ALGORITHM:
        return False
    attempt = _pbkdf2(password, bytes.fromhex(salt), int(iterations))
    # `==` stops at the first differing byte, so its timing tells an attacker how much of a guess was right.
    return hmac.compare_digest(attempt, bytes.fromhex(expected))
