"""Where a sentence with no comma may still take a breath: its implied phrase breaks.

A meditation teacher slows a quick sentence by pausing between its phrases
("Put a hand / on your heart / as you read."), not between every word. The voices
cannot tell us where their words fall, so the breaks are found in the text: before
a conjunction, a relative word, a preposition or a negation; never after an
article, a possessive, a preposition or a pronoun, never before an auxiliary or an
object pronoun, and never leaving a phrase of one word unless the sentence is
short ("Go / at your own pace."). Without knowing which word is an adjective, a
break elsewhere ("a caring / adult") would too often split a noun from its
modifier, so other breaks are left to sentences of three or four words ("Let it
be / simple."). Each phrase is then spoken whole, so its words stay the voice's own.
"""

from __future__ import annotations

import re
from typing import Final

MIN_PHRASE_WORDS: Final = 2

_PREPOSITIONS: Final = (
    "in on at of to with from into onto for by through around under over toward towards "
    "beside near across behind along inside within without between against about past "
    "beneath above below among like").split()
# How natural a break before the word is: 3 conjunctions, 2 relative words,
# prepositions and negations; 1 a determiner, or a subject pronoun and its verb.
# Elsewhere only a sentence of three or four words may break ("I am / here.").
_BREAK_BEFORE: Final[dict[str, int]] = {
    **dict.fromkeys(
        "and but or so as because when whenever while until till if though although "
        "before after since then once unless whether".split(), 3),
    **dict.fromkeys(
        ["that", "which", "who", "whom", "whose", "where", "what", "how", "why",
         *_PREPOSITIONS, "no", "never", "not", "nothing"], 2),
}
_DETERMINERS: Final = frozenset(
    "a an the this these those your my his her their our its".split())
_SUBJECTS: Final = frozenset("i you we they he she".split())
# Words that open a phrase as a determiner does ("You belong here / just as you are.").
_OPENERS: Final = frozenset(
    "anything everything something someone anyone everyone somewhere anywhere just only "
    "even still always also perhaps maybe".split())
_AUXILIARIES: Final = frozenset(
    "is are was were am be been being has have had will can would could should may might "
    "must shall do does did".split())
# A phrase never ends on these: they lean on the word after them ("you" and "it" only
# before a natural break: "feel it / in your body", not "tell you / something").
_NO_BREAK_AFTER: Final = frozenset([
    *_DETERMINERS, *_PREPOSITIONS,
    *"own that to very so not no every each some any all just too more most less than and "
     "or but as if i we they he she do does did let let's who which what how".split()])
_PARTICLE_NEXT: Final = frozenset("now again here there too".split())
# In a sentence of three or four words only these must lean on the next.
_HARD_LEANERS: Final = frozenset([*_DETERMINERS, *_PREPOSITIONS, "to", "and", "or", "but"])
_LEANING_PRONOUNS: Final = frozenset(["you", "it"])
# A verb may open a phrase after its subject ("Which of these / would help you most?",
# "The day / is finished."), but not after "there", a pronoun or a relative word.
_DEMONSTRATIVES: Final = frozenset("this that these those".split())
_NO_VERB_BREAK_AFTER: Final = frozenset(
    [*_SUBJECTS, *_LEANING_PRONOUNS, *_AUXILIARIES, "there", "here", "who", "which", "what",
     "that", "not", "never", "to"])
# A phrase never starts on these: they lean on the word before them.
_NO_BREAK_BEFORE: Final = frozenset(["me", "him", "it", "us", "them", "'s", *_AUXILIARIES,
                                     "out", "back", "up", "down", "away", "off"])  # particles
_WORD: Final = re.compile(r"[\w'’]+")


def _bare(token: str) -> str:
    match = _WORD.search(token.lower())
    return match.group(0).replace("’", "'") if match else ""


def break_strengths(tokens: list[str], min_words: int = MIN_PHRASE_WORDS,
                    whole_sentence: bool = False) -> dict[int, int]:
    """{i: strength} for each place a break may fall before tokens[i].

    With `min_words=1` a word may stand alone at a natural break. A `whole_sentence`
    of three or four words may also break between any two words that allow it."""
    if len(tokens) < 3:
        return {}  # "Welcome in." stays whole
    short = whole_sentence and len(tokens) <= 4
    bare = [_bare(t) for t in tokens] + [""]
    found: dict[int, int] = {}
    for i in range(min_words, len(tokens) - min_words + 1):
        if re.search(r"[-–—/]$", tokens[i - 1]):
            continue  # a hyphenated or slashed pair stays together
        strength = _strength(bare[i - 1], bare[i], bare[i + 1], short)
        lone = min(i, len(tokens) - i) < MIN_PHRASE_WORDS
        if strength < 2 and lone and not short:
            continue
        if i == len(tokens) - 1 and bare[i] in _PREPOSITIONS:
            continue  # alone at the end it is no preposition: "someone / inside."
        if strength:
            found[i] = strength
    return found


def _strength(before: str, word: str, after: str, short: bool) -> int:
    """How natural a break between `before` and `word` is (0: none), `after` following."""
    if not before or not word:
        return 0
    verb_opens = word in _AUXILIARIES and before not in _NO_VERB_BREAK_AFTER
    if word in _NO_BREAK_BEFORE and not verb_opens:
        return 0
    leaning = _HARD_LEANERS if short else _NO_BREAK_AFTER  # "Just, / hear it."
    if before in leaning and not (verb_opens and before in _DEMONSTRATIVES):
        return 0
    if word in _PREPOSITIONS and (after.endswith("ly") or after in _PARTICLE_NEXT):
        return 0  # a particle, not a preposition: "Breathe in slowly", "come back now"
    strength = _BREAK_BEFORE.get(word, 0)
    if not strength and (word in _DETERMINERS or word in _OPENERS or short or verb_opens
                         or (word in _SUBJECTS and after in _AUXILIARIES)):
        strength = 1  # "need / the whole story", "one thing / you can touch"
    if strength < 2 and before in _LEANING_PRONOUNS:
        return 0
    return strength


def split_phrases(phrases: list[str], breaks: int,
                  min_words: int = MIN_PHRASE_WORDS) -> list[list[str]]:
    """Each phrase cut at up to `breaks` implied breaks in all, the most natural first.

    A short sentence may leave one word alone ("Go / at your own pace."): pass
    `min_words=1`. Returns, for each phrase, its pieces; a piece before a break ends
    with a comma so the voice keeps its pitch open there.
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
