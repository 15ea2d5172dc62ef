"""Durations and levels as authors write them: `1m30s`, `-20 dB`."""

from __future__ import annotations

import math
import re
from typing import Final

DURATION_FORMS: Final = "500ms, 4s, 1.5s, 2m, 1m30s, 1h, or a bare number of seconds"
LEVEL_FORMS: Final = "-20 dB, -20dB, or a bare number of decibels"

_UNIT_MS: Final = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_DURATION_RE: Final = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s))+$")
_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_LEVEL_RE: Final = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:db)?$", re.IGNORECASE)


def parse_duration_ms(value: object) -> int:
    """Milliseconds from `4s`, `1m30s`, `500ms` or a bare number of seconds.

    Raises ValueError with the accepted forms for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; use {DURATION_FORMS}")
    if isinstance(value, (int, float)):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"a duration cannot be negative or infinite, got {value!r}")
        return _whole_ms(value * 1000)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return _whole_ms(float(text) * 1000)
        if text and _DURATION_RE.fullmatch(text):
            units = [u for _, u in _PART_RE.findall(text)]
            if len(units) == len(set(units)):
                return _whole_ms(sum(float(n) * _UNIT_MS[u] for n, u in _PART_RE.findall(text)))
    raise ValueError(f"{value!r} is not a duration; use {DURATION_FORMS}")


def _whole_ms(ms: float) -> int:
    if isinstance(ms, float) and not math.isfinite(ms):  # hundreds of digits read as infinity
        raise ValueError("that duration is far too long to be meant")
    return round(ms)


def parse_level_db(value: object) -> float:
    """Decibels from `-20 dB`, `-20dB` or a bare number."""
    if isinstance(value, bool):
        raise ValueError(f"expected a level ({LEVEL_FORMS}), got {value!r}")
    number: float | None = None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and (match := _LEVEL_RE.fullmatch(value.strip())):
            number = float(match.group(1))
    except OverflowError:  # a number of hundreds of digits
        number = math.inf
    if number is None or not math.isfinite(number):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise ValueError(f"expected a level ({LEVEL_FORMS}), got {shown}")
    return number


def format_duration(ms: int) -> str:
    """`9m40s`, `1h02m05s`, `4.5s`: short and exact to the tenth of a second."""
    ms = int(round(ms))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = rest / 1000
    sec = f"{seconds:.1f}".rstrip("0").rstrip(".") if rest % 1000 else f"{int(seconds)}"
    if hours:
        return f"{hours}h{minutes:02d}m{int(seconds):02d}s"
    if minutes:
        return f"{minutes}m{int(seconds):02d}s" if rest else f"{minutes}m"
    return f"{sec}s"
