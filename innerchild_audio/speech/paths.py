"""Where clips are cached and where extra Piper voices live (option > environment > default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import platformdirs

APP_NAME: Final = "innerchild-audio"
CACHE_ENV: Final = "INNERCHILD_CACHE_DIR"
VOICES_ENV: Final = "INNERCHILD_VOICES_DIR"


def _resolve(option: str | os.PathLike[str] | None, env_name: str, default: Path) -> Path:
    """`option`, else the environment variable, else the default."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(env_name, "").strip()
    return Path(env).expanduser() if env else default


def resolve_cache_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """The speech cache folder: `option`, else $INNERCHILD_CACHE_DIR, else the user cache dir."""
    return _resolve(option, CACHE_ENV, Path(platformdirs.user_cache_dir(APP_NAME)) / "speech")


def resolve_voices_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """The folder of named Piper voices: `option`, else $INNERCHILD_VOICES_DIR, else user data."""
    return _resolve(option, VOICES_ENV, Path(platformdirs.user_data_dir(APP_NAME)) / "voices")
