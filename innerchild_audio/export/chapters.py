"""The Podcasting 2.0 chapters file (`application/json+chapters`), from the timeline."""

from __future__ import annotations

import json
from typing import Any, Final

from innerchild_audio.timeline import Timeline

CHAPTERS_VERSION: Final = "1.2.0"


def seconds(ms: int) -> float | int:
    """Seconds as JSON shows them best: `0`, `12.5`, `61.234`."""
    value = round(ms / 1000, 3)
    return int(value) if value == int(value) else value


def chapters_document(timeline: Timeline) -> dict[str, Any]:
    return {
        "version": CHAPTERS_VERSION,
        "chapters": [
            {"startTime": seconds(mark.start_ms), "title": mark.title}
            for mark in sorted(timeline.chapters, key=lambda m: m.start_ms)
        ],
    }


def chapters_json(timeline: Timeline) -> str:
    return json.dumps(chapters_document(timeline), ensure_ascii=False, indent=2) + "\n"
