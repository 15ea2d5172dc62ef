"""Calm pace from silence, not stretch: how the offline voices speak a sentence.

A voice is slowed only as far as its words stay clean (`Pace.max_stretch`, found
per voice); the rest of the calm is silence. A sentence is spoken phrase by
phrase, with `phrase_pause` at its commas, semicolons, colons and dashes (shorter
where a list of phrases would drag below MIN_WPM). When it still runs faster than
the pace its rate asks for (`max_wpm`), its phrase pauses grow, and then it pauses
where a speaker would take a breath though no comma is written ("Put a hand / on
your heart / as you read.", found by `phrasing.py`), each phrase spoken whole by
the voice. Silence never goes inside a phrase's words: cut where the voice merely
falls quiet, a recognizer missed nearly twice as many words. Only a sentence with
no such break (or with `phrase_pause: 0`) gets gaps between its words, and only
where the voice is already silent. Short sentences ("You are safe.") are spoken at
the voice's limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from innerchild_audio.model import Voice
from innerchild_audio.speech.phrasing import MIN_PHRASE_WORDS, split_phrases
from innerchild_audio.speech.silence import voiced_span

PACING_VERSION: Final = 6  # part of the cache key: bump when the pacing changes the audio
WPM_AT_RATE_1: Final = 160  # the pace sentences are slowed to at rate 1.0 (x rate otherwise)
MIN_WPM: Final = 100  # phrase pauses shrink (to MIN_PHRASE_PAUSE_MS) rather than drag below this
MIN_PHRASE_PAUSE_MS: Final = 150
MAX_PHRASE_PAUSE_MS: Final = 1200  # a phrase pause grows to this to slow a sentence
GROWN_PHRASE_PAUSE_MS: Final = 700  # phrase pauses grow this far before implied breaks are used
IMPLIED_PAUSE_MS: Final = 450  # one implied phrase break per this much missing time
MIN_IMPLIED_PAUSE_MS: Final = 200  # a shorter break would sound like a glitch
SPLIT_SLACK_WPM: Final = 10  # a sentence this near its pace is left flowing
SHORT_SENTENCE_WORDS: Final = 6  # this many words or fewer: spoken at the voice's limit
EDGE_PAD_MS: Final = 50  # kept at each end of a phrase when its silence is trimmed
MAX_WORD_GAP_MS: Final = 250  # the most silence added between two words
FADE_MS: Final = 4  # eased in and out at each end of a phrase and each widened gap
GAP_BELOW_PEAK_DB: Final = 35.0  # a word gap is widened only where the voice is this quiet
_FRAME_MS: Final = 10

# A phrase ends at , ; : before a space (not "1,000"), or at a dash between words.
_PHRASE_END: Final = re.compile(r"(?<=[,;:])\s+(?=\S)|\s*(?:—|–|--)\s*|\s+-\s+")
_WORDS: Final = re.compile(r"\S+")


@dataclass(frozen=True)
class Pace:
    """How an offline voice is slowed: its stretch at rate 1.0 and its clean limit."""

    stretch_at_rate_1: float  # multiplies the voice's own length of speech
    max_stretch: float  # past this the voice's words smear (found by ear or recognizer)

    def stretch(self, rate: float, words: int) -> float:
        if words <= SHORT_SENTENCE_WORDS:
            return self.max_stretch
        return min(self.max_stretch, self.stretch_at_rate_1 / rate)

    def identity(self) -> dict[str, object]:
        return {"stretch": self.stretch_at_rate_1, "max_stretch": self.max_stretch,
                "pacing": PACING_VERSION, "wpm": WPM_AT_RATE_1, "min_wpm": MIN_WPM,
                "short_words": SHORT_SENTENCE_WORDS}


def max_wpm(rate: float) -> float:
    """Words a minute a sentence is slowed to at `rate` (as far as quiet word gaps allow)."""
    return WPM_AT_RATE_1 * rate


def phrases(sentence: str) -> list[str]:
    """The phrases of one sentence: split at , ; : and dashes inside it."""
    parts = [p.strip() for p in _PHRASE_END.split(sentence.strip())]
    result: list[str] = []
    for part in parts:
        if not part:
            continue
        if result and not re.search(r"\w", part):
            result[-1] += part  # stray punctuation stays with its phrase
            continue
        result.append(part)
    # a phrase cut at a dash ends with a comma, so the voice keeps it open
    return [p if p[-1] in ",;:.!?…\"'”’)" or i == len(result) - 1 else p + ","
            for i, p in enumerate(result)]


def speak_sentence(
    text: str,
    voice: Voice,
    pace: Pace,
    synthesize: Callable[[str, float], np.ndarray],
    sample_rate: int,
) -> np.ndarray:
    """`text` spoken phrase by phrase through `synthesize(phrase, stretch)`, paced.

    A sentence running faster than `max_wpm(voice.rate)` (by SPLIT_SLACK_WPM) is
    slowed to it: its phrase pauses grow, then it pauses at implied phrase breaks
    (`phrasing.py`), each phrase spoken whole; a sentence with no such break gets
    gaps of at most MAX_WORD_GAP_MS where the voice falls quiet between words.
    """
    words = len(_WORDS.findall(text))
    stretch = pace.stretch(voice.rate, words)

    def speak(part: str) -> np.ndarray:
        return _trim(synthesize(part, stretch), sample_rate)

    parts = phrases(text) if voice.phrase_pause_ms > 0 else [text.strip()]
    spoken = [(part, speak(part)) for part in parts]
    spoken = [(part, s) for part, s in spoken if s.size]
    if not spoken:
        return np.zeros(0, dtype=np.float32)
    ms = sample_rate / 1000
    voiced = sum(len(s) for _, s in spoken)
    pause = round(voice.phrase_pause_ms * ms)
    if len(spoken) > 1:  # a list ("tired, hungry, restless") keeps moving
        longest = round(words * 60 / MIN_WPM * sample_rate)
        room = (longest - voiced) // (len(spoken) - 1)
        pause = min(pause, max(round(MIN_PHRASE_PAUSE_MS * ms), room))
    wanted = round(words * 60 / max_wpm(voice.rate) * sample_rate)
    total = voiced + pause * (len(spoken) - 1)
    ceiling = words * 60 / (max_wpm(voice.rate) + SPLIT_SLACK_WPM) * sample_rate
    if total >= ceiling:
        return _join([[s] for _, s in spoken], pause, 0)
    if voice.phrase_pause_ms <= 0:
        return _widened(spoken, pause, wanted, sample_rate)
    return _slowed(spoken, pause, wanted, speak, sample_rate,
                   min_words=1 if words <= SHORT_SENTENCE_WORDS else MIN_PHRASE_WORDS)


def _slowed(spoken: list[tuple[str, np.ndarray]], pause: int, wanted: int,
            speak: Callable[[str], np.ndarray], sample_rate: int, min_words: int) -> np.ndarray:
    """Phrases slowed to `wanted` samples: longer phrase pauses, then implied breaks."""
    ms = sample_rate / 1000
    joins = len(spoken) - 1
    short = wanted - sum(len(s) for _, s in spoken) - pause * joins
    if joins:
        pause += max(0, min(short // joins, round(GROWN_PHRASE_PAUSE_MS * ms) - pause))
        short = wanted - sum(len(s) for _, s in spoken) - pause * joins
    if short <= 0:
        return _join([[s] for _, s in spoken], pause, 0)
    split = split_phrases([part for part, _ in spoken], -(-short // round(IMPLIED_PAUSE_MS * ms)),
                          min_words)
    breaks = sum(len(pieces) - 1 for pieces in split)
    sounds = [[s] if len(pieces) == 1 else [speak(piece) for piece in pieces]
              for pieces, (_, s) in zip(split, spoken, strict=True)]
    # no break to pause at, or a phrase the voice left silent: the whole takes, widened
    if not breaks or any(not piece.size for group in sounds for piece in group):
        return _widened(spoken, pause, wanted, sample_rate)
    short = wanted - sum(len(s) for group in sounds for s in group) - pause * joins
    implied = min(max(short // breaks, round(MIN_IMPLIED_PAUSE_MS * ms)),
                  round(MAX_PHRASE_PAUSE_MS * ms))
    short -= implied * breaks
    if short > 0 and joins:  # what the breaks could not take goes to the phrase pauses
        pause = min(pause + short // joins, round(MAX_PHRASE_PAUSE_MS * ms))
    return _join(sounds, pause, implied)


def _widened(spoken: list[tuple[str, np.ndarray]], pause: int, wanted: int,
             sample_rate: int) -> np.ndarray:
    """No phrase to pause between: gaps widened where the voice falls quiet between words,
    and what they cannot take added to the phrase pauses."""
    gaps = sum(max(0, len(_WORDS.findall(part)) - 1) for part, _ in spoken)
    joins = len(spoken) - 1
    if not gaps:
        return _join([[s] for _, s in spoken], pause, 0)
    ms = sample_rate / 1000
    total = sum(len(s) for _, s in spoken) + pause * joins
    gap = min(round(MAX_WORD_GAP_MS * ms), (wanted - total) // gaps)
    widened = [_widen(s, sample_rate, _WORDS.findall(part), gap) for part, s in spoken]
    left = wanted - sum(len(s) for s in widened) - pause * joins
    if left > 0 and joins:
        pause = min(pause + left // joins, round(MAX_PHRASE_PAUSE_MS * ms))
    return _join([[s] for s in widened], pause, 0)


def _join(phrase_sounds: list[list[np.ndarray]], pause: int, implied: int) -> np.ndarray:
    """Phrases `pause` samples apart, the pieces of a phrase `implied` samples apart."""
    out: list[np.ndarray] = []
    for number, pieces in enumerate(phrase_sounds):
        if number:
            out.append(np.zeros(pause, dtype=np.float32))
        for count, piece in enumerate(pieces):
            if count:
                out.append(np.zeros(implied, dtype=np.float32))
            out.append(piece)
    return np.concatenate(out).astype(np.float32)


def _trim(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The phrase without the engine's own leading and trailing silence."""
    samples = np.asarray(samples, dtype=np.float32)
    if not samples.size or not np.any(samples):
        return samples[:0]
    start, stop = voiced_span(samples, sample_rate, pad_ms=EDGE_PAD_MS)
    kept = samples[start:stop].copy()
    # a cut 40 dB under the peak is still a step: ease each end in and out
    fade = min(len(kept) // 2, max(1, sample_rate * FADE_MS // 1000))
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))).astype(np.float32)
    kept[:fade] *= ramp
    kept[len(kept) - fade:] *= ramp[::-1]
    return kept


