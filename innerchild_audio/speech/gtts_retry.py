"""Retries with exponential backoff and jitter, honouring Retry-After.

Delays go through an injectable `sleep`, so tests never wait. A `Gate` shared by
the workers of one run makes everybody hold off when the server asks for it.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Final, TypeVar

T = TypeVar("T")

MAX_RETRY_AFTER_S: Final = 120.0  # a longer wait asked for by the server is a failure


class Transient(Exception):
    """A failure worth trying again (rate limit, server error, network trouble)."""

    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Permanent(Exception):
    """A failure that asking again will not mend (a refusal, an answer of the wrong kind)."""


class GaveUp(Exception):
    """Every attempt failed; `attempts` were made, the last failure is the cause."""

    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass
class Gate:
    """Shared 'not before' time: a Retry-After seen by one worker holds off all."""

    clock: Callable[[], float] = time.monotonic
    _not_before: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def wait_s(self) -> float:
        with self._lock:
            return max(0.0, self._not_before - self.clock())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # in all, the first try included
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff_s(self, retry: int) -> float:
        """Delay before retry number `retry` (1-based): exponential, half of it jittered."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def call(self, attempt: Callable[[], T], *, gate: Gate | None = None) -> T:
        """Run `attempt` until it succeeds, raises a non-Transient error, or attempts run out."""
        for number in range(1, self.attempts + 1):
            if gate is not None and (wait := gate.wait_s()) > 0:
                self.sleep(wait)
            try:
                return attempt()
            except Transient as failure:
                if number == self.attempts:
                    raise GaveUp(str(failure), number) from failure
                asked_s = failure.retry_after_s
                if asked_s is not None and asked_s > MAX_RETRY_AFTER_S:
                    raise GaveUp(
                        f"{failure} (the server asks to wait {asked_s:.0f} s)", number
                    ) from failure
                if asked_s is None:
                    self.sleep(self.backoff_s(number))
                elif gate is not None:
                    gate.hold(asked_s)  # slept at the top of the next try, by every worker
                else:
                    self.sleep(asked_s)
        raise AssertionError("unreachable")  # the loop always returns or raises
