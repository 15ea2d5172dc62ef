"""Measuring audio in tests, and making synthetic speech and timelines to measure.

Measurements are independent of the code under test: loudness through
pyloudnorm itself, true peak through scipy's resample_poly on the whole signal.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pyloudnorm
from scipy.signal import resample_poly

from innerchild_audio.model import Background, Source, Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import (
    BedSpan,
    BellEvent,
    BreathEvent,
    Event,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
    ToneEvent,
)

SOURCE = Source(Path("test.yaml"), 1, 1)


# --- measuring ----------------------------------------------------------------------

def mono(audio: np.ndarray) -> np.ndarray:
    """The first channel of (frames, channels) audio, or the audio itself if 1-D."""
    return audio[:, 0] if audio.ndim == 2 else audio


def window(audio: np.ndarray, sample_rate: int, start_ms: float, end_ms: float) -> np.ndarray:
    """Frames [start_ms, end_ms) of the audio (same rounding as the mixer)."""
    return audio[round(start_ms * sample_rate / 1000): round(end_ms * sample_rate / 1000)]


def rms_db(samples: np.ndarray) -> float:
    """RMS in dBFS (-inf for digital silence)."""
    ms = float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0
    return 10 * math.log10(ms) if ms > 0 else -math.inf


def window_rms_db(audio: np.ndarray, sample_rate: int, start_ms: float, end_ms: float) -> float:
    return rms_db(window(audio, sample_rate, start_ms, end_ms))


def peak_db(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def max_jump(samples: np.ndarray) -> float:
    """The largest change from one sample to the next."""
    return float(np.max(np.abs(np.diff(samples, axis=0)))) if len(samples) > 1 else 0.0


def true_peak_dbtp(audio: np.ndarray) -> float:
    """4x oversampled peak of the whole signal, dBTP."""
    peak = float(np.max(np.abs(resample_poly(audio, 4, 1, axis=0))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(audio))


def dominant_hz(samples: np.ndarray, sample_rate: int) -> float:
    """The strongest frequency (Hann-windowed spectrum peak)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * sample_rate / len(samples))


def band_db(samples: np.ndarray, sample_rate: int, low_hz: float, high_hz: float) -> float:
    """Power in a frequency band, dB (relative; for comparing bands)."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / sample_rate)
    return 10 * math.log10(float(spectrum[(freqs >= low_hz) & (freqs < high_hz)].mean()))


# --- making audio -------------------------------------------------------------------

def speech_clip(duration_ms: int, sample_rate: int = 22050, *, pitch_hz: float = 140.0,
                level: float = 0.3, seed: int = 1) -> Clip:
    """Speech-like: a voiced buzz with a wandering pitch in syllable-rate bursts.

    Starts and ends with 30 ms of silence, as TTS clips do.
    """
    rng = np.random.default_rng(seed)
    n = round(duration_ms * sample_rate / 1000)
    t = np.arange(n) / sample_rate
    f0 = pitch_hz * (1 + 0.06 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    buzz = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllables = 0.25 + 0.75 * np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None)
    signal = buzz * syllables + 0.02 * rng.standard_normal(n)
    signal *= level / np.max(np.abs(signal))
    quiet = round(0.03 * sample_rate)
    signal[:quiet] = 0
    signal[n - quiet:] = 0
    return Clip(signal.astype(np.float32), sample_rate)


def write_audio(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Encode mono float samples to `path`; the format follows the suffix (wav, mp3, ogg, flac)."""
    codec = {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".ogg": "libvorbis",
             ".flac": "flac"}[path.suffix]
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
               "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
               "-c:a", codec, str(path)]
    subprocess.run(command, input=np.asarray(samples, dtype="<f4").tobytes(), check=True)
    return path


def sine(duration_ms: int, freq_hz: float, sample_rate: int, level: float = 0.5) -> np.ndarray:
    t = np.arange(round(duration_ms * sample_rate / 1000)) / sample_rate
    return (level * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


# --- timelines by hand --------------------------------------------------------------

@dataclass
class TimelineBuilder:
    """Events appended one after another, as the planner lays them out."""

    voice: Voice = field(default_factory=Voice)
    events: list[Event] = field(default_factory=list)
    clips: dict[SpeechRequest, Clip] = field(default_factory=dict)
    beds: list[BedSpan] = field(default_factory=list)
    now_ms: int = 0

    def say(self, text: str, clip: Clip | None = None, *, duration_ms: int = 1500,
            cue: bool = False, advance: bool = True) -> SpeechEvent:
        request = SpeechRequest(text, self.voice)
        if request not in self.clips:
            self.clips[request] = clip or speech_clip(duration_ms, seed=len(self.clips) + 1)
        event = SpeechEvent(self.now_ms, self.clips[request].duration_ms, request, SOURCE, cue)
        self._add(event, advance)
        return event

    def pause(self, duration_ms: int, reason: str = "pause") -> SilenceEvent:
        event = SilenceEvent(self.now_ms, duration_ms, reason, SOURCE)  # type: ignore[arg-type]
        self._add(event)
        return event

    def bell(self, strikes: int = 1, gap_ms: int = 3000, duration_ms: int = 7000,
             sound: Path | None = None) -> BellEvent:
        event = BellEvent(self.now_ms, duration_ms, strikes, gap_ms, sound, SOURCE)
        self._add(event)
        return event

    def breath(self, phase: str, duration_ms: int, *, tone: bool = False,
               cue: str | None = None) -> BreathEvent:
        event = BreathEvent(self.now_ms, duration_ms, phase, 1, SOURCE)  # type: ignore[arg-type]
        self.events.append(event)
        if tone:
            self.events.append(ToneEvent(self.now_ms, duration_ms, phase == "in", SOURCE))
        if cue:
            self.say(cue, duration_ms=700, cue=True, advance=False)
        self.now_ms += duration_ms
        return event

    def sound(self, file: Path, duration_ms: int, gain_db: float = 0.0) -> SoundEvent:
        event = SoundEvent(self.now_ms, duration_ms, file, gain_db, SOURCE)
        self._add(event)
        return event

    def bed(self, start_ms: int, end_ms: int, background: Background) -> BedSpan:
        span = BedSpan(start_ms, end_ms, background)
        self.beds.append(span)
        return span

    def _add(self, event: Event, advance: bool = True) -> None:
        self.events.append(event)
        if advance:
            self.now_ms += event.duration_ms

    def timeline(self) -> Timeline:
        events = tuple(sorted(self.events, key=lambda e: e.start_ms))
        return Timeline(events=events, chapters=(), beds=tuple(self.beds), total_ms=self.now_ms,
                        min_total_ms=self.now_ms, max_total_ms=self.now_ms)


class ArrayStream:
    """A ready-made array as the `export.AudioStream` export takes, with stated measurements
    (as a mastered stream would report them once it has run)."""

    def __init__(self, audio: np.ndarray, sample_rate: int, *, loudness_lufs: float,
                 true_peak_dbtp: float, block_frames: int = 1 << 16):
        self.audio = audio if audio.ndim == 2 else audio[:, np.newaxis]
        self.sample_rate = sample_rate
        self.frames, self.channels = self.audio.shape
        self._measured = (loudness_lufs, true_peak_dbtp)
        self._block = block_frames
        self.loudness_lufs: float | None = None
        self.true_peak_dbtp: float | None = None

    def blocks(self):
        for start in range(0, self.frames, self._block):
            yield np.array(self.audio[start: start + self._block], dtype=np.float32)
        self.loudness_lufs, self.true_peak_dbtp = self._measured
