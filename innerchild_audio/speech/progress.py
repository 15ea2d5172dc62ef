"""Synthesis progress: counts of clips taken from the cache and made, with an ETA.

The counter only reports; whoever asked (the CLI, through the run's progress
callback) decides how to show it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# (message, done, total, eta in seconds or None)
SpeechProgress = Callable[[str, int, int, "float | None"], None]


class Progress:
    """Counts clips taken from the cache and clips made; thread-safe."""

    def __init__(self, total: int, report: SpeechProgress | None = None):
        self.report = report
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
            self._send()

    def start_making(self) -> None:
        self._started = time.monotonic()

    def add_new(self, count: int = 1) -> None:
        with self._lock:
            self.new += count
            self._send()

    def eta_s(self) -> float | None:
        if not self.new:
            return None
        per_clip = (time.monotonic() - self._started) / self.new
        return per_clip * (self.to_make - self.new)

    def line(self) -> str:
        return f"{self.cached} cached, {self.new} new"

    def close(self) -> None:
        """The last report: synthesis is over (done may fall short after a failure)."""
        self._send(final=True)

    def _send(self, final: bool = False) -> None:
        if self.report is not None and self.total > 0:
            self.report(self.line(), self.cached + self.new, self.total,
                        0.0 if final else self.eta_s())
