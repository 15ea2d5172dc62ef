"""Audio in and out of the pipeline: ffmpeg, pydub, float frames.

Everything that runs ffmpeg to read audio, or crosses between pydub and numpy,
is here:

- `ffmpeg_exe()`: the binary imageio-ffmpeg ships (no system ffmpeg, no ffprobe).
- `AudioSegment()`: pydub's class, with that binary as its converter and without
  the warning pydub prints at import when no ffmpeg is on the PATH.
- `decode(source, rate)`: a user's sound file (any format ffmpeg reads), its bytes,
  or an `AudioSegment`, as float32 frames; decoded through pydub with the codec
  given explicitly, read only as far as `limit_ms` when that is given.
- `sound_duration_ms(path)`: how long a file plays, counted from decoded samples
  while holding none of them.
- `decode_mp3(path)`: one of our own MP3s as float32 frames, exactly.
- `to_segment(frames, rate)` and `check_finite(samples, what)`, `resample`.

The mixer works on float frames; pydub is what a Python caller holds.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import math
import re
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from innerchild_audio.errors import InnerChildError, RenderError

if TYPE_CHECKING:
    from pydub import AudioSegment as Segment

log = logging.getLogger(__name__)

MP3_SAMPLE_RATE: Final = 44100
DECODE_CACHE_FILES: Final = 8
PROBE_TIMEOUT_S: Final = 30.0
COUNT_RATE: Final = 8000  # durations are counted at this rate: 1/8 ms resolution, little work
COUNT_CHUNK_BYTES: Final = 1 << 16
CONVERT_CHUNK_FRAMES: Final = 1 << 18
_STREAM_RE: Final = re.compile(r"Stream #\d+:\d+(?:\[\w+\])?(?:\([^)]*\))?: Audio: ([A-Za-z0-9_]+)")
_FORMAT_RE: Final = re.compile(r"^Input #0, ([A-Za-z0-9_,]+), from", re.MULTILINE)


def ffmpeg_exe() -> str:
    """The ffmpeg binary imageio-ffmpeg ships; RenderError when it is missing."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as error:  # imageio-ffmpeg raises RuntimeError when its binary is missing
        raise RenderError(f"no ffmpeg binary available from imageio-ffmpeg: {error}") from error


@functools.cache
def _pydub() -> type[Segment]:
    # pydub looks for ffmpeg on the PATH at import and warns when it finds none;
    # ours comes from imageio-ffmpeg and is set as the converter right after.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="Couldn't find ffprobe", category=RuntimeWarning)
        from pydub import AudioSegment as segment_class
    segment_class.converter = ffmpeg_exe()
    return segment_class


def AudioSegment() -> type[Segment]:  # noqa: N802  (stands for the class)
    """pydub's AudioSegment class, its converter set to our ffmpeg."""
    return _pydub()


def is_segment(value: object) -> bool:
    """Whether `value` is a pydub AudioSegment (pydub is not imported for the question)."""
    return type(value).__name__ == "AudioSegment" and hasattr(value, "frame_rate")


