"""A cache of derived facts about files, keyed by their stat signature.

An entry is reused only while the file's size, mtime_ns, ctime_ns and inode
are unchanged. Like git's "racy clean" rule, an entry is never trusted when
the file was modified shortly before the read that produced it began: a
second write in the same timestamp tick as the first would leave the stat
signature unchanged. "Shortly" is the filesystem's timestamp granularity,
rounded up generously. It is 2 s when the file's timestamps are whole
seconds, because ext3, FAT and HFS+ store no fractions. Otherwise it is
100 ms, which covers the kernel's coarse clock tick (1-10 ms) that stamps
ext4, XFS, btrfs and tmpfs files.

NOTE: on network filesystems the server sets timestamps with its own clock;
a clock skew larger than the window defeats the rule.

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
FINE_RACY_WINDOW_NS = 100_000_000
CACHE_VERSION = 2


def stat_signature(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


@dataclass
class StatCache:
    """Facts about files (digests, item manifests) reused across commands."""

    path: str | None
    entries: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    _dirty: bool = False
    _used: set[str] = field(default_factory=set)

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
        self._used.add(key)
        if (
            isinstance(entry, list)
            and _well_formed(entry)
            and entry[0] == stat_signature(stat)
            and not is_racy(stat, entry[1])
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
        self._used.add(key)
        if not isinstance(entry, list) or not _well_formed(entry):
            self.misses += 1
            return None
        self.hits += 1
        return entry[2]

    def put_blob(self, key: str, fact: Any) -> None:
        self.entries[key] = [None, 0, fact]
        self._dirty = True

    def prune(self, blobs: bool) -> None:
        """Drop the entries of one kind that were not looked up since loading.

        Call this only after fingerprinting every input of the project, so
        that an entry not looked up belongs to a deleted file or an old
        staged version. *blobs* picks the kind: entries keyed by git blob
        (``verify --staged``) or by stat signature (the working tree). The
        other kind is kept, so that alternating the two stays fast.
        """
        for key in list(self.entries):
            if key not in self._used and _is_blob_key(key) == blobs:
                del self.entries[key]
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


def racy_window_ns(stat: os.stat_result) -> int:
    """Return how close to a read a change may be and still go unseen."""
    whole_seconds = stat.st_mtime_ns % 1_000_000_000 == 0 and (
        stat.st_ctime_ns % 1_000_000_000 == 0
    )
    return RACY_WINDOW_NS if whole_seconds else FINE_RACY_WINDOW_NS


def is_racy(stat: os.stat_result, read_started_ns: int) -> bool:
    """Tell whether a read that began at *read_started_ns* may have missed a write."""
    changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
    return changed + racy_window_ns(stat) >= read_started_ns


def _is_blob_key(key: str) -> bool:
    return ":blob:" in key


def _well_formed(entry: Any) -> bool:
    # A hand-edited or half-migrated cache must cost a rehash, never a crash.
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[1], int)
        and entry[2] is not None
    )


def now_ns() -> int:
    return time.time_ns()
