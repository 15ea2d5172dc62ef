"""master: loudness to target, true peak under the ceiling, limiting without clipping."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import (
    TimelineBuilder,
    loudness_lufs,
    max_jump,
    speech_clip,
    true_peak_dbtp,
)
from reference_master import MP3_HEADROOM_DB, MasterResult, identical_channels, master

from innerchild_audio.errors import RenderError
from innerchild_audio.mix import mix_session
from innerchild_audio.model import Background

SR = 44100


def session(seconds_of_speech: int = 30, channels: int = 1) -> np.ndarray:
    """A mixed session: sentences, pauses, a bell and a brown-noise bed."""
    b = TimelineBuilder()
    b.pause(2000)
    b.bell(duration_ms=7000)
    for i in range(seconds_of_speech // 3):
        b.say(f"Sentence {i}.", speech_clip(2500, 22050, pitch_hz=110 + 7 * i, seed=i))
        b.pause(1200 if i % 3 else 3000)
    b.bed(0, b.now_ms, Background("brown-noise", fade_in_ms=2000, fade_out_ms=3000))
    return mix_session(b.timeline(), b.clips, channels=channels)


def peaky(seconds: float = 20.0) -> np.ndarray:
    """Quiet speech-like audio with sharp transients far above it (a crest factor of ~30 dB)."""
    rng = np.random.default_rng(11)
    n = round(seconds * SR)
    t = np.arange(n) / SR
    audio = 0.05 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    for at in rng.integers(SR, n - SR, 25):
        click = np.exp(-np.arange(300) / 40.0) * np.sin(np.arange(300) * 2.2)
        audio[at: at + 300] += 0.9 * click
    return audio.astype(np.float32)[:, np.newaxis]


@pytest.mark.parametrize(("channels", "target"), [(1, -19.0), (2, -16.0)])
def test_default_targets_are_met_within_half_a_lu(channels: int, target: float) -> None:
    result = master(session(channels=channels), SR)
    assert isinstance(result, MasterResult)
    assert result.audio.shape[1] == channels and result.audio.dtype == np.float32
    measured = loudness_lufs(result.audio, SR)
    assert measured == pytest.approx(target, abs=0.5)
    assert result.loudness_lufs == pytest.approx(measured, abs=0.01)
    assert true_peak_dbtp(result.audio) <= -1.0
    assert result.true_peak_dbtp == pytest.approx(true_peak_dbtp(result.audio), abs=0.01)


def test_true_stereo_is_measured_channel_by_channel() -> None:
    left = session()[:, 0]
    right = np.roll(left, 7000) * np.float32(0.5)  # a different right channel
    stereo = np.stack([left, right], axis=1)
    assert not identical_channels(stereo) and identical_channels(np.stack([left, left], 1))
    result = master(stereo, SR)
    assert loudness_lufs(result.audio, SR) == pytest.approx(-16.0, abs=0.5)
    assert result.loudness_lufs == pytest.approx(loudness_lufs(result.audio, SR), abs=0.01)
    assert true_peak_dbtp(result.audio) <= -1.0


@pytest.mark.parametrize("target", [-14.0, -23.0])
@pytest.mark.parametrize("ceiling", [-1.0, -2.0])
def test_configured_targets(target: float, ceiling: float) -> None:
    result = master(session(), SR, target_lufs=target, true_peak_dbtp=ceiling)
    assert loudness_lufs(result.audio, SR) == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp(result.audio) <= ceiling - MP3_HEADROOM_DB + 0.01


def test_peaks_are_limited_smoothly_not_clipped() -> None:
    audio = peaky()
    result = master(audio, SR, target_lufs=-16.0)
    out = result.audio[:, 0]
    assert true_peak_dbtp(result.audio) <= -1.0 - MP3_HEADROOM_DB + 0.01
    assert loudness_lufs(result.audio, SR) == pytest.approx(-16.0, abs=0.5)
    # the gain applied, frame by frame: smooth, and only lowered around the transients
    steady = np.abs(audio[:, 0]) > 1e-3
    scaled = audio[steady, 0].astype(np.float64) * 10 ** (result.gain_db / 20)
    gain_db = 20 * np.log10(out[steady] / scaled)
    assert gain_db.max() <= 1e-4  # the limiter only ever takes away
    assert gain_db.min() < -3  # and here it had to
    assert np.mean(gain_db > -0.01) > 0.5  # most of the audio is untouched
    # a clipper would flatten the tops: the limited peaks keep their shape
    top = np.sort(np.abs(out))[-50:]
    assert top[-1] - top[0] > 1e-3
    assert max_jump(out) < max_jump(audio[:, 0] * 10 ** (result.gain_db / 20))


def test_a_mix_over_full_scale_comes_out_unclipped_and_under_the_ceiling() -> None:
    hot = session() * np.float32(8.0)  # peaks far past 1.0, as a careless mix might have
    assert np.abs(hot).max() > 1.0
    result = master(hot, SR)
    assert np.abs(result.audio).max() < 10 ** (-1.0 / 20)
    assert loudness_lufs(result.audio, SR) == pytest.approx(-19.0, abs=0.5)


def test_limiting_costs_no_loudness_beyond_the_tolerance() -> None:
    result = master(peaky(), SR, target_lufs=-14.0)
    assert result.loudness_lufs == pytest.approx(-14.0, abs=0.1)
    assert loudness_lufs(result.audio, SR) == pytest.approx(-14.0, abs=0.1)


def test_silence_is_left_alone() -> None:
    result = master(np.zeros((SR * 2, 1), np.float32), SR)
    assert result.gain_db == 0.0
    assert result.loudness_lufs == -math.inf and result.true_peak_dbtp == -math.inf
    assert not result.audio.any()


def test_audio_shorter_than_a_gating_block_is_mastered() -> None:
    clip = speech_clip(300, SR).samples
    result = master(clip, SR)
    assert result.audio.shape == clip.shape
    assert math.isfinite(result.loudness_lufs)
    assert true_peak_dbtp(result.audio) <= -1.0


def test_in_place_masters_the_given_buffer_and_copy_leaves_it() -> None:
    audio = session(seconds_of_speech=9)
    original = audio.copy()
    copied = master(audio, SR)
    np.testing.assert_array_equal(audio, original)
    assert copied.audio is not audio
    in_place = master(audio, SR, in_place=True)
    assert in_place.audio is audio
    np.testing.assert_array_equal(in_place.audio, copied.audio)


def test_mono_one_dimensional_audio_keeps_its_shape() -> None:
    audio = session(seconds_of_speech=9)[:, 0]
    result = master(audio, SR)
    assert result.audio.shape == audio.shape
    assert loudness_lufs(result.audio, SR) == pytest.approx(-19.0, abs=0.5)


def test_bad_input_is_a_render_error() -> None:
    with pytest.raises(RenderError):
        master(np.zeros((10, 3), np.float32), SR)
    with pytest.raises(RenderError):
        master(np.zeros(10, np.int16), SR)
    broken = np.zeros(SR, np.float32)
    broken[5] = np.nan
    with pytest.raises(RenderError, match="NaN"):
        master(broken, SR)


def test_the_decoded_mp3_still_meets_the_ceiling(tmp_path: Path) -> None:
    from innerchild_audio.audio_io import decode_mp3
    from innerchild_audio.export.mp3 import encode_mp3

    result = master(np.concatenate([session(), peaky()]), SR)
    path = tmp_path / "session.mp3"
    encode_mp3(result.audio, SR, path, bitrate_kbps=96)
    decoded = decode_mp3(path, channels=1)
    assert true_peak_dbtp(decoded) <= -1.0
    assert loudness_lufs(decoded, SR) == pytest.approx(-19.0, abs=0.5)
