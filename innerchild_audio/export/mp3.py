"""MP3 encoding (and decoding, for checks) with the ffmpeg binary imageio-ffmpeg ships.

PCM goes to ffmpeg's stdin as raw float32 in blocks, straight from the arrays'
memory: no WAV file, no copy of the whole session. The blocks may come from an
array or be made one by one while ffmpeg encodes the ones before.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Final

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

import numpy as np

from innerchild_audio.audio_io import MP3_SAMPLE_RATE, check_finite, ffmpeg_exe
from innerchild_audio.errors import RenderError

log = logging.getLogger(__name__)

CBR_BITRATES_KBPS: Final = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
DEFAULT_MONO_KBPS: Final = 96
DEFAULT_STEREO_KBPS: Final = 128
_BLOCK_FRAMES: Final = 1 << 16  # about 1.5 s per write to the pipe
_PIPE_BYTES: Final = 1 << 20
# LAME's CBR presets scale the input down (to avoid clipping in decoders): 0.95 up to
# 160 kbps, then 0.97, 0.98, 1.0. Encoding divides it out so the file plays at the
# level it was mastered to; tests check the decoded gain at every rate.
LAME_PRESET_SCALE: Final = {192: 0.97, 224: 0.98, 256: 1.0, 320: 1.0}
_LAME_LOW_RATE_SCALE: Final = 0.95


def lame_scale(bitrate_kbps: int) -> float:
    return LAME_PRESET_SCALE.get(bitrate_kbps, _LAME_LOW_RATE_SCALE)


def overshoot_allowance_db(bitrate_kbps: int, channels: int) -> float:
    """How far under a true-peak limit to master so the decoded MP3 still meets it.

    MP3 coding noise raises true peaks, more so at low bitrates. Measured on the
    library's sessions (worst of nine, master's ceiling to decoded file): 0.5 dB
    at 96 kbps mono and 128 kbps stereo, 0.7 dB at 64 kbps mono, 2.1 dB at 32 kbps.
    """
    per_channel = bitrate_kbps / max(channels, 1)
    if per_channel >= 80:
        return 1.0
    if per_channel >= 56:
        return 1.5
    return 2.5


def default_bitrate_kbps(channels: int) -> int:
    return DEFAULT_STEREO_KBPS if channels > 1 else DEFAULT_MONO_KBPS


def check_bitrate(bitrate_kbps: int) -> int:
    """The bitrate if MP3 CBR offers it at 44.1 kHz; ValueError naming the choices otherwise."""
    if bitrate_kbps not in CBR_BITRATES_KBPS:
        choices = ", ".join(str(b) for b in CBR_BITRATES_KBPS)
        raise ValueError(f"bitrate {bitrate_kbps} kbps is not an MP3 CBR rate; choose {choices}")
    return bitrate_kbps


def _as_frames(audio: np.ndarray) -> np.ndarray:
    """(frames, channels) little-endian float32, C order (so rows are interleaved samples)."""
    if audio.ndim == 1:
        audio = audio[:, np.newaxis]
    if audio.ndim != 2 or audio.shape[1] not in (1, 2):
        raise RenderError(f"expected mono or stereo audio shaped (frames, channels), "
                          f"got {audio.shape}")
    return np.ascontiguousarray(audio, dtype="<f4")


def encode_mp3(audio: np.ndarray, sample_rate: int, out_path: Path, *, bitrate_kbps: int) -> None:
    """Encode float32 PCM, shaped (frames, channels), to a 44.1 kHz CBR MP3 at `out_path`.

    `out_path` is overwritten as it is written: callers pass a temporary path
    (see `atomic.Staging`). The file carries a LAME/Info header, so decoders
    trim the encoder's delay and padding and the length plays back exactly;
    LAME's preset level reduction is undone, so the level plays back as given.
    No ID3 tags are written here (`tags.write_tags` does that).
    """
    check_bitrate(bitrate_kbps)
    frames = _as_frames(audio)
    if len(frames) == 0:
        raise RenderError("nothing to encode: the session has no audio")
    blocks = (frames[start: start + _BLOCK_FRAMES]
              for start in range(0, len(frames), _BLOCK_FRAMES))
    encode_blocks(blocks, sample_rate, frames.shape[1], out_path, bitrate_kbps=bitrate_kbps)


def encode_blocks(blocks: Iterable[np.ndarray], sample_rate: int, channels: int,
                  out_path: Path, *, bitrate_kbps: int) -> int:
    """Encode PCM handed over block by block, as `encode_mp3` does; returns the frames.

    Blocks are float32 shaped (frames, channels) and must not change once
    handed over. The blocks are made (the iterable is run) on a thread of its
    own while ffmpeg encodes the ones before, and written to ffmpeg from
    another. ffmpeg's encoder is what takes longest, so the thread making the
    blocks runs at idle priority where the system allows it (Linux): it works
    in the time the encoder leaves and never takes a core from it. An error
    while making the blocks, or in ffmpeg, stops both.
    """
    check_bitrate(bitrate_kbps)
    if channels not in (1, 2):
        raise RenderError(f"expected mono or stereo audio, got {channels} channels")
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0",
        "-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k",
        "-ar", str(MP3_SAMPLE_RATE), "-ac", str(channels),
        "-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "1",
        "-f", "mp3", "-y", str(out_path),
    ]
    log.debug("encoding: %s", " ".join(command))
    iterator = iter(blocks)
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
        except OSError as error:
            _close(iterator)
            raise RenderError(f"cannot run ffmpeg ({command[0]}): {error}") from error
        assert process.stdin is not None  # guaranteed by stdin=PIPE
        _widen_pipe(process.stdin)
        writer = _PipeWriter(process.stdin)
        producer = _Producer(iterator, writer, channels,
                             np.float32(1.0 / lame_scale(bitrate_kbps)))
        try:
            written = producer.result()
            writer.close()
        except BaseException:
            producer.stop()
            process.kill()
            writer.close()
            producer.result(reraise=False)  # it has let go of the blocks
            process.wait()
            raise
        status = process.wait()
        if status != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise RenderError(f"ffmpeg could not encode {out_path.name} (exit {status}): {message}")
    return written


def _close(iterator: Iterator[np.ndarray]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()  # a generator left early lets go of what it holds now


def _widen_pipe(pipe: IO[bytes]) -> None:
    """A larger pipe buffer where Linux allows it: fewer wake-ups, more slack."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is None:
        return
    try:
        fcntl.fcntl(pipe.fileno(), set_size, _PIPE_BYTES)
    except OSError:
        pass  # above the system's limit: the default buffer works too


