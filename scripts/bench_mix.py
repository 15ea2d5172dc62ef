"""Benchmark: mixing and mastering a long session, time and memory.

    python scripts/bench_mix.py [--minutes 20] [--channels 1] [--bed brown-noise]

Builds a timeline by hand (speech-like clips at 22.05 kHz, as Piper makes them;
sentence, paragraph and long pauses; bells; breathing with tones; a bed that
changes halfway), then times in this process, first the streaming path render
takes (a pass of the Mixer alone; master_stream's measuring pass; its second
pass, mixing and mastering block by block, without encoding), then the
whole-array mix (mix_session) and the reference whole-array master that the
tests check the stream against (tests/reference_master.py). Memory is the process's
peak resident set after each stage, beside the size of one session buffer
(the floor for a whole-session mix; the streaming path never holds one).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from innerchild_audio.master import master_stream
from innerchild_audio.mix import Mixer, mix_session
from innerchild_audio.model import Background, Source, Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import (
    BELL_RING_MS,
    BedSpan,
    BellEvent,
    BreathEvent,
    SilenceEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
    ToneEvent,
)

CLIP_RATE = 22050
SOURCE = Source(Path("bench.yaml"), 1, 1)


def peak_mib() -> float:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def speech_like(rng: np.random.Generator, seconds: float) -> np.ndarray:
    n = round(seconds * CLIP_RATE)
    t = np.arange(n) / CLIP_RATE
    f0 = rng.uniform(95, 140) * (1 + 0.08 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / CLIP_RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t), 0, None) ** 0.7
    signal = wave * syllables + 0.03 * rng.standard_normal(n)
    return (signal / np.abs(signal).max() * 0.5).astype(np.float32)


def build(minutes: float, bed: str) -> tuple[Timeline, dict[SpeechRequest, Clip]]:
    rng = np.random.default_rng(1)
    voice = Voice(engine="piper")
    total = round(minutes * 60_000)
    events: list = []
    clips: dict[SpeechRequest, Clip] = {}
    now, i = 0, 0
    while now < total - 30_000:
        if i % 40 == 0:
            events.append(BellEvent(now, BELL_RING_MS, 1, 0, None, SOURCE))
            now += BELL_RING_MS
        if i % 25 == 10:  # three breathing cycles with tones
            for _ in range(3):
                for phase, ms in (("in", 4000), ("hold", 4000), ("out", 6000)):
                    events.append(BreathEvent(now, ms, phase, 1, SOURCE))
                    if phase != "hold":
                        events.append(ToneEvent(now, ms, phase == "in", SOURCE))
                    now += ms
        request = SpeechRequest(f"Sentence {i}.", voice)
        clip = Clip(speech_like(rng, rng.uniform(1.5, 6.0)), CLIP_RATE)
        clips[request] = clip
        events.append(SpeechEvent(now, clip.duration_ms, request, SOURCE))
        now += clip.duration_ms
        pause = int(rng.choice([1200, 1200, 1200, 3000, 8000]))
        events.append(SilenceEvent(now, pause, "pause", SOURCE))
        now += pause
        i += 1
    events.append(SilenceEvent(now, total - now, "elastic", SOURCE))
    half = total // 2
    beds = (BedSpan(0, half, Background(bed)),
            BedSpan(half, total, Background("pink-noise", volume_db=-24.0)))
    return Timeline(tuple(events), (), beds, total, total, total), clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--channels", type=int, default=1, choices=[1, 2])
    parser.add_argument("--bed", default="brown-noise")
    args = parser.parse_args()
    timeline, clips = build(args.minutes, args.bed)
    speech_s = sum(e.duration_ms for e in timeline.speech) / 1000
    buffer_mib = round(timeline.total_ms * 44.1) * 4 * args.channels / 2**20
    before = peak_mib()
    print(f"session {args.minutes:g} min, {args.channels} ch, 44.1 kHz: "
          f"{len(timeline.events)} events, {speech_s / 60:.1f} min of speech; "
          f"one session buffer is {buffer_mib:.0f} MiB")
    print(f"  inputs ready          peak RSS {before:7.1f} MiB")
    mixer = Mixer(timeline, clips, channels=args.channels)
    with Timer("Mixer, one pass") as timer:
        for _ in mixer.blocks():
            pass
    timer.report()
    with Timer("master_stream, pass 1") as timer:
        stream = master_stream(mixer)
    timer.report(f"gain {stream.gain_db:+.2f} dB")
    with Timer("pass 2 (no encoding)") as timer:
        for _ in stream.blocks():
            pass
    timer.report(f"-> {stream.loudness_lufs:.2f} LUFS, {stream.true_peak_dbtp:.2f} dBTP")
    with Timer("mix_session") as timer:
        audio = mix_session(timeline, clips, channels=args.channels)
    timer.report()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from reference_master import master  # the whole-array reference, not a package path

    with Timer("reference master") as timer:
        result = master(audio, 44100, in_place=True)
    timer.report(f"-> {result.loudness_lufs:.2f} LUFS, {result.true_peak_dbtp:.2f} dBTP, "
                 f"gain {result.gain_db:+.2f} dB")


class Timer:
    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def report(self, extra: str = "") -> None:
        print(f"  {self.name:22s} {self.wall:6.2f} s (cpu {self.cpu:5.2f} s)  "
              f"peak RSS {peak_mib():7.1f} MiB  {extra}".rstrip())


if __name__ == "__main__":
    main()
