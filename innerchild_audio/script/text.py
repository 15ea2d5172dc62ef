"""Spoken text: `{var}` substitution and inline `[pause 3s]` markup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from innerchild_audio.units import parse_duration_ms

MAX_SAY_CHARS: Final = 5000
MAX_MARKUP_PAUSE_MS: Final = 3_600_000  # the format's limit for any single pause
_MARKUP: Final = re.compile(r"\[\s*([A-Za-z]+)(?:\s+([^\]]*?))?\s*\]")
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
class Words:
    text: str


@dataclass(frozen=True)
class Gap:
    duration_ms: int
    reason: str  # "markup" | "paragraph"


def check_markup(text: str) -> None:
    """Raise TextProblem for markup that would otherwise be spoken aloud."""
    for match in _MARKUP.finditer(text):
        word, arg = match.group(1), match.group(2)
        if word.lower() != "pause":
            if word.lower() in ("paus", "pase", "puase", "pauze", "pauses", "wait", "silence"):
                raise TextProblem(f"unknown markup [{word} ...]; did you mean [pause 3s]?",
                                  match.start(), match.group(0))
            continue  # ordinary bracketed words are spoken as written
        try:
            ms = parse_duration_ms((arg or "").strip())
        except ValueError as error:
            raise TextProblem(f"bad [pause] markup: {error}", match.start(),
                              match.group(0)) from None
        if ms > MAX_MARKUP_PAUSE_MS:
            raise TextProblem("a [pause] may last at most 1h; use a pause step for long "
                              "silences", match.start(), match.group(0))


def pieces(text: str) -> list[Words | Gap]:
    """Text split at blank lines (paragraph gaps) and [pause] markup; markup checked first.

    Paragraph gaps carry 0 ms here: the planner gives them the voice's paragraph_pause.
    """
    result: list[Words | Gap] = []
    for number, paragraph in enumerate(_PARAGRAPH_BREAK.split(text.strip())):
        if number:
            result.append(Gap(0, "paragraph"))
        position = 0
        for match in _MARKUP.finditer(paragraph):
            if match.group(1).lower() != "pause":
                continue
            before = paragraph[position:match.start()]
            if before.strip():
                result.append(Words(before))
            result.append(Gap(parse_duration_ms(match.group(2).strip()), "markup"))
            position = match.end()
        if paragraph[position:].strip():
            result.append(Words(paragraph[position:]))
    return result
