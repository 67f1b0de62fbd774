"""A cache of derived facts about files, keyed by their stat signature.

An entry is reused only while the file's size, mtime_ns, ctime_ns and inode
are unchanged. Like git's "racy clean" rule, an entry is never trusted when
the file was modified within ``RACY_WINDOW_NS`` of the moment hashing began:
a write in the same timestamp tick as the read would leave the stat signature
unchanged. Two seconds covers filesystems with one- or two-second timestamps
(ext3, FAT) as well as the coarse kernel clock that stamps ext4 and tmpfs.

The cache lives in ``.git/evallock/statcache.json`` and is private to one
clone. Losing it only costs time.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from evallock.fsutil import write_atomic

log = logging.getLogger(__name__)

RACY_WINDOW_NS = 2_000_000_000
CACHE_VERSION = 1


def stat_signature(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


@dataclass
class StatCache:
    """Facts about files (digests, item manifests) reused across commands."""

    path: str | None
    entries: dict[str, list[Any]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    _dirty: bool = False

    @classmethod
    def load(cls, path: str | None) -> StatCache:
        if path is None:
            return cls(None)
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as error:
            log.warning("ignoring unreadable stat cache %s: %s", path, error)
            return cls(path)
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return cls(path)
        entries = data.get("entries")
        return cls(path, entries if isinstance(entries, dict) else {})

    def get(self, key: str, stat: os.stat_result) -> Any | None:
        """Return the cached fact for *key* if the file is provably unchanged."""
        entry = self.entries.get(key)
        if (
            entry is not None
            and entry[0] == stat_signature(stat)
            and max(stat.st_mtime_ns, stat.st_ctime_ns) + RACY_WINDOW_NS < entry[1]
        ):
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, key: str, stat: os.stat_result, started_ns: int, fact: Any) -> None:
        """Store *fact*, computed from a read that began at *started_ns*."""
        self.entries[key] = [stat_signature(stat), started_ns, fact]
        self._dirty = True

    def get_blob(self, key: str) -> Any | None:
        """Return a fact keyed by content (a git blob id), which never goes stale."""
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry[2]

    def put_blob(self, key: str, fact: Any) -> None:
        self.entries[key] = [None, 0, fact]
        self._dirty = True

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        payload = json.dumps({"version": CACHE_VERSION, "entries": self.entries})
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, payload.encode())
        except OSError as error:
            # The cache only saves time, so a full disk or read-only .git is
            # not worth failing the command over.
            log.warning("could not save stat cache %s: %s", self.path, error)
        self._dirty = False


def now_ns() -> int:
    return time.time_ns()
