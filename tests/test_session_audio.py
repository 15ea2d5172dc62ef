"""The Python API hands a session out as a pydub AudioSegment, and takes one as a bed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_helpers import loudness_lufs

import innerchild_audio
from innerchild_audio import RenderOptions, RunSettings
from innerchild_audio.audio_io import AudioSegment, decode_mp3, to_frames

SCRIPT = """\
title: A Short Rest
lead_in: 0
tail: 0
voice: {engine: piper, rate: 1.0}
background: {sound: pink-noise, volume: -20 dB}
steps:
  - say: You can rest here.
  - pause: 4s
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "library" / "rest.yaml"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_a_session_comes_out_as_an_audio_segment(script: Path, tmp_path: Path) -> None:
    settings = RunSettings(cache_dir=tmp_path / "cache")
    session = innerchild_audio.session_audio(script, RenderOptions(warnings=False), settings)
    segment = session.audio
    assert isinstance(segment, AudioSegment())
    assert (segment.frame_rate, segment.channels, segment.sample_width) == (44100, 1, 2)
    assert len(segment) == session.timeline.total_ms  # milliseconds, as pydub counts
    samples = to_frames(segment, 44100)
    assert loudness_lufs(samples, 44100) == pytest.approx(-19.0, abs=0.2)
    # one trimmed sentence is peaky: the limiter takes a few hundredths of a dB off
    assert session.loudness_lufs == pytest.approx(-19.0, abs=0.1)
    assert session.true_peak_dbtp <= -1.0
    assert [e.request.text for e in session.timeline.speech] == ["You can rest here."]
    assert not list((tmp_path / "library").glob("*.mp3"))  # nothing written


def test_a_bed_can_be_an_audio_segment(script: Path, tmp_path: Path) -> None:
    t = np.arange(3 * 44100) / 44100
    hum = (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    pcm = (hum * 32767).astype("<i2").tobytes()
    bed = AudioSegment()(data=pcm, sample_width=2, frame_rate=44100, channels=1)
    out = tmp_path / "out"
    options = RenderOptions(warnings=False, background=bed)
    result = innerchild_audio.render_script(
        script, options, RunSettings(out_dir=out, cache_dir=tmp_path / "cache"))
    audio = decode_mp3(result.mp3_path)[:, 0]
    # the 110 Hz hum plays where the voice is silent: in the closing pause
    tail = audio[-44100:-4410]
    spectrum = np.abs(np.fft.rfft(tail))
    assert np.argmax(spectrum) * 44100 / len(tail) == pytest.approx(110, abs=2)
    # and a second render with the same segment is the same inputs: nothing to do
    again = innerchild_audio.build_library(script.parent, options,
                                           RunSettings(out_dir=out, cache_dir=tmp_path / "cache"))
    assert not again.rendered and len(again.unchanged) == 1
