"""Packing text into as few gTTS requests as its 100-character limit allows.

gTTS cuts at every punctuation mark and never merges the pieces back. Here the
cuts are chosen for the fewest requests first, then for the best places: a
sentence end, then a clause mark, then a plain space, and only as a last resort
inside a word. Short sentences that follow each other share one request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from gtts import gTTS
from gtts.tokenizer import symbols as gtts_symbols

MAX_CHARS: Final = gTTS.GOOGLE_TTS_MAX_CHARS  # 100

_COST_SENTENCE: Final = 0
_COST_CLAUSE: Final = 1
_COST_SPACE: Final = 3
_COST_WORD: Final = 20  # inside a word: only when a word is longer than the limit
_SENTENCE_END: Final = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_CLAUSE_END: Final = re.compile(r"[,;:—–)\]、，；：][\"'”’»]*$")
# Titles spoken the same without their period; gTTS drops it too, but after any word
# ending in these letters ("first." loses its full stop), so here only whole words.
_TITLE_PERIOD: Final = re.compile(
    r"\b(" + "|".join(gtts_symbols.ABBREVIATIONS) + r")\.(?=\s|$)", re.IGNORECASE
)


@dataclass(frozen=True)
class Group:
    """Texts synthesized together and the request texts that carry them.

    Either one text in one or more chunks, or several short texts in one chunk.
    """

    texts: tuple[str, ...]
    chunks: tuple[str, ...]


_LEADING_MARKS: Final = re.compile(r"^[^\w\s]+\s+(?=\w)")


def _cut_cost(text: str, at: int) -> int:
    """Cost of cutting `text` before index `at` (a space or a word position)."""
    if text[at - 1 : at] == " " or text[at : at + 1] == " ":
        before = text[:at].rstrip()
        if _SENTENCE_END.search(before):
            return _COST_SENTENCE
        if _CLAUSE_END.search(before):
            return _COST_CLAUSE
        return _COST_SPACE
    return _COST_WORD


def request_form(text: str) -> str:
    """`text` as it is sent: whitespace normalised, periods after titles ("Dr.") dropped,
    and punctuation standing alone before the first word left out (nothing to speak; gTTS
    drops it too, and a cut there would cost a request of its own)."""
    return _TITLE_PERIOD.sub(r"\1", _LEADING_MARKS.sub("", " ".join(text.split())))


def split_long(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Pieces of `text` of at most `limit` characters: fewest pieces, then best cuts."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return [text] if text else []
    n = len(text)
    # best[i]: (pieces, cost, previous cut) for text[:i] cut at i
    best: list[tuple[int, int, int] | None] = [None] * (n + 1)
    best[0] = (0, 0, -1)
    for end in range(1, n + 1):
        if end < n and not _may_cut(text, end, limit):
            continue
        for start in range(max(0, end - limit - 1), end):
            prev = best[start]
            if prev is None:
                continue
            piece = text[start:end].strip()
            if not piece or len(piece) > limit:
                continue
            cost = prev[1] + (0 if end == n else _cut_cost(text, end))
            candidate = (prev[0] + 1, cost, start)
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    pieces: list[str] = []
    end = n
    while end > 0:
        entry = best[end]
        if entry is None:  # cannot happen: hard cuts are always allowed inside long words
            raise ValueError(f"cannot split text for gTTS: {text[:40]!r}")
        pieces.append(text[entry[2] : end].strip())
        end = entry[2]
    return pieces[::-1]


def _may_cut(text: str, at: int, limit: int) -> bool:
    """Whether a piece may end at `at`: next to a space, or inside a word over `limit`."""
    if text[at] == " " or text[at - 1] == " ":
        return True
    left = text.rfind(" ", 0, at) + 1
    right = text.find(" ", at)
    right = len(text) if right < 0 else right
    return right - left > limit


def pack(texts: Sequence[str], limit: int = MAX_CHARS, *, share: bool = True) -> list[Group]:
    """Groups of `texts`, in order: long texts alone, short neighbours sharing a request

    (unless `share` is False: then every text has requests of its own).
    """
    groups: list[Group] = []
    pending: list[tuple[str, str]] = []  # (text as given, whitespace normalised)

    def flush() -> None:
        if pending:
            groups.append(Group(tuple(t for t, _ in pending), (" ".join(c for _, c in pending),)))
            pending.clear()

    for text in texts:
        clean = request_form(text)
        if len(clean) > limit:
            flush()
            groups.append(Group((text,), tuple(split_long(clean, limit))))
            continue
        if pending and (not share or sum(len(c) + 1 for _, c in pending) + len(clean) > limit):
            flush()
        pending.append((text, clean))
    flush()
    return groups


def default_request_count(text: str, lang: str = "en") -> int:
    """Requests gTTS's own tokenizer would make for `text` (its default settings)."""
    tts = gTTS(text, lang=lang, lang_check=False)
    return len(tts._tokenize(text))  # the exact count gTTS.stream() would send
