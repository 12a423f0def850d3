"""md5 with hashlib: a fixed-length fingerprint of any text or file (the outline's hashlib.md5(b'abc'))."""

import hashlib


def md5_hex(text: str) -> str:
    """The md5 of the UTF-8 bytes of `text`, as 32 hexadecimal characters."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def file_md5(path: str, chunk_size: int = 64 * 1024) -> str:
    """The md5 hexdigest of the file `path`, read `chunk_size` bytes at a time so a huge file never fills memory."""
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            md5 = hashlib.md5(chunk)
    return md5.hexdigest()
