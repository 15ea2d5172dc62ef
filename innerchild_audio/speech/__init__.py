"""Speech: text to audio clips through one small engine interface.

    from innerchild_audio.speech import synthesize_all, SpeechResult
    result = synthesize_all(timeline.requests(), engine="piper", jobs=2)
"""

from __future__ import annotations

import os

from innerchild_audio.speech.base import BatchEngine, Clip, Engine
from innerchild_audio.speech.cache import CacheInfo, ClipCache
from innerchild_audio.speech.paths import resolve_cache_dir, resolve_voices_dir
from innerchild_audio.speech.pooled import cpu_count
from innerchild_audio.speech.synth import SpeechResult, cached_clips, choose_auto, synthesize_all

__all__ = [
    "BatchEngine",
    "CacheInfo",
    "Clip",
    "ClipCache",
    "Engine",
    "SpeechResult",
    "cached_clips",
    "choose_auto",
    "cache_info",
    "clear_cache",
    "cpu_count",
    "resolve_cache_dir",
    "resolve_voices_dir",
    "synthesize_all",
]


def cache_info(cache_dir: str | os.PathLike[str] | None = None) -> CacheInfo:
    """What the speech cache holds (folder: option > $INNERCHILD_CACHE_DIR > user cache)."""
    return ClipCache(resolve_cache_dir(cache_dir)).info()


def clear_cache(
    cache_dir: str | os.PathLike[str] | None = None, engine: str | None = None
) -> CacheInfo:
    """Remove cached clips (all, or one engine's); returns what was removed."""
    return ClipCache(resolve_cache_dir(cache_dir)).clear(engine)