def run_ffmpeg(arguments: Sequence[str], *, input_bytes: bytes | None = None,
               timeout_s: float | None = None, what: str = "audio",
               error_type: type[InnerChildError] = RenderError) -> bytes:
    """Run ffmpeg with `arguments` and return what it wrote to stdout; a failure is
    `error_type` naming `what`."""
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", *arguments]
    log.debug("ffmpeg: %s", " ".join(command))
    try:
        done = subprocess.run(command, input=input_bytes, capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as error:
        raise error_type(f"ffmpeg took longer than {timeout_s:g} s on {what}") from error
    except OSError as error:
        raise error_type(f"cannot run ffmpeg ({command[0]}): {error}") from error
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"ffmpeg exit status {done.returncode}"
        raise error_type(f"{what}: cannot decode audio: {reason}")
    return done.stdout


def check_finite(samples: np.ndarray, what: str, offset: int = 0) -> None:
    """RenderError naming the first frame that is NaN or infinite, if any."""
    finite = np.isfinite(samples)
    if not finite.all():
        flat = finite.reshape(len(samples), -1).all(axis=1)
        bad = offset + int(np.argmin(flat))
        raise RenderError(f"{what} holds NaN or infinity near frame {bad}")


@dataclass(frozen=True)
class Probe:
    """What ffmpeg reads from a file's header: its container and audio codec."""

    format: str
    codec: str


def probe(path: Path | bytes) -> Probe:
    """The container and audio codec of a file or its bytes, read from its header
    (ffmpeg itself reads it: there is no ffprobe here)."""
    data = path if isinstance(path, bytes) else None
    command = [ffmpeg_exe(), "-hide_banner", "-i", "pipe:0" if data is not None else str(path)]
    if data is None:
        command.insert(1, "-nostdin")
    try:
        done = subprocess.run(command, input=data, capture_output=True,
                              timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RenderError(f"{path}: cannot read audio file: {error}") from error
    text = done.stderr.decode("utf-8", "replace")  # ffmpeg -i with no output says it all here
    stream, container = _STREAM_RE.search(text), _FORMAT_RE.search(text)
    if stream is None or container is None:
        lines = [line for line in text.strip().splitlines() if "must be specified" not in line]
        reason = lines[-1].strip() if lines else "no audio stream"
        raise RenderError(f"{path}: cannot decode audio: {reason}")
    return Probe(container.group(1).split(",")[0], stream.group(1))


def to_frames(segment: Segment, sample_rate: int, channels: int = 1) -> np.ndarray:
    """An AudioSegment's samples as float32 in [-1, 1): (frames,) for mono, else
    (frames, channels); mixed down or spread as asked, resampled to `sample_rate`.

    Converted a chunk at a time, so a long segment never has a float copy of
    all its channels."""
    width, layout = segment.sample_width, max(segment.channels, 1)
    raw = memoryview(segment.raw_data)
    total = len(raw) // (width * layout)
    mono = np.empty(total, dtype=np.float32)
    for start in range(0, total, CONVERT_CHUNK_FRAMES):
        stop = min(total, start + CONVERT_CHUNK_FRAMES)
        chunk = _as_float(raw[start * width * layout: stop * width * layout], width)
        mono[start:stop] = chunk.reshape(-1, layout).mean(axis=1, dtype=np.float32)
    mono = resample(mono, segment.frame_rate, sample_rate)
    if channels == 1:
        return mono
    return np.repeat(mono[:, np.newaxis], channels, axis=1)


def _as_float(data: memoryview, width: int) -> np.ndarray:
    if width == 1:  # 8-bit PCM is unsigned
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 3:  # 24-bit: three bytes a sample, little-endian
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
        return joined.astype(np.float32) / float(1 << 31)
    dtype = "<i2" if width == 2 else "<i4"
    return np.frombuffer(data, dtype=dtype).astype(np.float32) / float(1 << (8 * width - 1))


def to_segment(frames: np.ndarray, sample_rate: int) -> Segment:
    """Float frames, (frames,) or (frames, channels), as a 16-bit AudioSegment."""
    laid_out = frames[:, np.newaxis] if frames.ndim == 1 else frames
    check_finite(laid_out, "the audio")
    pcm = np.clip(np.round(laid_out * 32767.0), -32768, 32767).astype("<i2")
    return AudioSegment()(data=pcm.tobytes(), sample_width=2, frame_rate=sample_rate,
                          channels=laid_out.shape[1])


def segment_digest(segment: Segment) -> str:
    """A content hash of an AudioSegment (samples and layout), for input hashes."""
    digest = hashlib.sha256(f"{segment.frame_rate}:{segment.channels}:"
                            f"{segment.sample_width}:".encode())
    digest.update(segment.raw_data)
    return digest.hexdigest()


def decode(source: Path | str | bytes | Any, sample_rate: int, *,
           limit_ms: int | None = None, what: str | None = None) -> np.ndarray:
    """Mono float32 samples of a sound at `sample_rate`, shaped (frames,).

    `source` is a file path (any format ffmpeg reads), the file's bytes, or a
    pydub AudioSegment. With `limit_ms` no more than that much is read (a long
    bed under a short session is never decoded whole). Files are cached for
    the run by path, modification time, size, rate and limit; the array is
    read-only: multiply into a new one. RenderError when the source is
    missing, unreadable, empty or not finite.
    """
    if is_segment(source):
        segment = source if limit_ms is None else source[:limit_ms]
        samples = to_frames(segment, sample_rate)
        return _checked(samples, what or "the AudioSegment")
    if isinstance(source, (bytes, bytearray)):
        segment = _segment_of(bytes(source), limit_ms, what or "the audio")
        return _checked(to_frames(segment, sample_rate), what or "the audio")
    file = Path(source)
    try:
        stat = file.stat()
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = getattr(error, "strerror", None) or str(error)
        raise RenderError(f"{file}: cannot read audio file: {reason}") from error
    if not file.is_file():
        raise RenderError(f"{file}: not a file")
    return _decode_file_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size,
                               int(sample_rate), limit_ms)


def _checked(samples: np.ndarray, what: str) -> np.ndarray:
    if samples.size == 0:
        raise RenderError(f"{what}: the sound holds no audio")
    check_finite(samples, what)
    samples = np.asarray(samples, dtype=np.float32)
    samples.setflags(write=False)
    return samples


@functools.lru_cache(maxsize=DECODE_CACHE_FILES)
def _decode_file_cached(path: str, mtime_ns: int, size: int, sample_rate: int,
                        limit_ms: int | None) -> np.ndarray:
    del mtime_ns, size  # parts of the cache key only
    log.debug("decoding %s at %d Hz", path, sample_rate)
    return _checked(to_frames(_segment_of(Path(path), limit_ms, path), sample_rate), path)


def _segment_of(source: Path | bytes, limit_ms: int | None, what: str) -> Segment:
    """A file or its bytes as an AudioSegment, through pydub with the format and codec
    named (so pydub runs no ffprobe and ffmpeg guesses nothing)."""
    found = probe(source)
    seconds = None if limit_ms is None else limit_ms / 1000
    opened = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        return AudioSegment().from_file(opened, format=found.format, codec=found.codec,
                                        duration=seconds)
    except Exception as error:  # pydub raises CouldntDecodeError, or IndexError on no audio
        reason = str(error).strip().splitlines()
        raise RenderError(f"{what}: cannot decode audio: {reason[-1] if reason else error}"
                          ) from error


def clear_decode_cache() -> None:
    _decode_file_cached.cache_clear()


def sound_duration_ms(path: Path | str, *, cap_ms: int | None = None) -> int:
    """How long a file plays, counted from its decoded samples (the container's own
    duration is not trusted), holding none of them. With `cap_ms`, counting stops a
    little past it: a longer file is reported as `cap_ms + 1`."""
    file = Path(path)
    if not file.is_file():
        raise RenderError(f"{file}: not a file")
    found = probe(file)
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
               "-c:a", found.codec, "-i", str(file), "-map", "0:a:0", "-vn", "-ac", "1",
               "-ar", str(COUNT_RATE), "-f", "s16le", "pipe:1"]
    cap_bytes = None if cap_ms is None else (cap_ms * COUNT_RATE // 1000 + COUNT_RATE) * 2
    counted = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None  # stdout=PIPE
        while chunk := process.stdout.read(COUNT_CHUNK_BYTES):
            counted += len(chunk)
            if cap_bytes is not None and counted > cap_bytes:
                process.kill()
                return int(cap_ms) + 1  # type: ignore[arg-type]
        error = process.stderr.read() if process.stderr else b""
        status = process.wait()
    if status != 0 or counted == 0:
        lines = error.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{file}: cannot decode audio: "
                          f"{lines[-1] if lines else 'the file holds no audio'}")
    return round(counted / 2 * 1000 / COUNT_RATE)


