"""Atomic file writes and an inter-process file lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator

from evallock.errors import InputError

TEMPORARY_PREFIX = ".evallock-"
TEMPORARY_NAME = re.compile(r"^\.evallock-(\d+)-[^/]*\.tmp$")


def write_atomic(path: str, data: bytes) -> None:
    """Replace *path* with *data* so readers see the old or the new file, never half.

    The temporary file lives in the same folder so that ``os.replace`` is a
    rename within one filesystem. It is fsynced before the rename so that a
    crash cannot leave an empty file under the final name.
    """
    folder = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(folder)
    fd, temporary = tempfile.mkstemp(
        prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(OSError):
            mode = os.stat(path).st_mode & 0o777
            os.chmod(temporary, mode)
        if not os.path.exists(path):
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def remove_stale_temporaries(
    folder: str, pattern: re.Pattern[str] = TEMPORARY_NAME
) -> list[str]:
    """Delete what killed evallock processes left in *folder*; return the names.

    A process killed between creating a temporary file (or folder) and
    renaming or deleting it cannot clean up, so the next evallock process
    that writes there does. The first group of *pattern* is the creator's
    process id: only entries of processes that no longer exist, owned by
    this user, are removed, and links are never followed.
    """
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None or _process_exists(int(match.group(1))):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if info.st_uid != os.getuid():
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(name)
    return removed


def _process_exists(pid: int) -> bool:
    # NOTE: a writer in another PID namespace that shares this folder looks
    # dead here. Its temporary file is then removed, so its rename fails with
    # an error and the target file stays as it was.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


@contextlib.contextmanager
def exclusive_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on *path* (created if missing) for the block."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_regular_file(path: str, limit: int | None = None) -> bytes:
    """Read a whole file, raising OSError for folders, FIFOs and devices.

    Opening a FIFO for reading would block until a writer appears, so the
    file is opened non-blocking and checked before anything is read. A file
    larger than *limit* bytes raises OSError(EFBIG) before it is read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", path)
        data = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", path)
        return data


def check_utf8_name(path: str) -> str:
    """Return *path*, or raise InputError when its name is not valid UTF-8.

    Python decodes such names with surrogate escapes, which eval.lock, a
    UTF-8 text file, cannot store.
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise InputError(
            f"file name {shown} is not valid UTF-8; rename the file, because "
            "eval.lock stores file names as UTF-8 text"
        ) from None
    return path
