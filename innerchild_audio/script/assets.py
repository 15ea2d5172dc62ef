"""Opening the files a script names, cheaply, so `check` finds a bad one before a render.

A sound is decoded for its first second only; its length comes from reading its
packets to the end without decoding them (constant memory, no trust in a header's
guess). A cover's image header is read, and an image too large to be a cover (a
decompression bomb) is refused before any pixel is decoded.
"""

from __future__ import annotations

import functools
import subprocess
import warnings
from pathlib import Path
from typing import Final

OPEN_SECONDS: Final = 1  # how much of a sound is decoded to know that it decodes
_FFMPEG: Final = ("-nostdin", "-hide_banner", "-loglevel", "error")


class AssetProblem(ValueError):
    """A sound or image that cannot be used; the message says why."""


def _ffmpeg(*args: str) -> subprocess.CompletedProcess[bytes]:
    from innerchild_audio.mix.decode import ffmpeg_exe  # the binary the mixer decodes with

    try:
        return subprocess.run([ffmpeg_exe(), *_FFMPEG, *args], capture_output=True,
                              check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AssetProblem(f"ffmpeg could not run: {error}") from error


def _reason(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"ffmpeg exit status {result.returncode}"


def open_sound(path: Path) -> None:
    """Raise AssetProblem unless the first second of the file decodes to audio."""
    result = _ffmpeg("-i", str(path), "-map", "0:a:0", "-t", str(OPEN_SECONDS), "-ac", "1",
                     "-ar", "8000", "-f", "s16le", "pipe:1")
    if result.returncode != 0:
        raise AssetProblem(f"{path.name} cannot be decoded as sound ({_reason(result)})")
    if not result.stdout:
        raise AssetProblem(f"{path.name} holds no audio")


def sound_length_ms(path: Path | str) -> int:
    """How long the sound plays, read to the end of its packets without decoding them
    whole (or, for a container without timestamps, decoded into nothing as it goes)."""
    file = Path(path)
    stat = file.stat()
    return _length_ms(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _length_ms(path: str, mtime_ns: int, size: int) -> int:
    del mtime_ns, size  # parts of the cache key only
    for codec in (("-c", "copy"), ()):
        result = _ffmpeg("-i", path, "-map", "0:a:0", *codec, "-f", "null", "-",
                         "-progress", "pipe:1", "-nostats")
        times = [line.partition("=")[2] for line in result.stdout.decode().splitlines()
                 if line.startswith("out_time_us=")]
        if result.returncode == 0 and times and times[-1].isdigit():
            return round(int(times[-1]) / 1000)
    raise AssetProblem(f"{Path(path).name}: cannot tell how long it plays ({_reason(result)})")


def open_image(path: Path) -> tuple[int, int]:
    """The image's size in pixels, from its header; AssetProblem if it is no image or one
    so large that decoding it would exhaust memory."""
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
