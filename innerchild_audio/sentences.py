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

# A candidate end: terminal punctuation, closing marks, whitespace, then the next start.
_CANDIDATE: Final = re.compile(
    r"(?P<end>(?:\.{2,}|…|[.!?])+)[" + re.escape(_CLOSE) + r"]*"
    r"(?P<gap>\s+)[" + re.escape(_OPEN) + r"]*(?P<next>\w)"
)

# Words whose trailing period belongs to the word; a capital after them starts no sentence.
ABBREVIATIONS: Final = frozenset({
    "dr", "mr", "mrs", "ms", "mx", "prof", "rev", "fr", "sr", "jr", "st", "mt", "capt",
    "col", "gen", "lt", "sgt", "hon", "vs", "cf", "fig", "vol", "ch", "approx", "dept",
    "e.g", "i.e", "eg", "ie", "viz", "ca",
})

_WORD_BEFORE: Final = re.compile(r"([^\s" + re.escape(_OPEN) + r"]+)$")
_SPEAKABLE: Final = re.compile(r"[^\W_]")


def _ends_sentence(before: str, end: str) -> bool:
    """Whether punctuation `end` after the text `before` closes a sentence."""
    if end != ".":
        return True  # "!", "?", ellipses and runs like "?!" always may
    match = _WORD_BEFORE.search(before)
    if not match:
        return True
    word = match.group(1).rstrip(".")
    if word.lower() in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False  # an initial: "J. Smith"
    # Dotted abbreviations written out ("U.S.", "e.g."): letters separated by periods.
    return not re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word)


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
        if not _ends_sentence(flat[start : match.start("end")], match.group("end")):
            continue
        sentences.append(flat[start:stop])
        start = match.end("gap")
    sentences.append(flat[start:])
    return _merge_unspeakable(sentences)


def _merge_unspeakable(pieces: list[str]) -> list[str]:
    merged: list[str] = []
    for piece in pieces:
        if merged and not _SPEAKABLE.search(piece):
            merged[-1] = f"{merged[-1]} {piece}"
        elif merged and not _SPEAKABLE.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged
