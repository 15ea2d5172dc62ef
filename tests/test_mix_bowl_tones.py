"""Bells, breathing tones, sound steps, and reading audio files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_helpers import (
    TimelineBuilder,
    dominant_hz,
    max_jump,
    mono,
    peak_db,
    rms_db,
    sine,
    window,
    write_audio,
)

from innerchild_audio.mix import mix_session
from innerchild_audio.mix.bowl_tones import (
    BELL_PEAK_DB,
    BOWL_FUNDAMENTAL_HZ,
    BOWL_PARTIALS,
    bowl_strike,
    breath_tone,
)
from innerchild_audio.timeline import BELL_RING_MS, TONE_LEVEL_DB

SR = 44100


# --- the singing bowl ---------------------------------------------------------------

def test_a_strike_rings_out_and_decays_to_silence() -> None:
    strike = bowl_strike(SR)
    assert len(strike) == round(BELL_RING_MS * SR / 1000)
    assert peak_db(strike) == pytest.approx(BELL_PEAK_DB, abs=0.01)
    seconds = [rms_db(strike[s * SR: (s + 1) * SR]) for s in range(BELL_RING_MS // 1000)]
    assert all(a > b for a, b in zip(seconds, seconds[1:], strict=False))  # decaying
    assert seconds[0] - seconds[-1] > 30
    assert strike[0] == 0.0 and strike[-1] == 0.0


def test_the_strike_has_a_soft_attack() -> None:
    strike = bowl_strike(SR)
    attack = np.abs(strike[: round(0.005 * SR)])
    assert attack.max() < 0.3 * np.abs(strike).max()  # not at full force in the first 5 ms
    assert max_jump(strike) < 0.1 * np.abs(strike).max()


def test_the_bowl_is_inharmonic() -> None:
    strike = bowl_strike(SR)[: 2 * SR].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(strike * np.hanning(len(strike))))
    freqs = np.fft.rfftfreq(len(strike), 1 / SR)
    for ratio, *_ in BOWL_PARTIALS[:3]:
        target = BOWL_FUNDAMENTAL_HZ * ratio
        near = (freqs > target - 10) & (freqs < target + 10)
        elsewhere = (freqs > target + 40) & (freqs < target + 100)
        assert spectrum[near].max() > 10 * spectrum[elsewhere].max()
    assert dominant_hz(strike, SR) == pytest.approx(BOWL_FUNDAMENTAL_HZ, abs=2)


def test_bell_strikes_sound_at_their_gaps_and_stay_in_their_window() -> None:
    b = TimelineBuilder()
    b.pause(1000)
    bell = b.bell(strikes=3, gap_ms=2000, duration_ms=2 * 2000 + BELL_RING_MS)
    b.pause(2000)
    audio = mono(mix_session(b.timeline(), {}))
    for k in range(3):
        at = bell.start_ms + k * 2000
        before = rms_db(window(audio, SR, at - 200, at))
        after = rms_db(window(audio, SR, at + 20, at + 220))
        assert after > before + 3 or k == 0, k  # each strike adds a fresh onset
    assert np.count_nonzero(window(audio, SR, 0, bell.start_ms)) == 0
    tail = window(audio, SR, bell.start_ms + bell.duration_ms, b.now_ms)
    assert np.count_nonzero(tail) == 0


def test_a_bell_cut_short_by_its_window_fades_instead_of_clicking() -> None:
    b = TimelineBuilder()
    bell = b.bell(strikes=1, duration_ms=1500)  # shorter than the ring-out
    b.pause(1000)
    audio = mono(mix_session(b.timeline(), {}))
    end = round((bell.start_ms + bell.duration_ms) * SR / 1000)
    assert abs(audio[end - 1]) < 1e-4
    assert max_jump(audio) < 0.1 * np.abs(audio).max()


def test_a_bell_sound_file_plays_once_per_strike(tmp_path: Path) -> None:
    ding = sine(800, 660.0, SR, level=0.9)
    path = write_audio(tmp_path / "ding.wav", ding, SR)
    b = TimelineBuilder()
    bell = b.bell(strikes=2, gap_ms=1500, duration_ms=1500 + 800, sound=path)
    b.pause(500)
    audio = mono(mix_session(b.timeline(), {}))
    for at in (0, 1500):
        strike = window(audio, SR, bell.start_ms + at + 20, bell.start_ms + at + 780)
        assert peak_db(strike) == pytest.approx(BELL_PEAK_DB, abs=0.2)  # levelled like the bowl
        assert dominant_hz(strike, SR) == pytest.approx(660, abs=3)
    assert np.count_nonzero(window(audio, SR, 850, 1450)) == 0  # silent between strikes


# --- breathing tones ----------------------------------------------------------------

@pytest.mark.parametrize("rising", [True, False])
def test_breath_tones_glide_and_stay_soft(rising: bool) -> None:
    tone = breath_tone(4 * SR, SR, rising=rising)
    first, last = dominant_hz(tone[: SR], SR), dominant_hz(tone[-SR:], SR)
    assert (last > first * 1.2) if rising else (first > last * 1.2)
    assert peak_db(tone) == pytest.approx(TONE_LEVEL_DB, abs=0.1)
    assert tone[0] == 0.0 and tone[-1] == 0.0
    assert max_jump(tone) < 2 * np.pi * 300 / SR * np.abs(tone).max() * 1.05


def test_tone_events_are_mixed_in_their_window() -> None:
    b = TimelineBuilder()
    b.pause(500)
    phase = b.breath("in", 4000, tone=True)
    b.breath("hold", 2000)
    audio = mono(mix_session(b.timeline(), {}))
    inner = window(audio, SR, phase.start_ms + 1000, phase.start_ms + 3000)
    assert rms_db(inner) == pytest.approx(TONE_LEVEL_DB - 3.01, abs=0.5)
    assert np.count_nonzero(window(audio, SR, 4500, 6500)) == 0  # holds are silent


# --- sound steps --------------------------------------------------------------------

def test_a_sound_plays_at_its_gain_and_is_clipped_to_its_event(tmp_path: Path) -> None:
    chime = sine(3000, 523.25, SR, level=0.4)
    path = write_audio(tmp_path / "chime.flac", chime, SR)
    b = TimelineBuilder()
    b.pause(500)
    event = b.sound(path, 2000, gain_db=-6.0)
    b.pause(1000)
    audio = mono(mix_session(b.timeline(), {}))
    inner = window(audio, SR, event.start_ms + 100, event.start_ms + 1900)
    assert rms_db(inner) == pytest.approx(rms_db(chime) - 6.0, abs=0.1)
    assert np.count_nonzero(window(audio, SR, 2500, 3500)) == 0  # cut at the event's end
    edge = round(event.start_ms * SR / 1000)
    assert abs(audio[edge]) < 1e-6 and abs(audio[round(2500 * SR / 1000) - 1]) < 1e-3
    assert max_jump(audio) < 2 * np.pi * 523.25 / SR * 0.2 * 1.05


