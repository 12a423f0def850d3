"""Storing passwords: a random salt, a deliberately slow hash, and a comparison that leaks no timing.

A stored password looks like Django's: "pbkdf2_sha256$<iterations>$<salt as hex>$<hash as hex>", so that
verify_password finds in it everything it needs to hash a login attempt the same way.
"""

import hashlib  # noqa: F401  (you will need it)
import hmac  # noqa: F401  (you will need it)
import secrets  # noqa: F401  (you will need it)

ITERATIONS = 100_000  # how many rounds of sha256 one hash costs: cheap for one login, costly for a million guesses


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    """A new salted hash of `password` to store: "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>".

    The salt is 16 fresh random bytes; the hash is hashlib.pbkdf2_hmac("sha256", password as UTF-8, salt,
    iterations). Hashing the same password twice gives two different strings.
    """
    # TODO(task 6): never store md5(password): make a random salt, pbkdf2_hmac the password, join the four parts.
    raise NotImplementedError("task 6")


def verify_password(password: str, stored: str) -> bool:
    """True when `password` is the one that `stored` (made by hash_password) was made from."""
    # TODO(task 7): hash `password` with the salt and iterations in `stored`, compare with hmac.compare_digest.
    raise NotImplementedError("task 7")
