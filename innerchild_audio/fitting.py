"""Fitting elastic pauses to a target length: a pure function.

Each elastic pause gets its share of the time left after the fixed content,
in proportion to its range (max - min), and so stays within its bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from innerchild_audio.errors import UsageError
from innerchild_audio.units import format_duration


@dataclass(frozen=True)
class Elastic:
    min_ms: int
    max_ms: int
    default_ms: int


class LengthOutOfReach(UsageError):
    def __init__(self, target_ms: int, min_total_ms: int, max_total_ms: int, name: str = ""):
        self.target_ms = target_ms
        self.min_total_ms = min_total_ms
        self.max_total_ms = max_total_ms
        self.name = name
        prefix = f"{name}: " if name else ""
        reach = (f"runs exactly {format_duration(min_total_ms)}" if min_total_ms == max_total_ms
                 else f"runs {format_duration(min_total_ms)} to {format_duration(max_total_ms)}")
        super().__init__(f"{prefix}length {format_duration(target_ms)} is out of reach: "
                         f"this script {reach}")

    def __reduce__(self):
        return type(self), (self.target_ms, self.min_total_ms, self.max_total_ms, self.name)


def reachable_range(fixed_ms: int, pauses: Sequence[Elastic]) -> tuple[int, int]:
    return (fixed_ms + sum(p.min_ms for p in pauses), fixed_ms + sum(p.max_ms for p in pauses))


def fit_pauses(fixed_ms: int, pauses: Sequence[Elastic], target_ms: int | None,
               name: str = "") -> list[int]:
    """Duration of each elastic pause, so that fixed + sum == target exactly.

    Without a target each pause takes its default. Raises LengthOutOfReach.
    """
    if target_ms is None:
        return [p.default_ms for p in pauses]
    low, high = reachable_range(fixed_ms, pauses)
    if not low <= target_ms <= high:
        raise LengthOutOfReach(target_ms, low, high, name)
    spare = target_ms - low
    total_range = sum(p.max_ms - p.min_ms for p in pauses)
    if spare == 0 or total_range == 0:
        return [p.min_ms for p in pauses]
    shares = [spare * (p.max_ms - p.min_ms) / total_range for p in pauses]
    result = [p.min_ms + int(s) for p, s in zip(pauses, shares, strict=False)]
    # Hand out the rounding remainder by largest fraction, never past a pause's max.
    leftover = target_ms - fixed_ms - sum(result)
    order = sorted(range(len(pauses)), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in order:
        if leftover <= 0:
            break
        if result[i] < pauses[i].max_ms:
            result[i] += 1
            leftover -= 1
    return result