def _widen(samples: np.ndarray, sample_rate: int, words: list[str], gap: int) -> np.ndarray:
    """`samples` with `gap` samples of silence added at the boundaries between `words`.

    Only where the voice already falls silent (GAP_BELOW_PEAK_DB under its loudest
    10 ms) near where the boundary would fall if words took time in proportion to
    their letters: a cut inside a sounding word would break the word.
    """
    if gap <= 0 or len(words) < 2:
        return samples
    frame = max(1, sample_rate * _FRAME_MS // 1000)
    start, stop = voiced_span(samples, sample_rate)
    count = (stop - start) // frame
    if count < 2 * len(words):
        return samples
    frames = samples[start:start + count * frame].reshape(count, frame).astype(np.float64)
    levels = 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-12)
    quiet = levels < levels.max() - GAP_BELOW_PEAK_DB
    weights = np.cumsum([len(w) + 1 for w in words], dtype=np.float64)
    half = max(1, int(0.25 * count / len(words)))
    cuts: list[int] = []
    low = 1
    for boundary in weights[:-1] / weights[-1]:
        expected = int(boundary * count)
        near = [i for i in range(max(low, expected - half), min(count - 1, expected + half + 1))
                if quiet[i]]
        if not near:
            continue
        best = min(near, key=lambda i: abs(i - expected))
        cuts.append(start + best * frame + frame // 2)
        low = best + 6  # words are at least 60 ms apart
    if not cuts:
        return samples
    fade = max(1, sample_rate * FADE_MS // 1000)
    ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
    pieces: list[np.ndarray] = []
    edges = [0, *cuts, len(samples)]
    silence = np.zeros(gap, dtype=np.float32)
    for number, (a, b) in enumerate(zip(edges, edges[1:], strict=False)):
        piece = samples[a:b].copy()
        if number and len(piece) > fade:
            piece[:fade] *= ramp[::-1]
        if b < len(samples) and len(piece) > fade:
            piece[-fade:] *= ramp
            pieces += [piece, silence]
        else:
            pieces.append(piece)
    return np.concatenate(pieces)
