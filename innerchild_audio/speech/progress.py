"""A progress bar with ETA for synthesis, on stderr and only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import Final, TextIO

BAR_WIDTH: Final = 24


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Counts clips taken from the cache and clips made; thread-safe."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream.isatty() and total > 0
        self.total = total
        self.cached = 0
        self.new = 0
        self.to_make = total
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def add_cached(self, count: int) -> None:
        with self._lock:
            self.cached += count
            self.to_make = self.total - self.cached
            self._draw()

    def start_making(self) -> None:
        self._started = time.monotonic()

    def add_new(self, count: int = 1) -> None:
        with self._lock:
            self.new += count
            self._draw()

    def line(self) -> str:
        done = self.cached + self.new
        filled = BAR_WIDTH * done // max(self.total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        eta = "--:--"
        if self.new:
            per_clip = (time.monotonic() - self._started) / self.new
            eta = _clock(per_clip * (self.to_make - self.new))
        return (
            f"speech [{bar}] {done}/{self.total} "
            f"({self.cached} cached, {self.new} new) ETA {eta}"
        )

    def _draw(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K")  # erase what a longer line left
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
