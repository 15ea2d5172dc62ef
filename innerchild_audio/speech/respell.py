"""`pronounce:` respellings: what the voice is given in place of the written words."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=64)
def _pattern(pronounce: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    # longest first, so "inner child" wins over "child"
    ordered = sorted(pronounce, key=lambda pair: len(pair[0]), reverse=True)
    words = "|".join(re.escape(written) for written, _ in ordered)
    spoken = {written.lower(): respelled for written, respelled in ordered}
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE), spoken


def respell(text: str, pronounce: tuple[tuple[str, str], ...]) -> str:
    """`text` with each listed word or phrase (whole words, any case) respelled."""
    if not pronounce:
        return text
    pattern, spoken = _pattern(pronounce)
    return pattern.sub(lambda m: spoken[m.group(0).lower()], text)
