"""Where a sentence with no comma may still take a breath: its implied phrase breaks.

A meditation teacher slows a quick sentence by pausing between its phrases
("Put a hand / on your heart / as you read."), not between every word. The voices
cannot tell us where their words fall, so the breaks are found in the text: before
a conjunction, a relative word or a preposition, never after an article, a
possessive or an infinitive "to", and never leaving a phrase of one word
(unless the sentence is short: "Go / at your own pace.", "Let it be / simple."). Each
phrase is then spoken whole, so its words stay the voice's own.
"""

from __future__ import annotations

import re
from typing import Final

MIN_PHRASE_WORDS: Final = 2

# How natural a break before the word is: 3 conjunctions, 2 relative words and
# prepositions. Any other boundary between two content words is 1.
_BREAK_BEFORE: Final[dict[str, int]] = {
    **dict.fromkeys(
        "and but or so as because when whenever while until till if though although "
        "before after since then once unless whether".split(), 3),
    **dict.fromkeys(
        "that which who whom whose where what how why "
        "in on at of to with from into onto for by through around under over toward "
        "towards beside near across behind along inside within without between against "
        "about past beneath above below among like no never not nothing".split(), 2),
}
# A phrase never ends on these: they lean on the word after them.
_NO_BREAK_AFTER: Final = frozenset(
    "a an the your my his her its our their own this that these those to very so not no "
    "every each some any all just too more most less than of in on at for with by from "
    "into and or but as if i you we they he she it do does did let let's who which "
    "what how".split())
_WORD: Final = re.compile(r"[\w'’]+")


def _bare(token: str) -> str:
    match = _WORD.search(token.lower())
    return match.group(0).replace("’", "'") if match else ""


def break_strengths(tokens: list[str], min_words: int = MIN_PHRASE_WORDS,
                    whole_sentence: bool = False) -> dict[int, int]:
    """{i: strength} for each place a break may fall before tokens[i].

    With `min_words=1` a word may stand alone at a natural break; and also at any
    break when `tokens` are a `whole_sentence` of three or four words."""
    found: dict[int, int] = {}
    for i in range(min_words, len(tokens) - min_words + 1):
        before, word = _bare(tokens[i - 1]), _bare(tokens[i])
        if not before or not word or before in _NO_BREAK_AFTER:
            continue
        if re.search(r"[-–—/]$", tokens[i - 1]):
            continue  # a hyphenated or slashed pair stays together
        strength = _BREAK_BEFORE.get(word, 1)
        lone = min(i, len(tokens) - i) < MIN_PHRASE_WORDS
        if strength < 2 and lone and not (whole_sentence and 3 <= len(tokens) <= 4):
            continue  # a word is left alone at a natural break, or in "Let it be / simple."
        found[i] = strength
    return found


def split_phrases(phrases: list[str], breaks: int,
                  min_words: int = MIN_PHRASE_WORDS) -> list[list[str]]:
    """Each phrase cut at up to `breaks` implied breaks in all, the most natural first.

    A short sentence may leave one word alone ("Go / at your own pace."): pass
    `min_words=1`. Returns, for each phrase, its pieces; a piece before a break ends with a comma so
    the voice keeps its pitch open there.
    """
    pieces = [[p.split()] for p in phrases]
    for _ in range(breaks):
        best: tuple[tuple[int, int], int, int, int] | None = None
        whole = len(pieces) == 1 and len(pieces[0]) == 1
        for p, chunks in enumerate(pieces):
            for c, tokens in enumerate(chunks):
                for i, strength in break_strengths(tokens, min_words, whole).items():
                    score = (strength, min(i, len(tokens) - i))
                    if best is None or score > best[0]:
                        best = (score, p, c, i)
        if best is None:
            break
        _, p, c, i = best
        tokens = pieces[p][c]
        pieces[p][c:c + 1] = [tokens[:i], tokens[i:]]
    result: list[list[str]] = []
    for chunks in pieces:
        texts = [" ".join(tokens) for tokens in chunks]
        result.append([t if n == len(texts) - 1 or t[-1] in ",;:" else t + ","
                       for n, t in enumerate(texts)])
    return result