def decode_mp3(path: Path, *, sample_rate: int = MP3_SAMPLE_RATE, channels: int | None = None
               ) -> np.ndarray:
    """Decoded samples of one of our MP3s, float32 shaped (frames, channels), exactly.

    `channels` None keeps the MP3's own channel count (read from its header by
    mutagen); with `channels` given, any file ffmpeg reads is decoded.
    """
    if channels is None:
        channels = _mp3_channels(path)
    out = run_ffmpeg(["-i", str(path), "-f", "f32le", "-ac", str(channels),
                      "-ar", str(sample_rate), "pipe:1"], what=str(path))
    return np.frombuffer(out, dtype="<f4").reshape(-1, channels)


def _mp3_channels(path: Path) -> int:
    from mutagen import MutagenError
    from mutagen.mp3 import MP3, MPEGInfo

    try:
        info = MP3(path).info
    except (MutagenError, OSError) as error:  # mutagen wraps a missing file's OSError
        raise RenderError(f"{path} is not a readable MP3: {error}") from error
    if not isinstance(info, MPEGInfo):
        raise RenderError(f"{path} is not a readable MP3: no stream information")
    return int(info.channels)


def decode_segment(path: Path | str) -> Segment:
    """A sound file as an AudioSegment at its own rate and channels."""
    return _segment_of(Path(path), None, str(path))


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`samples` at `to_rate` (polyphase, linear phase, float32).

    Returns the input itself when the rates match: do not change it in place.
    """
    if from_rate == to_rate:
        return samples
    if from_rate <= 0 or to_rate <= 0:
        raise RenderError(f"cannot resample from {from_rate} Hz to {to_rate} Hz")
    from scipy.signal import resample_poly

    common = math.gcd(from_rate, to_rate)
    out = resample_poly(np.asarray(samples, dtype=np.float32), to_rate // common,
                        from_rate // common)
    return out.astype(np.float32, copy=False)


def wav_bytes(segment: Segment) -> bytes:
    """An AudioSegment as WAV file bytes."""
    out = io.BytesIO()
    segment.export(out, format="wav")
    return out.getvalue()


__all__ = [
    "AudioSegment", "MP3_SAMPLE_RATE", "Probe", "check_finite", "clear_decode_cache", "decode",
    "decode_mp3", "decode_segment", "ffmpeg_exe", "is_segment", "probe", "resample",
    "run_ffmpeg", "segment_digest", "sound_duration_ms", "to_frames", "to_segment", "wav_bytes",
]
