"""Reading audio files and changing sample rates.

Files (beds, bell sounds, `sound` steps) are decoded by the ffmpeg binary that
imageio-ffmpeg ships, straight to mono float32 PCM at the rate the mix needs;
there is no ffprobe here, and the container's own duration is not trusted.
Decoded files are cached for the run, keyed on path, modification time, size
and rate, so the planner's duration lookups and the mixer share one decode.
"""

from __future__ import annotations

import functools
import logging
import math
import subprocess
from pathlib import Path
from typing import Final

import numpy as np
from scipy.signal import resample_poly

from innerchild_audio.errors import RenderError

log = logging.getLogger(__name__)

DURATION_SAMPLE_RATE: Final = 44100  # the session default, so the mixer reuses the decode
DECODE_CACHE_FILES: Final = 8


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as error:  # imageio-ffmpeg raises RuntimeError when its binary is missing
        raise RenderError(f"no ffmpeg binary available from imageio-ffmpeg: {error}") from error


def decode_file(path: Path | str, sample_rate: int) -> np.ndarray:
    """The file's audio as mono float32 samples at `sample_rate`, shaped (frames,).

    Channels are mixed down by ffmpeg. The array is read-only (it is shared
    through the cache): multiply into a new array rather than in place.
    Raises RenderError when the file is missing, unreadable or holds no audio.
    """
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as error:
        raise RenderError(f"{file}: cannot read audio file: {error.strerror}") from error
    if not file.is_file():
        raise RenderError(f"{file}: not a file")
    return _decode_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size, int(sample_rate))


@functools.lru_cache(maxsize=DECODE_CACHE_FILES)
def _decode_cached(path: str, mtime_ns: int, size: int, sample_rate: int) -> np.ndarray:
    del mtime_ns, size  # parts of the cache key only
    command = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", path,
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate),
        "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1",
    ]
    log.debug("decoding %s at %d Hz", path, sample_rate)
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exit status {result.returncode}"
        raise RenderError(f"{path}: cannot decode audio: {reason}")
    samples = np.frombuffer(result.stdout, dtype="<f4")  # read-only view of the bytes
    if samples.size == 0:
        raise RenderError(f"{path}: the file holds no audio")
    if not np.isfinite(samples).all():
        raise RenderError(f"{path}: the decoded audio holds NaN or infinity")
    return samples.astype(np.float32, copy=False)


def clear_decode_cache() -> None:
    _decode_cached.cache_clear()


def audio_duration_ms(path: Path | str) -> int:
    """How long the file plays, in milliseconds, counted from its decoded samples."""
    frames = len(decode_file(path, DURATION_SAMPLE_RATE))
    return round(frames * 1000 / DURATION_SAMPLE_RATE)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`samples` at `to_rate` (polyphase, linear phase, float32).

    Returns the input itself when the rates match: do not change it in place.
    """
    if from_rate == to_rate:
        return samples
    if from_rate <= 0 or to_rate <= 0:
        raise RenderError(f"cannot resample from {from_rate} Hz to {to_rate} Hz")
    common = math.gcd(from_rate, to_rate)
    out = resample_poly(np.asarray(samples, dtype=np.float32), to_rate // common,
                        from_rate // common)
    return out.astype(np.float32, copy=False)
