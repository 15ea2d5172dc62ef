"""Loudness and true peak measured in blocks agree with pyloudnorm and whole-signal upsampling."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
import reference_master
from audio_helpers import speech_clip, true_peak_dbtp
from scipy.signal import resample_poly

from innerchild_audio.master import meter


def varied(seconds: float, sample_rate: int, channels: int, seed: int = 0) -> np.ndarray:
    """Noise swelling from very quiet to loud, with quiet stretches the gates must drop."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    swell = np.linspace(0.001, 1.0, n) * (np.sin(np.linspace(0, 40, n)) > -0.5)
    x = 0.2 * rng.standard_normal((n, channels)) * swell[:, None]
    return x.astype(np.float32)


@pytest.mark.parametrize("sample_rate", [22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("seconds", [0.45, 3.3, 11.0])
def test_loudness_matches_pyloudnorm(sample_rate: int, channels: int, seconds: float) -> None:
    audio = varied(seconds, sample_rate, channels)
    if channels == 1:
        audio = audio[:, 0]
    expected = pyloudnorm.Meter(sample_rate).integrated_loudness(audio)
    assert meter.integrated_loudness(audio, sample_rate) == pytest.approx(expected, abs=1e-4)


def test_a_long_signal_measured_in_parts_matches_pyloudnorm() -> None:
    sr = 8000  # long enough to be cut in parts for two cores, small enough to be quick
    audio = varied(4 * meter.FILTER_CHUNK_FRAMES / sr + 30, sr, 1)[:, 0]
    expected = pyloudnorm.Meter(sr).integrated_loudness(audio)
    assert meter.integrated_loudness(audio, sr) == pytest.approx(expected, abs=1e-4)


def test_measuring_again_after_a_local_change_matches_a_fresh_measure() -> None:
    sr = 44100
    audio = varied(20, sr, 2)
    blocks = reference_master.LoudnessBlocks(audio, sr)
    audio[5 * sr: 6 * sr] *= 0.25
    blocks.update(audio, 5 * sr, 6 * sr)
    blocks.scale(0.5)
    audio *= 0.5
    expected = pyloudnorm.Meter(sr).integrated_loudness(audio)
    assert blocks.loudness() == pytest.approx(expected, abs=1e-4)


def test_silence_and_very_short_audio() -> None:
    sr = 44100
    assert meter.integrated_loudness(np.zeros(sr, np.float32), sr) == -math.inf
    assert meter.integrated_loudness(np.zeros(0, np.float32), sr) == -math.inf
    short = speech_clip(200, sr).samples  # under one 400 ms gating block
    value = meter.integrated_loudness(short, sr)
    assert math.isfinite(value)
    # one block spanning the clip: the same as pyloudnorm on the clip's exact length
    padded_meter = pyloudnorm.Meter(sr, block_size=len(short) / sr)
    assert value == pytest.approx(padded_meter.integrated_loudness(short), abs=0.05)


@pytest.mark.parametrize("channels", [1, 2])
def test_true_peak_matches_whole_signal_upsampling(channels: int) -> None:
    rng = np.random.default_rng(3)
    n = 3 * meter.PEAK_BLOCK_FRAMES * 7 + 123
    audio = (0.3 * rng.standard_normal((n, channels))).astype(np.float32)
    # an intersample peak: a near-Nyquist burst whose samples miss the crests
    t = np.arange(400)
    audio[5000:5400, 0] = 0.7 * np.sin(np.pi * 0.9 * t + 0.3)
    expected = float(np.max(np.abs(resample_poly(audio, 4, 1, axis=0))))
    assert meter.true_peak(audio) == pytest.approx(expected, rel=1e-6)
    assert meter.true_peak_dbtp(audio) == pytest.approx(true_peak_dbtp(audio), abs=1e-4)
    assert meter.true_peak(audio) > np.max(np.abs(audio))  # above the sample peak


def test_frames_over_a_threshold_are_found_exactly() -> None:
    rng = np.random.default_rng(4)
    audio = (0.05 * rng.standard_normal(50_000)).astype(np.float32)
    audio[[1000, 20_000, 49_990]] = [0.9, -0.8, 0.95]
    peaks = reference_master.PeakMap(audio)
    frames, values = peaks.over(0.5)
    upsampled = np.abs(resample_poly(audio, 4, 1)).reshape(-1, 4).max(axis=1)
    np.testing.assert_array_equal(frames, np.flatnonzero(upsampled > 0.5))
    np.testing.assert_allclose(values, upsampled[frames], rtol=1e-6)
    assert {1000, 20_000, 49_990} <= set(frames.tolist())
