"""Splitting spoken text into sentences, so pacing can go between them.

A sentence ends at `.`, `!`, `?` or an ellipsis (`...`, `…`), possibly followed by
closing quotes or brackets, when whitespace and then a capital letter or a digit
follow (an opening quote may stand before it). Abbreviations such as "Dr." or
"e.g.", single initials ("J. Smith") and decimal numbers ("1.5") do not end one.
"""

from __future__ import annotations

import re
from typing import Final

_OPEN: Final = "\"'“‘«(["
_CLOSE: Final = "\"'”’»)]"
_TERMINAL: Final = ".!?…"

# A candidate end: terminal punctuation, closing marks, whitespace, then the next start.
# Linear on any input: a candidate starts only where a run of terminal marks starts
# (the lookbehind), and every run is taken whole with no way back (possessive `++`).
_CANDIDATE: Final = re.compile(
    r"(?<![" + re.escape(_TERMINAL) + r"])(?P<end>[" + re.escape(_TERMINAL) + r"]++)"
    r"[" + re.escape(_CLOSE) + r"]*+(?P<gap>\s++)[" + re.escape(_OPEN) + r"]*+(?P<next>\w)"
)

# Words whose trailing period belongs to the word; a capital after them starts no sentence.
ABBREVIATIONS: Final = frozenset({
    "dr", "mr", "mrs", "ms", "mx", "prof", "rev", "fr", "sr", "jr", "st", "mt", "capt",
    "col", "gen", "lt", "sgt", "hon", "vs", "cf", "fig", "vol", "ch", "approx", "dept",
    "e.g", "i.e", "eg", "ie", "viz", "ca",
})

_SPEAKABLE: Final = re.compile(r"[^\W_]")
_DOTTED: Final = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "U.S", "e.g": letters and periods


def _word_before(text: str, start: int, end: int) -> str:
    """The word that ends at `end` (no further back than `start`): a backwards scan, so
    each candidate costs only the length of its own word."""
    i = end
    while i > start and not text[i - 1].isspace() and text[i - 1] not in _OPEN:
        i -= 1
    return text[i:end]


def _ends_sentence(text: str, start: int, end_at: int, end: str) -> bool:
    """Whether punctuation `end`, found at `end_at` in the sentence that began at
    `start`, closes that sentence."""
    if end != ".":
        return True  # "!", "?", ellipses and runs like "?!" always may
    word = _word_before(text, start, end_at).rstrip(".")
    if not word:
        return True
    if word.lower() in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False  # an initial: "J. Smith"
    # Dotted abbreviations written out ("U.S.", "e.g."): letters separated by periods.
    return not _DOTTED.fullmatch(word)


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph of text, whitespace normalised.

    Joining the result with single spaces gives back the normalised text.
    Pieces with nothing to speak (stray punctuation) stay with their neighbour.
    """
    flat = " ".join(text.split())
    if not flat:
        return []
    sentences: list[str] = []
    start = 0
    pos = 0
    while (match := _CANDIDATE.search(flat, pos)) is not None:
        pos = match.end("gap")
        stop = match.start("gap")
        if match.group("next").islower():
            continue  # "Where are you?" she asked.
        if not _ends_sentence(flat, start, match.start("end"), match.group("end")):
            continue
        sentences.append(flat[start:stop])
        start = match.end("gap")
    sentences.append(flat[start:])
    return _merge_unspeakable(sentences)


def _merge_unspeakable(pieces: list[str]) -> list[str]:
    """Pieces with nothing to speak joined to a neighbour (each piece looked at once)."""
    groups: list[list[str]] = []
    speakable: list[bool] = []
    for piece in pieces:
        has_words = _SPEAKABLE.search(piece) is not None
        if groups and (not has_words or not speakable[-1]):
            groups[-1].append(piece)
            speakable[-1] = speakable[-1] or has_words
        else:
            groups.append([piece])
            speakable.append(has_words)
    return [" ".join(group) for group in groups]
