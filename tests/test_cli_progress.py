"""The CLI's progress drawing: a speech bar with ETA and a line per stage, on terminals only."""

from __future__ import annotations

import io

from innerchild_audio.cli.progress import TerminalProgress
from innerchild_audio.options import ProgressEvent


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_terminal():
    stream = io.StringIO()
    draw = TerminalProgress(stream)
    draw(ProgressEvent("s", "speech", "1 cached, 0 new", done=1, total=3))
    draw(ProgressEvent("s", "mix", "mixing 1m"))
    assert stream.getvalue() == ""


def test_speech_bar_then_stage_lines():
    stream = Tty()
    draw = TerminalProgress(stream)
    draw(ProgressEvent("calm", "speech", "2 cached, 0 new", done=2, total=4))
    draw(ProgressEvent("calm", "speech", "2 cached, 1 new", done=3, total=4, eta_s=65.0))
    draw(ProgressEvent("calm", "mix", "mixing 10m to measure it"))
    out = stream.getvalue()
    assert "calm: speech [############------------] 2/4 (2 cached, 0 new) ETA --:--" in out
    assert "3/4 (2 cached, 1 new) ETA 1:05" in out
    assert out.endswith("\ncalm: mix mixing 10m to measure it\n")  # the bar's line ended first
