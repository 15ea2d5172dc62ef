"""Streaming mastering: the loudness meter, the limiter and the two-pass master, block by block."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from audio_helpers import TimelineBuilder, loudness_lufs, max_jump, speech_clip, true_peak_dbtp
from reference_master import MP3_HEADROOM_DB, LoudnessBlocks, PeakMap, limit, master

import innerchild_audio.master as master_module
from innerchild_audio.errors import RenderError
from innerchild_audio.master import limiter as limiter_module
from innerchild_audio.master import master_stream
from innerchild_audio.master.limiter import StreamLimiter
from innerchild_audio.master.meter import LoudnessMeter
from innerchild_audio.mix import Mixer
from innerchild_audio.model import Background

SR = 44100


@pytest.fixture(autouse=True)
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """These short test mixes take the streaming path, as a long session does; a short
    session's in-memory correction is tested on its own (settle_*)."""
    monkeypatch.setattr(master_module, "SETTLE_MAX_S", 0)


class ArrayMix:
    """A mono mix held in an array, handed out block by block like a Mixer."""

    def __init__(self, samples: np.ndarray, channels: int = 1):
        self.samples = samples
        self.sample_rate = SR
        self.channels = channels
        self.frames = len(samples)
        self.passes = 0

    def blocks(self, block_frames: int):
        self.passes += 1
        for start in range(0, self.frames, block_frames):
            yield self.samples[start: start + block_frames].copy()


def pulses(seconds: float = 30.0) -> np.ndarray:
    """Voiced bursts whose harmonics line up in sharp pulses: limiting them costs loudness."""
    rng = np.random.default_rng(2)
    n = round(seconds * SR)
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(120 * (1 + 0.1 * np.sin(2 * np.pi * 0.3 * t))) / SR
    wave = sum(np.cos(k * phase) for k in range(1, 25))
    words = np.clip(np.sin(2 * np.pi * 0.5 * t), 0, None) ** 0.5
    signal = wave * words + 0.01 * rng.standard_normal(n)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


def session() -> TimelineBuilder:
    b = TimelineBuilder()
    b.pause(2000)
    b.bell(duration_ms=7000)
    for i in range(8):
        b.say(f"Sentence {i}.", speech_clip(2500, 22050, pitch_hz=110 + 7 * i, seed=i))
        b.pause(1200 if i % 3 else 3000)
    b.bed(0, b.now_ms, Background("brown-noise", fade_in_ms=2000, fade_out_ms=3000))
    return b


def run(stream) -> np.ndarray:
    return np.concatenate(list(stream.blocks()))


# --- the meter ----------------------------------------------------------------------

@pytest.mark.parametrize("block_frames", [1000, 4096, 1 << 18])
def test_the_meter_fed_in_blocks_agrees_with_pyloudnorm(block_frames: int) -> None:
    audio = pulses(12.0)
    stereo = np.stack([audio, np.roll(audio, 999) * np.float32(0.5)], axis=1)
    for signal, channels in ((audio, 1), (stereo, 2)):
        meter = LoudnessMeter(SR, len(signal), channels)
        for start in range(0, len(signal), block_frames):
            meter.add(signal[start: start + block_frames])
        expected = pyloudnorm.Meter(SR).integrated_loudness(signal)
        assert meter.loudness() == pytest.approx(expected, abs=1e-6)
        assert meter.loudness() == pytest.approx(LoudnessBlocks(signal, SR).loudness(), abs=1e-9)


