"""Encoding while the audio is made: blocks to ffmpeg, a mastered stream to a session's files."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import TimelineBuilder, loudness_lufs, speech_clip, true_peak_dbtp
from test_export_session import META, WHEN, make_script, make_timeline

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.errors import RenderError
from innerchild_audio.export import export_session, mp3
from innerchild_audio.master import MasteredStream, master_stream
from innerchild_audio.mix import Mixer
from innerchild_audio.model import Background

RATE = 44100
STREAM_META = META


def tone(seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    wave = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    return np.repeat(wave[:, np.newaxis], channels, axis=1)


class Blocks:
    """A generator of blocks that remembers whether it was closed."""

    def __init__(self, audio: np.ndarray, size: int, fail_at: int | None = None):
        self.audio, self.size, self.fail_at = audio, size, fail_at
        self.handed = 0
        self.closed = False

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            for start in range(0, len(self.audio), self.size):
                if self.fail_at is not None and start >= self.fail_at:
                    raise RenderError("injected failure while mixing")
                self.handed += 1
                yield self.audio[start: start + self.size].copy()
        finally:
            self.closed = True


@pytest.mark.parametrize("channels", [1, 2])
def test_blocks_encode_to_the_same_file_as_the_array(tmp_path: Path, channels: int) -> None:
    audio = tone(7.3, channels)
    mp3.encode_mp3(audio, RATE, tmp_path / "whole.mp3", bitrate_kbps=96)
    source = Blocks(audio, 30_001)
    frames = mp3.encode_blocks(iter(source), RATE, channels, tmp_path / "blocks.mp3",
                               bitrate_kbps=96)
    assert frames == len(audio) and source.closed
    assert (tmp_path / "blocks.mp3").read_bytes() == (tmp_path / "whole.mp3").read_bytes()
    assert decode_mp3(tmp_path / "blocks.mp3").shape == audio.shape


@pytest.mark.skipif(sys.platform != "linux", reason="idle priority is asked for on Linux")
def test_blocks_are_made_at_idle_priority_beside_the_encoder(tmp_path: Path) -> None:
    policies = []

    def blocks() -> Iterator[np.ndarray]:
        for _ in range(3):
            policies.append(os.sched_getscheduler(0))  # 0: the calling thread
            yield tone(1.0)

    caller = os.sched_getscheduler(0)
    assert mp3.encode_blocks(blocks(), RATE, 1, tmp_path / "a.mp3", bitrate_kbps=96) == 3 * RATE
    assert policies == [os.SCHED_IDLE] * 3
    assert os.sched_getscheduler(0) == caller  # the caller's thread is left as it was


def test_a_failure_while_making_blocks_stops_ffmpeg(tmp_path: Path) -> None:
    source = Blocks(tone(10.0), RATE, fail_at=5 * RATE)
    with pytest.raises(RenderError, match="injected"):
        mp3.encode_blocks(iter(source), RATE, 1, tmp_path / "a.mp3", bitrate_kbps=96)
    assert source.handed == 5 and source.closed


def test_ffmpeg_failing_early_stops_the_blocks(tmp_path: Path) -> None:
    source = Blocks(tone(60.0), RATE // 10)
    with pytest.raises(RenderError, match="could not encode"):
        mp3.encode_blocks(iter(source), RATE, 1, tmp_path / "no-folder" / "a.mp3",
                          bitrate_kbps=96)
    assert source.closed and source.handed < 600  # not made to the end for nothing


def test_bad_blocks(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no audio"):
        mp3.encode_blocks(iter([]), RATE, 1, tmp_path / "a.mp3", bitrate_kbps=96)
    nan = tone(2.0)
    nan[RATE + 5] = np.nan
    with pytest.raises(RenderError, match="NaN or infinity near frame 44105"):
        mp3.encode_blocks(iter([nan[:RATE], nan[RATE:]]), RATE, 1, tmp_path / "a.mp3",
                          bitrate_kbps=96)
    with pytest.raises(RenderError, match="2 channels in a 1-channel"):
        mp3.encode_blocks(iter([tone(1.0, 2)]), RATE, 1, tmp_path / "a.mp3", bitrate_kbps=96)


def mastered_session() -> tuple[Mixer, MasteredStream]:
    b = TimelineBuilder()
    b.pause(1000)
    b.say("Hello there.", speech_clip(1500, 22050))
    b.pause(2500)
    b.bed(0, b.now_ms, Background("pink-noise", fade_in_ms=500, fade_out_ms=500))
    mixer = Mixer(b.timeline(), b.clips)
    return mixer, master_stream(mixer)


def test_a_mastered_stream_exports_with_its_own_measurements(tmp_path: Path) -> None:
    mixer, stream = mastered_session()
    out = tmp_path / "out"
    result = export_session(stream, script=make_script(tmp_path), timeline=make_timeline(),
                            out_dir=out, bitrate_kbps=96, meta=STREAM_META, rendered_at=WHEN)
    doc = json.loads(result.manifest_path.read_text())
    assert stream.loudness_lufs is not None and stream.true_peak_dbtp is not None
    assert doc["audio"]["loudness_lufs"] == round(stream.loudness_lufs, 2)
    assert doc["audio"]["true_peak_dbtp"] == round(stream.true_peak_dbtp, 2)
    assert doc["audio"]["duration_s"] == 5.0
    decoded = decode_mp3(result.mp3_path)
    assert len(decoded) == mixer.frames == 5 * RATE
    assert loudness_lufs(decoded, RATE) == pytest.approx(-19.0, abs=0.5)
    assert true_peak_dbtp(decoded) <= -1.0
    assert not list(out.glob(".*"))


def test_a_stream_failing_at_its_end_leaves_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, stream = mastered_session()
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")

    def failing() -> Iterator[np.ndarray]:
        yield from original()
        raise RenderError("could not bring the true peak under the ceiling")

    original = stream.blocks
    monkeypatch.setattr(stream, "blocks", failing)
    with pytest.raises(RenderError, match="true peak"):
        export_session(stream, script=make_script(tmp_path), timeline=make_timeline(),
                       out_dir=out, bitrate_kbps=96, meta=STREAM_META)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


