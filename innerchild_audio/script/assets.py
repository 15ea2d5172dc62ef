"""Opening the files a script names, cheaply, so `check` finds a bad one before a render.

A sound is decoded for its first second only (its length is counted later by the
planner, which stops past the one-hour limit). A cover's image header is read, and
an image too large to be a cover (a decompression bomb) is refused before any pixel
is decoded.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Final

from innerchild_audio.errors import RenderError

OPEN_MS: Final = 1000  # how much of a sound is decoded to know that it decodes
OPEN_RATE: Final = 8000  # enough to tell audio from none, little work


class AssetProblem(ValueError):
    """A sound or image that cannot be used; the message says why."""


def _identity(path: Path) -> tuple[Path, int, int]:
    """The file as it is now: a changed file is opened again."""
    try:
        stat = path.stat()
    except OSError:
        return path, -1, -1  # opening it will say what is wrong
    return path, stat.st_mtime_ns, stat.st_size


def open_sound(path: Path) -> None:
    """Raise AssetProblem unless the first second of the file decodes to audio."""
    _open_sound(*_identity(path))


def open_image(path: Path) -> tuple[int, int]:
    """The image's size in pixels, from its header; AssetProblem if it is no image or one
    so large that decoding it would exhaust memory."""
    return _open_image(*_identity(path))


# Opened once a process while unchanged: a batch prepares the same script for every row.
@lru_cache(maxsize=256)
def _open_sound(path: Path, _mtime_ns: int, _size: int) -> None:
    from innerchild_audio.audio_io import decode

    try:
        decode(path, OPEN_RATE, limit_ms=OPEN_MS)
    except RenderError as error:
        reason = str(error).removeprefix(f"{path}: ").removeprefix("cannot decode audio: ")
        raise AssetProblem(f"{path.name} cannot be decoded as sound ({reason})") from None


@lru_cache(maxsize=256)
def _open_image(path: Path, _mtime_ns: int, _size: int) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise AssetProblem(f"{path.name} is too large to be a cover (over "
                           f"{Image.MAX_IMAGE_PIXELS:,} pixels); covers are 1400 to 3000 px "
                           "square") from None
    except (OSError, UnidentifiedImageError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise AssetProblem(f"{path.name} cannot be read as an image ({reason})") from None