def test_the_meter_needs_every_frame_it_was_promised() -> None:
    meter = LoudnessMeter(SR, SR)
    meter.add(np.zeros(SR // 2, np.float32))
    with pytest.raises(ValueError, match="of 44100 frames"):
        meter.loudness()
    with pytest.raises(ValueError, match="more than"):
        meter.add(np.zeros(SR, np.float32))


# --- the limiter --------------------------------------------------------------------

def limited_whole(audio: np.ndarray, ceiling: float) -> np.ndarray:
    """The whole-array limiter, pass after pass until nothing is over (as master does)."""
    frames = audio[:, np.newaxis].copy()
    peaks = PeakMap(frames)
    for _ in range(6):
        if peaks.true_peak() <= ceiling:
            break
        over, values = peaks.over(ceiling)
        if len(over) == 0:
            break
        for start, stop in limit(frames, over, values, ceiling, SR):
            peaks.refresh(start, stop)
    return frames[:, 0]


def limited_stream(audio: np.ndarray, ceiling: float, block_frames: int
                   ) -> tuple[np.ndarray, StreamLimiter]:
    limiter = StreamLimiter(ceiling, SR)
    out = [limiter.push(audio[s: s + block_frames].copy())
           for s in range(0, len(audio), block_frames)]
    return np.concatenate([*out, limiter.finish()]), limiter


def test_the_streaming_limiter_is_the_whole_array_limiter() -> None:
    audio = pulses(20.0) * np.float32(3.0)  # true peak about -1 dBTP
    ceiling = 10 ** (-4.0 / 20)
    whole = limited_whole(audio, ceiling)
    streamed, limiter = limited_stream(audio, ceiling, 1 << 16)
    assert limiter.limited_frames > 100
    assert len(streamed) == len(audio)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)
    assert true_peak_dbtp(streamed) <= -4.0 + 0.001
    assert 20 * math.log10(limiter.true_peak) == pytest.approx(true_peak_dbtp(streamed), abs=1e-4)
    assert max_jump(streamed) < 2 * max_jump(audio)  # rounded off, not clipped


def test_later_stages_limit_what_the_first_left_over(monkeypatch: pytest.MonkeyPatch) -> None:
    # without its margin a stage leaves peaks a hair over the ceiling: the next stages
    # take them, as the whole-array limiter's later passes do
    monkeypatch.setattr(limiter_module, "LIMIT_MARGIN_DB", 0.0)
    audio = pulses(12.0) * np.float32(3.0)
    ceiling = 10 ** (-4.0 / 20)
    streamed, limiter = limited_stream(audio, ceiling, 1 << 16)
    counts = [stage.limited_frames for stage in limiter._stages]
    assert counts[0] > 1000 and counts[1] > 0
    np.testing.assert_allclose(streamed, limited_whole(audio, ceiling), atol=1e-6)
    assert limiter.true_peak <= ceiling * 1.0001
    assert true_peak_dbtp(streamed) <= -4.0 + 0.001


@pytest.mark.parametrize("block_frames", [4096, 4096 * 5, 1 << 18])
def test_the_streaming_limiter_does_not_depend_on_the_block_size(block_frames: int) -> None:
    audio = pulses(12.0) * np.float32(3.0)
    ceiling = 10 ** (-4.0 / 20)
    reference, _ = limited_stream(audio, ceiling, 4096 * 3)
    streamed, limiter = limited_stream(audio, ceiling, block_frames)
    np.testing.assert_array_equal(streamed, reference)


def test_quiet_audio_passes_the_limiter_untouched() -> None:
    audio = pulses(5.0) * np.float32(0.5)
    streamed, limiter = limited_stream(audio, 0.9, 4096 * 4)
    np.testing.assert_array_equal(streamed, audio)
    assert limiter.limited_frames == 0
    assert 20 * math.log10(limiter.true_peak) == pytest.approx(true_peak_dbtp(audio), abs=1e-4)


# --- the two-pass master ------------------------------------------------------------

@pytest.mark.parametrize(("channels", "target"), [(1, -19.0), (2, -16.0)])
def test_a_mixer_mastered_in_two_passes(channels: int, target: float) -> None:
    b = session()
    mixer = Mixer(b.timeline(), b.clips, channels=channels)
    stream = master_stream(mixer, headroom_db=MP3_HEADROOM_DB)
    assert stream.loudness_lufs is None and stream.true_peak_dbtp is None  # not made yet
    out = run(stream)
    assert out.shape == (mixer.frames, channels) and out.dtype == np.float32
    if channels == 2:
        np.testing.assert_array_equal(out[:, 0], out[:, 1])
    measured = loudness_lufs(out, SR)
    assert measured == pytest.approx(target, abs=0.5)
    assert stream.loudness_lufs == pytest.approx(measured, abs=0.01)
    assert true_peak_dbtp(out) <= -1.0 - MP3_HEADROOM_DB + 0.001
    assert stream.true_peak_dbtp == pytest.approx(true_peak_dbtp(out), abs=0.01)
    # the same gain as the whole-array master, and the same audio where nothing was limited
    whole = master(mix_all(mixer), SR)
    assert stream.gain_db == pytest.approx(whole.gain_db, abs=0.05)


def mix_all(mixer: Mixer) -> np.ndarray:
    mono = np.concatenate(list(mixer.blocks()))
    return np.repeat(mono[:, np.newaxis], mixer.channels, axis=1)


def test_what_limiting_takes_is_made_up_from_the_first_pass() -> None:
    audio = pulses()
    initial_gain = -19.0 - loudness_lufs(audio, SR)
    limiter = StreamLimiter(10 ** ((-1.0 - MP3_HEADROOM_DB) / 20), SR)
    plain = np.concatenate([limiter.push(audio * np.float32(10 ** (initial_gain / 20))),
                            limiter.finish()])
    assert loudness_lufs(plain, SR) < -19.5  # limiting alone would miss the target
    mix = ArrayMix(audio)
    stream = master_stream(mix, headroom_db=MP3_HEADROOM_DB)
    out = run(stream)[:, 0]
    assert mix.passes == 2
    assert stream.gain_db > initial_gain + 0.5
    assert loudness_lufs(out, SR) == pytest.approx(-19.0, abs=0.15)
    assert true_peak_dbtp(out) <= -1.0 - MP3_HEADROOM_DB + 0.001


@pytest.mark.parametrize("seconds", [6.0, 30.0])
def test_settle_corrects_a_short_session_by_what_the_limiter_really_took(
        monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    # streamed (the fixture's setting): the first pass's forecast alone sets the gain
    forecast_only = run(master_stream(ArrayMix(pulses(seconds)),
                                      headroom_db=MP3_HEADROOM_DB))[:, 0]
    monkeypatch.setattr(master_module, "SETTLE_MAX_S", 180)
    mix = ArrayMix(pulses(seconds))
    stream = master_stream(mix, headroom_db=MP3_HEADROOM_DB)
    forecast_gain = stream.gain_db
    assert stream.settle() == stream.gain_db  # the gain a preview reads, before any block
    out = run(stream)[:, 0]
    assert 2 < mix.passes <= 2 + master_module.SETTLE_STEPS
    assert stream.gain_db != forecast_gain
    # the forecast alone misses by more than the tolerance; settled, the target is met
    assert abs(loudness_lufs(forecast_only, SR) + 19.0) > 0.05
    assert loudness_lufs(out, SR) == pytest.approx(-19.0, abs=0.05)
    assert stream.loudness_lufs == pytest.approx(loudness_lufs(out, SR), abs=0.01)
    assert true_peak_dbtp(out) <= -1.0 - MP3_HEADROOM_DB + 0.001


def test_a_session_longer_than_the_settling_limit_streams_in_two_passes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master_module, "SETTLE_MAX_S", 10)
    mix = ArrayMix(pulses(12.0))
    run(master_stream(mix, headroom_db=MP3_HEADROOM_DB))
    assert mix.passes == 2


@pytest.mark.parametrize("target", [-14.0, -23.0])
@pytest.mark.parametrize("ceiling", [-1.0, -2.0])
def test_configured_targets(target: float, ceiling: float) -> None:
    b = session()
    mixer = Mixer(b.timeline(), b.clips)
    out = run(master_stream(mixer, target_lufs=target, true_peak_dbtp=ceiling,
                         headroom_db=MP3_HEADROOM_DB))
    assert loudness_lufs(out, SR) == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp(out) <= ceiling - MP3_HEADROOM_DB + 0.001


def test_silence_and_short_audio() -> None:
    silent = master_stream(ArrayMix(np.zeros(SR * 2, np.float32)), headroom_db=MP3_HEADROOM_DB)
    out = run(silent)
    assert silent.gain_db == 0.0 and not out.any()
    assert silent.loudness_lufs == -math.inf and silent.true_peak_dbtp == -math.inf
    # shorter than one gating block
    short = master_stream(ArrayMix(pulses(0.3)), headroom_db=MP3_HEADROOM_DB)
    out = run(short)
    assert len(out) == round(0.3 * SR)
    # measured as one block spanning it all, as master measures it
    assert short.loudness_lufs == pytest.approx(LoudnessBlocks(out, SR).loudness(), abs=1e-6)
    assert short.loudness_lufs == pytest.approx(-19.0, abs=0.5)
    assert true_peak_dbtp(out) <= -1.0 - MP3_HEADROOM_DB + 0.001


def test_nan_in_the_mix_is_found_in_the_first_pass() -> None:
    audio = pulses(10.0)
    audio[SR * 7] = np.nan
    with pytest.raises(RenderError, match="NaN or infinity near frame 308700"):
        master_stream(ArrayMix(audio))
