"""Where clips are cached and where extra Piper voices live (option > environment > default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import platformdirs

APP_NAME: Final = "innerchild-audio"
CACHE_ENV: Final = "INNERCHILD_CACHE_DIR"
VOICES_ENV: Final = "INNERCHILD_VOICES_DIR"


def resolve_cache_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """The speech cache folder: `option`, else $INNERCHILD_CACHE_DIR, else the user cache dir."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "speech"


def resolve_voices_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """The folder of named Piper voices: `option`, else $INNERCHILD_VOICES_DIR, else user data."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(VOICES_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "voices"
