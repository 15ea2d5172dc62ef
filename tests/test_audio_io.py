"""Audio I/O: user files through pydub (no ffprobe), bytes and AudioSegments, our own MP3s."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import dominant_hz, sine, write_audio

from innerchild_audio import audio_io
from innerchild_audio.audio_io import (
    AudioSegment,
    clear_decode_cache,
    resample,
    sound_duration_ms,
    to_frames,
    to_segment,
)
from innerchild_audio.audio_io import decode as decode_file
from innerchild_audio.errors import RenderError

SR = 44100


def audio_duration_ms(path: Path) -> int:
    return sound_duration_ms(path)




@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".ogg", ".flac"])
def test_files_decode_to_mono_at_the_asked_rate(tmp_path: Path, suffix: str) -> None:
    tone = sine(2000, 440.0, 48000, level=0.5)
    path = write_audio(tmp_path / f"tone{suffix}", tone, 48000)
    samples = decode_file(path, SR)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(2 * SR, abs=SR * 0.06)  # MP3 may pad a frame
    assert dominant_hz(samples, SR) == pytest.approx(440, abs=2)
    assert audio_duration_ms(path) == pytest.approx(2000, abs=60)
    if suffix in (".wav", ".flac"):  # lossless: the exact length
        assert audio_duration_ms(path) == 2000


def test_decoded_files_are_cached_until_they_change(tmp_path: Path) -> None:
    clear_decode_cache()
    path = write_audio(tmp_path / "a.wav", sine(500, 440.0, SR), SR)
    first = decode_file(path, SR)
    assert decode_file(path, SR) is first
    assert not first.flags.writeable  # shared: nobody may change it in place
    write_audio(path, sine(700, 440.0, SR), SR)
    later = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(later, later))  # a new time, whatever the clock's resolution
    assert len(decode_file(path, SR)) == round(0.7 * SR)


def test_unreadable_files_are_render_errors(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot read"):
        decode_file(tmp_path / "missing.wav", SR)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(RenderError, match="cannot decode"):
        decode_file(junk, SR)


def test_resampling_keeps_duration_and_pitch() -> None:
    tone = sine(1000, 300.0, 22050)
    up = resample(tone, 22050, SR)
    assert len(up) == SR and up.dtype == np.float32
    assert dominant_hz(up, SR) == pytest.approx(300, abs=1)
    odd = resample(sine(1000, 300.0, 24000), 24000, SR)
    assert len(odd) == SR
    assert resample(tone, 22050, 22050) is tone


def ffmpeg_encode(path: Path, *args: str, seconds: float = 2.0, channels: int = 2) -> Path:
    subprocess.run([audio_io.ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-ac", str(channels),
                    "-ar", "48000", *args, str(path)], check=True)
    return path


@pytest.mark.parametrize("name, args", [
    ("float.wav", ["-c:a", "pcm_f32le"]), ("deep.wav", ["-c:a", "pcm_s24le"]),
    ("tone.m4a", ["-c:a", "aac"]), ("tone.opus", ["-c:a", "libopus"]),
])
def test_formats_beyond_plain_pcm_decode_without_ffprobe(tmp_path: Path, name: str,
                                                         args: list[str]) -> None:
    path = ffmpeg_encode(tmp_path / name, *args)
    samples = decode_file(path, SR)
    assert len(samples) == pytest.approx(2 * SR, abs=SR * 0.06)
    assert dominant_hz(samples, SR) == pytest.approx(440, abs=2)
    assert 0.05 < float(np.abs(samples).max()) < 0.2  # lavfi's sine is at 1/8 full scale


def test_a_limit_reads_only_as_far_as_needed(tmp_path: Path) -> None:
    path = ffmpeg_encode(tmp_path / "long.flac", seconds=30.0)
    part = decode_file(path, SR, limit_ms=1500)
    assert len(part) == round(1.5 * SR)
    assert len(decode_file(path, SR)) == 30 * SR


def test_duration_is_counted_and_capped(tmp_path: Path) -> None:
    path = ffmpeg_encode(tmp_path / "long.flac", seconds=12.0, channels=1)
    assert sound_duration_ms(path) == 12_000
    assert sound_duration_ms(path, cap_ms=5_000) == 5_001  # stopped counting past the cap


def test_bytes_and_audio_segments_are_sources_too(tmp_path: Path) -> None:
    path = ffmpeg_encode(tmp_path / "t.wav", "-c:a", "pcm_s16le", seconds=1.0)
    from_bytes = decode_file(path.read_bytes(), SR)
    assert len(from_bytes) == SR and dominant_hz(from_bytes, SR) == pytest.approx(440, abs=2)
    segment = AudioSegment().from_file(str(path), format="wav")
    from_segment = decode_file(segment, SR)
    np.testing.assert_allclose(from_segment, from_bytes, atol=1e-3)
    assert len(decode_file(segment, SR, limit_ms=250)) == round(0.25 * SR)


def test_segments_and_frames_convert_both_ways() -> None:
    tone = sine(1000, 440.0, SR, level=0.5)
    segment = to_segment(tone, SR)
    assert (segment.frame_rate, segment.channels, segment.sample_width) == (SR, 1, 2)
    assert len(segment) == 1000  # ms
    back = to_frames(segment, SR)
    np.testing.assert_allclose(back, tone, atol=1 / 32767)
    stereo = to_frames(segment, 22050, channels=2)
    assert stereo.shape == (22050, 2) and np.array_equal(stereo[:, 0], stereo[:, 1])
    with pytest.raises(RenderError, match="NaN"):
        to_segment(np.array([0.0, np.nan], np.float32), SR)


def test_importing_the_package_says_nothing_about_ffmpeg() -> None:
    code = ("import innerchild_audio, innerchild_audio.cli, innerchild_audio.audio_io as a; "
            "a.AudioSegment()")
    env = {**os.environ, "PATH": "/nonexistent"}  # no ffmpeg on the PATH at all
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True,
                          text=True, env=env, check=True)
    assert "ffmpeg" not in done.stderr and "ffprobe" not in done.stderr
