"""The background bed: its level, ducking under the voice, fades, loops and changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import (
    TimelineBuilder,
    band_db,
    dominant_hz,
    max_jump,
    mono,
    rms_db,
    sine,
    speech_clip,
    window,
    write_audio,
)

from innerchild_audio.errors import RenderError
from innerchild_audio.mix import mix_session
from innerchild_audio.mix.bed import (
    DUCK_ATTACK_MS,
    DUCK_MERGE_GAP_MS,
    DUCK_RELEASE_MS,
    DuckEnvelope,
)
from innerchild_audio.mix.bed_sources import drone_loop
from innerchild_audio.mix.levels import NOMINAL_SPEECH_DB
from innerchild_audio.model import Background
from innerchild_audio.speech.base import Clip

SR = 44100


def bed_session(background: Background, *, gap_ms: int = 1200) -> TimelineBuilder:
    """Pause, two sentences `gap_ms` apart, a long pause, a sentence, a pause; bed throughout."""
    b = TimelineBuilder()
    b.pause(6000)
    b.say("First.", duration_ms=2000)
    b.pause(gap_ms, "sentence")
    b.say("Second.", duration_ms=2500)
    b.pause(8000)
    b.say("Third.", duration_ms=3000)
    b.pause(6000)
    b.bed(0, b.now_ms, background)
    return b


def silent_clips(b: TimelineBuilder) -> dict:
    """The same durations with no sound: the mix is then the bed alone."""
    return {r: Clip(np.zeros_like(c.samples), c.sample_rate) for r, c in b.clips.items()}


def speech_windows(b: TimelineBuilder) -> list[tuple[int, int]]:
    return [(e.start_ms, e.start_ms + e.duration_ms) for e in b.timeline().speech]


def test_the_bed_alone_fills_every_pause_at_its_level() -> None:
    background = Background("white-noise", volume_db=-20.0, fade_in_ms=2000, fade_out_ms=2000)
    b = bed_session(background)
    audio = mono(mix_session(b.timeline(), b.clips))
    expected = NOMINAL_SPEECH_DB + background.volume_db
    for event in b.timeline().events:
        if event.duration_ms >= 6000 and not hasattr(event, "request"):  # long pauses
            start, end = event.start_ms, event.start_ms + event.duration_ms
            # away from fades and duck ramps
            inner = window(audio, SR, max(start, 2500) + DUCK_RELEASE_MS + 100,
                           min(end, b.now_ms - 2500) - DUCK_ATTACK_MS - 100)
            assert rms_db(inner) == pytest.approx(expected, abs=0.3)


def test_no_true_silence_anywhere_under_the_bed() -> None:
    b = bed_session(Background("brown-noise", fade_in_ms=1000, fade_out_ms=1000))
    audio = mono(mix_session(b.timeline(), silent_clips(b)))
    body = window(audio, SR, 1000, b.now_ms - 1000)
    frames = body[: len(body) // 441 * 441].reshape(-1, 441)  # 10 ms frames
    assert np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)).min() > 10 ** (-80 / 20)
    assert np.count_nonzero(body == 0) < 10  # a zero crossing may land exactly on 0.0


@pytest.mark.parametrize("sound", ["white-noise", "pink-noise"])
def test_under_speech_the_bed_sits_duck_db_lower(sound: str) -> None:
    background = Background(sound, volume_db=-18.0, duck_db=6.0, fade_in_ms=1000,
                            fade_out_ms=1000)
    b = bed_session(background)
    bed_only = mono(mix_session(b.timeline(), silent_clips(b)))
    with_voice = mono(mix_session(b.timeline(), b.clips))
    pause_level = rms_db(window(bed_only, SR, 1500, 5500))
    for start, end in speech_windows(b):
        ducked = rms_db(window(bed_only, SR, start + 100, end - 100))
        assert ducked == pytest.approx(pause_level - 6.0, abs=0.5)
        # and the voice really sounds over it there
        assert rms_db(window(with_voice, SR, start + 100, end - 100)) > ducked + 10


def test_the_duck_envelope_is_exact_and_ramps_smoothly() -> None:
    ducking = Background("pink-noise", duck_db=9.0, fade_in_ms=1000, fade_out_ms=1000)
    b = bed_session(ducking)
    plain = mono(mix_session(b.timeline(), silent_clips(b),))
    b2 = bed_session(dataclasses.replace(ducking, duck_db=0.0))
    flat = mono(mix_session(b2.timeline(), silent_clips(b2)))
    # the same seeded noise both times: their ratio is the duck gain itself
    body = slice(SR * 2, len(flat) - SR * 2)
    gain_db = 20 * np.log10(np.abs(plain[body]) / np.abs(flat[body]))
    ms = (np.arange(len(gain_db)) + SR * 2) * 1000 / SR
    assert gain_db.max() == pytest.approx(0.0, abs=1e-3)
    assert gain_db.min() == pytest.approx(-9.0, abs=1e-3)
    for start, end in speech_windows(b):
        inside = (ms >= start) & (ms < end)
        assert np.allclose(gain_db[inside], -9.0, atol=1e-3)  # fully down while speaking
    merged = DuckEnvelope.from_speech(b.timeline().speech, SR).intervals
    assert len(merged) == 2  # the 1.2 s gap between the first two sentences stays ducked
    for start, end in merged:
        start_ms, end_ms = start * 1000 / SR, end * 1000 / SR
        before = (ms >= start_ms - DUCK_ATTACK_MS - 300) & (ms < start_ms - DUCK_ATTACK_MS)
        ramp_in = (ms >= start_ms - DUCK_ATTACK_MS) & (ms < start_ms)
        after = (ms >= end_ms + DUCK_RELEASE_MS) & (ms < end_ms + DUCK_RELEASE_MS + 300)
        assert np.allclose(gain_db[before], 0.0, atol=1e-3)  # up until the ramp
        assert np.all(np.diff(gain_db[ramp_in]) <= 1e-4)  # going down ahead of the voice
        assert np.allclose(gain_db[after], 0.0, atol=1e-3)  # back up after the release
    # smooth: the gain never moves more than a ramp's steepest slope per sample
    steepest = 9.0 * np.pi / 2 / (DUCK_ATTACK_MS * SR / 1000)
    assert np.max(np.abs(np.diff(gain_db))) < 1.05 * steepest


def test_short_gaps_between_sentences_stay_ducked_and_long_ones_do_not() -> None:
    background = Background("white-noise", duck_db=6.0, fade_in_ms=1000, fade_out_ms=1000)
    short = bed_session(background, gap_ms=1200)
    long = bed_session(background, gap_ms=DUCK_MERGE_GAP_MS + 2000)
    for b, expected in ((short, -6.0), (long, 0.0)):
        bed_only = mono(mix_session(b.timeline(), silent_clips(b)))
        first, second = speech_windows(b)[:2]
        gap = window(bed_only, SR, first[1] + DUCK_RELEASE_MS + 50,
                     second[0] - DUCK_ATTACK_MS - 50)
        reference = rms_db(window(bed_only, SR, 1500, 5500))
        assert rms_db(gap) - reference == pytest.approx(expected, abs=0.6)
    assert len(DuckEnvelope.from_speech(short.timeline().speech, SR).intervals) == 2
    assert len(DuckEnvelope.from_speech(long.timeline().speech, SR).intervals) == 3


def test_the_bed_fades_in_and_out() -> None:
    background = Background("white-noise", fade_in_ms=3000, fade_out_ms=4000)
    b = TimelineBuilder()
    b.pause(20000)
    b.bed(0, 20000, background)
    audio = mono(mix_session(b.timeline(), {}))
    assert audio[0] == 0.0
    full = rms_db(window(audio, SR, 8000, 12000))
    levels = [rms_db(window(audio, SR, t, t + 250)) for t in (0, 1000, 2000, 2750)]
    assert levels == sorted(levels) and levels[0] < full - 20 and levels[-1] > full - 1
    tail = [rms_db(window(audio, SR, t, t + 250)) for t in (16000, 17500, 19000, 19750)]
    assert tail == sorted(tail, reverse=True) and tail[-1] < full - 25
    assert abs(audio[-1]) < 1e-6


def test_a_bed_without_fades_still_starts_and_stops_without_a_step() -> None:
    b = TimelineBuilder()
    b.pause(3000)
    b.bed(0, 1500, Background("drone", fade_in_ms=0, fade_out_ms=0))
    b.bed(1500, 3000, Background("white-noise", fade_in_ms=0, fade_out_ms=0))
    audio = mono(mix_session(b.timeline(), {}))
    assert audio[0] == 0.0 and abs(audio[-1]) < 1e-6
    start = audio[: round(0.02 * SR)]
    assert max_jump(start) < 3 * 2 * np.pi * 330 / SR * np.abs(start).max() + 1e-6
    # the change to an unrelated sound is a short crossfade, not a cut: at the change the
    # drone carries on smoothly and the noise comes in from zero
    at = round(1.5 * SR)
    drone_step = max_jump(audio[at - 2000: at])
    assert abs(audio[at] - audio[at - 1]) < 3 * drone_step
    assert rms_db(audio[at + 200: at + 2000]) > rms_db(audio[at - 1000: at]) - 10


def test_a_change_to_another_sound_crossfades_at_a_steady_level() -> None:
    b = TimelineBuilder()
    b.pause(20000)
    b.bed(0, 10000, Background("white-noise", volume_db=-20.0, fade_in_ms=1000))
    b.bed(10000, 20000, Background("brown-noise", volume_db=-20.0, fade_in_ms=4000,
                                   fade_out_ms=1000))
    audio = mono(mix_session(b.timeline(), {}))
    level = NOMINAL_SPEECH_DB - 20.0
    # equal power: two unrelated noises keep the level steady all through the change
    for t in range(9000, 15000, 500):
        assert rms_db(window(audio, SR, t, t + 500)) == pytest.approx(level, abs=1.5), t
    # the old bed is gone once the new one has faded in: white noise's highs have left
    highs = [band_db(window(audio, SR, t, t + 1000), SR, 8000, 16000) for t in (8000, 15000)]
    assert highs[1] < highs[0] - 15


def test_after_a_change_only_the_new_sound_is_left() -> None:
    b = TimelineBuilder()
    b.pause(20000)
    second = Background("drone", volume_db=-20.0, fade_in_ms=4000, fade_out_ms=1000)
    b.bed(0, 10000, Background("pink-noise", volume_db=-20.0, fade_in_ms=1000))
    b.bed(10000, 20000, second)
    audio = mono(mix_session(b.timeline(), {}))
    alone = TimelineBuilder()
    alone.pause(20000)
    alone.bed(10000, 20000, dataclasses.replace(second, fade_in_ms=0))  # same start
    drone_only = mono(mix_session(alone.timeline(), {}))
    np.testing.assert_allclose(window(audio, SR, 14000, 18000),
                               window(drone_only, SR, 14000, 18000), atol=1e-6)
    mid = window(audio, SR, 11000, 13000)  # both sound during the crossfade
    assert rms_db(mid - window(drone_only, SR, 11000, 13000)) > NOMINAL_SPEECH_DB - 20 - 12
    assert dominant_hz(window(audio, SR, 14000, 18000), SR) == pytest.approx(110, abs=1)


def test_a_change_of_level_on_the_same_sound_glides() -> None:
    b = TimelineBuilder()
    b.pause(20000)
    b.bed(0, 10000, Background("pink-noise", volume_db=-20.0, fade_in_ms=1000))
    b.bed(10000, 20000, Background("pink-noise", volume_db=-30.0, fade_in_ms=3000,
                                   fade_out_ms=1000))
    audio = mono(mix_session(b.timeline(), {}))
    base = NOMINAL_SPEECH_DB
    assert rms_db(window(audio, SR, 3000, 9500)) == pytest.approx(base - 20, abs=0.5)
    assert rms_db(window(audio, SR, 13500, 18500)) == pytest.approx(base - 30, abs=0.5)
    steps = [rms_db(window(audio, SR, t, t + 500)) for t in range(9500, 13500, 500)]
    assert all(a >= b - 0.6 for a, b in zip(steps, steps[1:], strict=False))  # downhill
    assert steps[-1] < steps[0] - 8


def test_a_short_bed_file_loops_with_a_seamless_crossfade(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    noise = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    path = write_audio(tmp_path / "rain.wav", noise, SR)
    b = TimelineBuilder()
    b.pause(12000)
    b.bed(0, 12000, Background(str(path), fade_in_ms=500, fade_out_ms=500))
    audio = mono(mix_session(b.timeline(), {}))
    level = NOMINAL_SPEECH_DB - 20.0
    levels = [rms_db(window(audio, SR, t, t + 100)) for t in range(600, 11300, 100)]
    assert min(levels) > level - 2.5 and max(levels) < level + 2.5  # no dip, no bump


def test_a_looped_tone_has_no_step_at_the_seam(tmp_path: Path) -> None:
    tone = sine(1537, 220.0, SR, level=0.3)  # not a whole number of cycles: a naive loop jumps
    path = write_audio(tmp_path / "tone.flac", tone, SR)
    b = TimelineBuilder()
    b.pause(8000)
    b.bed(0, 8000, Background(str(path), fade_in_ms=200, fade_out_ms=200))
    audio = mono(mix_session(b.timeline(), {}))
    peak = np.max(np.abs(audio))
    assert max_jump(audio) < 1.5 * 2 * np.pi * 220 / SR * peak


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".ogg", ".flac"])
def test_bed_files_in_every_format_play_at_the_bed_level(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(9)
    noise = (0.05 * rng.standard_normal(6 * SR)).astype(np.float32)
    path = write_audio(tmp_path / f"bed{suffix}", noise, SR)
    b = TimelineBuilder()
    b.pause(5000)
    b.bed(0, 5000, Background(str(path), volume_db=-15.0, fade_in_ms=500, fade_out_ms=500))
    audio = mono(mix_session(b.timeline(), {}))
    assert rms_db(window(audio, SR, 1000, 4000)) == pytest.approx(NOMINAL_SPEECH_DB - 15,
                                                                   abs=1.0)


def test_a_silent_bed_file_is_a_render_error(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "nothing.wav", np.zeros(SR, np.float32), SR)
    b = TimelineBuilder()
    b.pause(3000)
    b.bed(0, 3000, Background(str(path)))
    with pytest.raises(RenderError, match="silent"):
        mix_session(b.timeline(), {})


def test_noise_colours_have_their_slopes() -> None:
    slopes = {}
    for sound in ("white-noise", "pink-noise", "brown-noise"):
        b = TimelineBuilder()
        b.pause(12000)
        b.bed(0, 12000, Background(sound, fade_in_ms=100, fade_out_ms=100))
        audio = window(mono(mix_session(b.timeline(), {})), SR, 1000, 11000)
        slopes[sound] = band_db(audio, SR, 1600, 3200) - band_db(audio, SR, 100, 200)
    # power per hertz over four octaves: flat, -3 dB and -6 dB per octave
    assert slopes["white-noise"] == pytest.approx(0, abs=1.0)
    assert slopes["pink-noise"] == pytest.approx(-12, abs=2.0)
    assert slopes["brown-noise"] == pytest.approx(-24, abs=3.0)


def test_the_drone_loop_is_seamless() -> None:
    loop = drone_loop(SR)
    seam = np.concatenate([loop[-1000:], loop[:1000]])
    assert max_jump(seam) <= max_jump(loop) + 1e-6
    assert rms_db(loop) == pytest.approx(0.0, abs=0.01)


def test_speech_over_a_bed_keeps_its_windows() -> None:
    b = bed_session(Background("brown-noise"))
    b.say("Last words.", speech_clip(1000))
    timeline = b.timeline()
    audio = mix_session(timeline, b.clips)
    assert audio.shape == (round(timeline.total_ms * SR / 1000), 1)
