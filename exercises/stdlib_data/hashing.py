"""md5 with hashlib: a fixed-length fingerprint of any text or file (the outline's hashlib.md5(b'abc'))."""

import hashlib  # noqa: F401  (you will need it)


def md5_hex(text: str) -> str:
    """The md5 of the UTF-8 bytes of `text`, as 32 hexadecimal characters."""
    # TODO(task 4): hash text.encode("utf-8") with hashlib.md5 and return its hexdigest().
    raise NotImplementedError("task 4")


def file_md5(path: str, chunk_size: int = 64 * 1024) -> str:
    """The md5 hexdigest of the file `path`, read `chunk_size` bytes at a time so a huge file never fills memory."""
    # TODO(task 5): open the file in binary mode and feed it to ONE md5 object, chunk by chunk, with update().
    raise NotImplementedError("task 5")