def _idle_priority() -> None:
    """Run the calling thread (and threads it starts) only when a core is free (Linux)."""
    if sys.platform != "linux" or not hasattr(os, "SCHED_IDLE"):
        return
    try:
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    except OSError:
        pass  # not allowed here: it still works, only with the encoder sharing its core


class _Producer:
    """Runs the blocks' iterator on a thread of its own and queues the blocks for the pipe."""

    def __init__(self, iterator: Iterator[np.ndarray], writer: _PipeWriter, channels: int,
                 gain: np.float32):
        self._iterator = iterator
        self._writer = writer
        self._channels = channels
        self._gain = gain
        self._stopping = threading.Event()
        self._written = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mp3-blocks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def result(self, *, reraise: bool = True) -> int:
        """The frames queued, once the iterator is done; its error, if it raised one."""
        self._thread.join()
        if self._error is not None and reraise:
            raise self._error
        return self._written

    def _run(self) -> None:
        _idle_priority()
        try:
            for block in self._iterator:
                if self._stopping.is_set() or self._writer.broken:
                    break  # ffmpeg quit early: its exit status and message say why
                frames = _as_frames(block)
                if frames.shape[1] != self._channels:
                    raise RenderError(f"a block of {frames.shape[1]} channels in a "
                                      f"{self._channels}-channel stream")
                check_finite(frames, "audio", self._written)
                if self._gain != 1.0:
                    frames = frames * self._gain
                self._writer.put(frames)
                self._written += len(frames)
            else:
                if self._written == 0 and not self._writer.broken:
                    raise RenderError("nothing to encode: the session has no audio")
        except BaseException as error:  # handed to the waiting thread
            self._error = error
        finally:
            _close(self._iterator)


class _PipeWriter:
    """Writes queued blocks to a pipe from its own thread; a few blocks wait at most."""

    DEPTH: Final = 4

    def __init__(self, pipe: IO[bytes]):
        self._pipe = pipe
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=self.DEPTH)
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="mp3-pipe", daemon=True)
        self._thread.start()

    def put(self, block: np.ndarray) -> None:
        self._queue.put(block)

    def close(self) -> None:
        """Write what is queued, then close the pipe (safe to call twice)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (block := self._queue.get()) is not None:
            if self.broken:
                continue  # drained, never written
            try:
                self._pipe.write(block.data.cast("B"))
            except OSError:  # ffmpeg quit (broken pipe) or was stopped
                self.broken = True
        try:
            self._pipe.close()
        except OSError:
            self.broken = True
