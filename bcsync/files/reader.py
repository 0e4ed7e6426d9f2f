"""A bounded regular file's bytes: never a FIFO, a device or a directory, never more than a cap.

A FIFO would hang the reader, a link to /dev/zero would never end, and a huge file would exhaust
memory. The path is checked before it is opened (a device is never opened at all), opened without
blocking, and checked again on the descriptor itself, so a file swapped between the two checks is
still refused. OSError (a missing or unreadable file) passes through for the caller to word.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(Exception):
    """The path names a directory, FIFO, socket or device."""

    def __init__(self, is_dir: bool) -> None:
        super().__init__("a directory" if is_dir else "not a regular file")
        self.is_dir = is_dir


class FileTooLarge(Exception):
    """The file holds more than the cap: `size` bytes (from its metadata, or at least that many)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes is over the {limit}-byte limit")
        self.size = size
        self.limit = limit


class BadText(Exception):
    """The bytes are not UTF-8: the first bad byte and its line and column (1-based)."""

    def __init__(self, byte: int, line: int, column: int) -> None:
        super().__init__(f"not UTF-8 (byte 0x{byte:02x}) at {line}:{column}")
        self.byte = byte
        self.line = line
        self.column = column


def read_regular(path: str | Path, limit: int, *, head: bool = False) -> bytes:
    """At most `limit` bytes of a regular file; FileTooLarge past it, unless `head`."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(stat.S_ISDIR(info.st_mode))
    if not head and info.st_size > limit:
        raise FileTooLarge(info.st_size, limit)
    # O_NONBLOCK: should the file have become a FIFO since the stat, open does not wait.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(stat.S_ISDIR(info.st_mode))
        # One byte past the cap: the file may have grown since the stat.
        wanted = limit if head else limit + 1
        chunks, size = [], 0
        while size < wanted:
            chunk = os.read(fd, min(wanted - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise FileTooLarge(size, limit)
    return b"".join(chunks)


def decode_utf8(raw: bytes) -> str:
    """UTF-8 text (a leading byte order mark dropped); BadText locates the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The codec reports positions in the text after the byte order mark.
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        start = exc.start
        line = body.count(b"\n", 0, start) + 1
        column = start - (body.rfind(b"\n", 0, start) + 1) + 1
        raise BadText(body[start], line, column) from None
