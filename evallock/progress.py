"""A byte-count progress bar on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

# Hashing less than this finishes in well under a second, so no bar is drawn.
MIN_BYTES_FOR_BAR = 256 * 1024 * 1024


class Progress:
    """Draws ``label [#####.....] 1.2/4.0 GB`` on one stderr line."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = total >= MIN_BYTES_FOR_BAR and self.stream.isatty()
        self._last_draw = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= 0.2:
            self._last_draw = now
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        width = 30
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * width)
        bar = "#" * filled + "." * (width - filled)
        gigabytes = f"{self.done / 1e9:.1f}/{self.total / 1e9:.1f} GB"
        self.stream.write(f"\r{self.label} [{bar}] {gigabytes}")
        self.stream.flush()
