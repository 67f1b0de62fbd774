"""XXH3-128 digests of files and values.

File digests are the canonical big-endian hex form that ``xxhsum -H2 FILE``
prints, computed over fixed-size chunks read into one reusable buffer, so
memory stays constant for any file size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import xxhash

from evallock.errors import InputError

# 1 MiB reads hashed 2 GB about as fast as 4 MiB ones on a 2-core VM, and the
# buffer stays small enough to sit in the CPU cache.
CHUNK_SIZE = 1024 * 1024
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
# Git LFS pointer files are about 130 bytes; anything this large is real content.
LFS_POINTER_MAX_SIZE = 1024


def digest_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def digest_value(value: Any) -> str:
    """Digest a JSON-compatible value, independent of dict key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return digest_bytes(text.encode())


def open_checked(path: str, shown: str) -> int:
    """Open *path* for reading, turning link and permission faults into InputError.

    *shown* is the name used in messages: the path as the user wrote it.
    """
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise InputError(
                f"{shown} is a dangling symbolic link to {target}; restore the target "
                "file or fix the link"
            ) from None
        raise InputError(f"{shown} does not exist; create it or fix the path") from None
    except IsADirectoryError:
        raise InputError(f"{shown} is a folder where a file is expected") from None
    except PermissionError:
        raise InputError(
            f"{shown} is not readable (permission denied); fix its permissions"
        ) from None
    except OSError as error:
        if error.errno == 40:  # ELOOP
            raise InputError(
                f"{shown} is a symbolic link loop; point the link at a real file"
            ) from None
        raise InputError(f"{shown} cannot be read: {error.strerror}") from None


def is_lfs_pointer(head: bytes, size: int) -> bool:
    """Tell whether a file that starts with *head* is a Git LFS pointer file."""
    return size <= LFS_POINTER_MAX_SIZE and head.startswith(LFS_POINTER_PREFIX)


def lfs_pointer_error(shown: str) -> InputError:
    return InputError(
        f"{shown} is a Git LFS pointer, not the real file; run `git lfs pull` "
        "to fetch its content"
    )


def _reject_lfs_pointer(head: bytes, size: int, shown: str) -> None:
    if is_lfs_pointer(head, size):
        raise lfs_pointer_error(shown)


def digest_file(
    path: str, shown: str, on_bytes: Callable[[int], None] | None = None
) -> str:
    """Return the XXH3-128 hex digest of a file's raw bytes."""
    fd = open_checked(path, shown)
    try:
        size = os.fstat(fd).st_size
        hasher = xxhash.xxh3_128()
        buffer = bytearray(min(CHUNK_SIZE, max(size, 1)))
        view = memoryview(buffer)
        first = True
        while True:
            count = os.readv(fd, [buffer])
            if count == 0:
                break
            if first:
                _reject_lfs_pointer(bytes(view[:count]), size, shown)
                first = False
            hasher.update(view[:count])
            if on_bytes is not None:
                on_bytes(count)
        return hasher.hexdigest()
    finally:
        os.close(fd)


def describe_text(data: bytes) -> dict[str, Any]:
    """Return digest, line-ending style and LF-normalised digest of text bytes.

    The digest is over the raw bytes because the tokenizer sees carriage
    returns. The normalised digest lets a report say that only the line
    endings changed. ``empty`` (only whitespace), ``utf8``, ``nul`` (offset
    of the first NUL byte, or -1) and ``lfs_pointer`` let callers reject
    files that are not usable text.
    """
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if crlf and lf:
        eol = "mixed"
    elif crlf:
        eol = "crlf"
    elif lf:
        eol = "lf"
    else:
        eol = "none"
    normalised = data.replace(b"\r\n", b"\n") if crlf else data
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    return {
        "digest": digest_bytes(data),
        "eol": eol,
        "text": digest_bytes(normalised),
        "utf8": utf8,
        "empty": not data.strip(),
        "nul": data.find(b"\x00"),
        "lfs_pointer": is_lfs_pointer(data, len(data)),
    }
