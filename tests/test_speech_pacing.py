"""Calm pace from silence: phrase pauses at the punctuation, word gaps, the stretch limit.

Real renders with the offline voices, decoded from the MP3 and measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.model import Voice
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.render import render_script
from innerchild_audio.speech.hibari_engine import HibariEngine
from innerchild_audio.speech.pacing import Pace, max_wpm, phrases, speak_sentence
from innerchild_audio.speech.piper_engine import PACE as JOE
from innerchild_audio.speech.piper_engine import PiperEngine
from innerchild_audio.speech.silence import pauses
from innerchild_audio.timeline import SpeechEvent

RATE = 44100


def test_phrases_split_at_commas_semicolons_colons_and_dashes_only():
    assert phrases("Breathe slowly, and rest; you are here: safe — and whole.") == [
        "Breathe slowly,", "and rest;", "you are here:", "safe,", "and whole."]
    assert phrases("About 1,000 steps.") == ["About 1,000 steps."]
    assert phrases("A well-worn path.") == ["A well-worn path."]


def test_stretch_never_passes_the_voice_limit_and_short_sentences_get_it():
    assert JOE.stretch(0.5, words=12) == JOE.max_stretch == 1.4
    pace = Pace(stretch_at_rate_1=1.1, max_stretch=1.3)
    assert pace.stretch(1.0, words=12) == pytest.approx(1.1)
    assert pace.stretch(1.0, words=3) == 1.3  # "You are safe." is not hurried
    assert pace.stretch(0.8, words=12) == 1.3


def _fake_voice(phrase: str, stretch: float) -> np.ndarray:
    """A tone per word (45 ms a letter x stretch), 20 ms of quiet between words: a fast voice."""
    gap = np.zeros(160, dtype=np.float32)
    parts = []
    for word in phrase.split():
        length = int(0.045 * (len(word) + 1) * stretch * 8000)
        parts += [np.sin(np.arange(length) * 0.3).astype(np.float32) * 0.5, gap]
    return np.concatenate(parts[:-1])


def test_a_fast_sentence_gets_gaps_between_its_words_up_to_the_pace_the_rate_asks():
    text = "Let your shoulders soften and your hands rest where they are"
    voice = Voice(rate=0.9, phrase_pause_ms=0)
    samples = speak_sentence(text, voice, Pace(1.0, 1.0), _fake_voice, 8000)
    wpm = len(text.split()) * 60 / (len(samples) / 8000)
    assert wpm == pytest.approx(max_wpm(0.9), rel=0.02)
    gaps = pauses(samples, 8000, min_ms=60)
    assert len(gaps) == len(text.split()) - 1  # one gap at each word boundary
    # the words themselves are the voice's own: the sound adds up to the same
    voiced = np.count_nonzero(np.abs(_fake_voice(text, 1.0)) > 1e-3)
    assert abs(np.count_nonzero(np.abs(samples) > 1e-3) - voiced) < 0.02 * voiced


def test_a_slower_rate_means_more_silence_not_more_stretch():
    text = "Let your shoulders soften and your hands rest where they are"
    quick = speak_sentence(text, Voice(rate=1.0, phrase_pause_ms=0), Pace(1.2, 1.2),
                           _fake_voice, 8000)
    slow = speak_sentence(text, Voice(rate=0.8, phrase_pause_ms=0), Pace(1.2, 1.2),
                          _fake_voice, 8000)
    assert len(slow) / len(quick) == pytest.approx(1.0 / 0.8, rel=0.03)
    loud = lambda s: np.count_nonzero(np.abs(s) > 1e-3)  # noqa: E731
    assert loud(slow) == pytest.approx(loud(quick), rel=0.02)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[tuple[str, int], tuple[Path, object]]:
    """One sentence with a comma, spoken by each offline voice with and without phrase pause."""
    base = tmp_path_factory.mktemp("pacing")
    cache = base / "cache"
    found = {}
    for engine in ("piper", "hibari"):
        for pause_ms in (0, 900):
            script = base / f"{engine}-{pause_ms}.yaml"
            script.write_text(
                "title: Comma\nlead_in: 0\ntail: 0\n"
                f"voice: {{engine: {engine}, rate: 1.0, phrase_pause: {pause_ms}ms}}\n"
                "steps:\n  - say: Breathe in slowly, and let your shoulders soften.\n",
                encoding="utf-8")
            result = render_script(script, RenderOptions(warnings=False),
                                   RunSettings(out_dir=base / "out", cache_dir=cache))
            found[engine, pause_ms] = (result.mp3_path, result.timeline)
    return found


@pytest.mark.parametrize("engine", ["piper", "hibari"])
def test_the_phrase_pause_is_silence_in_the_mp3_where_the_comma_is(renders, engine):
    mp3, timeline = renders[engine, 900]
    audio = decode_mp3(mp3)
    audio = audio if audio.ndim == 1 else audio[:, 0]
    (speech,) = [e for e in timeline.events if isinstance(e, SpeechEvent)]
    start = speech.start_ms * RATE // 1000
    inside = audio[start:start + speech.duration_ms * RATE // 1000]
    gaps = [(a / RATE, (b - a) / RATE) for a, b in pauses(inside, RATE, min_ms=700)]
    assert len(gaps) == 1, gaps  # one long silence, at the one comma
    at, length = gaps[0]
    assert 0.85 <= length <= 1.2
    # "Breathe in slowly," is three of the sentence's nine words: the comma comes early
    assert 0.2 * speech.duration_ms / 1000 < at < 0.5 * speech.duration_ms / 1000

    plain_mp3, plain = renders[engine, 0]
    plain_audio = decode_mp3(plain_mp3)
    plain_audio = plain_audio if plain_audio.ndim == 1 else plain_audio[:, 0]
    (said,) = [e for e in plain.events if isinstance(e, SpeechEvent)]
    s = said.start_ms * RATE // 1000
    assert not pauses(plain_audio[s:s + said.duration_ms * RATE // 1000], RATE, min_ms=700)


@pytest.mark.parametrize("engine", [PiperEngine(threads=1), HibariEngine(threads=1)],
                         ids=["piper", "hibari"])
def test_real_voices_are_slowed_by_silence_within_their_limit(engine):
    voice = Voice(engine=engine.name, model="joe" if engine.name == "piper" else "heart",
                  rate=0.86)
    long = "If anything feels like too much, come back to the room around you."
    clip = engine.synthesize(long, voice)
    assert 100 <= len(long.split()) * 60_000 / clip.duration_ms <= 170
    # no comma, and quick at the voice's limit: it pauses at an implied break instead
    quick = "Put a hand on your heart as you read."
    takes = engine.phrase_takes
    clip = engine.synthesize(quick, voice)
    assert engine.phrase_takes - takes >= 3  # whole, then phrase by phrase
    assert 120 <= len(quick.split()) * 60_000 / clip.duration_ms <= 160
    assert pauses(clip.samples, clip.sample_rate, min_ms=180)
    short = engine.synthesize("You are safe.", voice)
    # not hurried, not drawn out (Piper's takes of it vary by a few percent: 0.898 to 0.95 s)
    assert 0.85 <= short.duration_ms / 1000 <= 2.0
