"""Whether Google's TTS host answers: the `auto` engine's one quick check."""

from __future__ import annotations

import logging
from typing import Final

import requests

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S: Final = 3.0


def google_reachable(tld: str = "com", timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when https://translate.google.{tld}/ answers at all (any HTTP status)."""
    url = f"https://translate.google.{tld}/"
    try:
        requests.head(url, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as error:
        log.debug("Google not reachable at %s: %s", url, error)
        return False
    return True
