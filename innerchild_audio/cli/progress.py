"""Drawing a run's progress on stderr: a bar with ETA for speech, a line per stage."""

from __future__ import annotations

import sys
from typing import Final, TextIO

from innerchild_audio.options import ProgressEvent

BAR_WIDTH: Final = 24


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class TerminalProgress:
    """A `RunSettings.progress` callback; draws only when the stream is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._bar_open = False

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        if event.stage == "speech" and event.done:
            filled = BAR_WIDTH * event.done // max(event.total, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r{event.slug}: speech [{bar}] {event.done}/{event.total} "
                              f"({event.message}) ETA {_clock(event.eta_s)}\x1b[K")
            self._bar_open = True
        else:
            self._end_bar()
            self.stream.write(f"{event.slug}: {event.stage} {event.message}\n")
        self.stream.flush()

    def _end_bar(self) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False


__all__ = ["TerminalProgress"]
