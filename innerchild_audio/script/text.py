"""Spoken text: `{var}` substitution and inline `[pause 3s]` markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from innerchild_audio.units import parse_duration_ms

MAX_SAY_CHARS: Final = 5000
MAX_MARKUP_PAUSE_MS: Final = 3_600_000  # the format's limit for any single pause
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n\s*")


class TextProblem(ValueError):
    """A problem at `offset` characters into the text (for locating it in the file)."""

    def __init__(self, message: str, offset: int, token: str):
        super().__init__(message)
        self.offset = offset
        self.token = token


def substitute(text: str, variables: dict[str, str]) -> str:
    """`{name}` replaced; `{{` and `}}` literal braces. Raises TextProblem."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            out.append(char)
            i += 2
        elif char == "{":
            end = text.find("}", i)
            name = text[i + 1:end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*", name):
                raise TextProblem(
                    "a '{' that does not start a variable like {name}; "
                    "write '{{' for a literal brace", i, text[i:i + 12].split("\n")[0])
            name = name.strip()
            if name not in variables:
                known = ", ".join(f"{{{k}}}" for k in sorted(variables)) or "none are defined"
                raise TextProblem(
                    f"unknown variable {{{name}}}; known variables: {known} "
                    "(define it under 'vars:' or pass --var "
                    f"{name}=VALUE)", i, text[i:end + 1])
            out.append(variables[name])
            i = end + 1
        elif char == "}":
            raise TextProblem("a lone '}'; write '}}' for a literal brace", i, "}")
        else:
            out.append(char)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Markup:
    """`[word arg]` at text[start:end]; `arg` is None when only a word is given."""

    start: int
    end: int
    word: str
    arg: str | None
    token: str


def _is_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def find_markup(text: str) -> Iterator[Markup]:
    """Each `[word]` or `[word arg]` in `text`, left to right, in linear time.

    A scan by hand rather than a pattern: whitespace inside brackets could be
    divided between the parts of a pattern in many ways, and that backtracks.
    """
    close = -1
    i = text.find("[")
    while i != -1:
        if close <= i:
            close = text.find("]", i + 1)
            if close == -1:
                return  # no later '[' can be closed either
        j = i + 1
        while j < close and text[j].isspace():
            j += 1
        k = j
        while k < close and _is_letter(text[k]):
            k += 1
        if k > j and (k == close or text[k].isspace()):
            arg = text[k:close].strip() if k < close else None
            yield Markup(i, close + 1, text[j:k], arg, text[i:close + 1])
            i = text.find("[", close + 1)
        else:
            i = text.find("[", i + 1)


@dataclass(frozen=True)
class Words:
    text: str


@dataclass(frozen=True)
class Gap:
    duration_ms: int
    reason: str  # "markup" | "paragraph"


def check_markup(text: str) -> None:
    """Raise TextProblem for markup that would otherwise be spoken aloud."""
    for markup in find_markup(text):
        word = markup.word
        if word.lower() != "pause":
            if word.lower() in ("paus", "pase", "puase", "pauze", "pauses", "wait", "silence"):
                raise TextProblem(f"unknown markup [{word} ...]; did you mean [pause 3s]?",
                                  markup.start, markup.token)
            continue  # ordinary bracketed words are spoken as written
        try:
            ms = parse_duration_ms(markup.arg or "")
        except ValueError as error:
            raise TextProblem(f"bad [pause] markup: {error}", markup.start,
                              markup.token) from None
        if ms > MAX_MARKUP_PAUSE_MS:
            raise TextProblem("a [pause] may last at most 1h; use a pause step for long "
                              "silences", markup.start, markup.token)


def pieces(text: str) -> list[Words | Gap]:
    """Text split at blank lines (paragraph gaps) and [pause] markup; markup checked first.

    Paragraph gaps carry 0 ms here: the planner gives them the voice's paragraph_pause.
    """
    result: list[Words | Gap] = []
    for number, paragraph in enumerate(_PARAGRAPH_BREAK.split(text.strip())):
        if number:
            result.append(Gap(0, "paragraph"))
        position = 0
        for markup in find_markup(paragraph):
            if markup.word.lower() != "pause":
                continue
            before = paragraph[position:markup.start]
            if before.strip():
                result.append(Words(before))
            result.append(Gap(parse_duration_ms(markup.arg or ""), "markup"))
            position = markup.end
        if paragraph[position:].strip():
            result.append(Words(paragraph[position:]))
    return result
