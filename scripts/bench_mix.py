"""Benchmark: mixing and mastering a long session, time and memory.

    python scripts/bench_mix.py [--minutes 20] [--channels 1] [--bed brown-noise]

Builds a timeline by hand (speech-like clips at 22.05 kHz, as Piper makes them;
sentence, paragraph and long pauses; bells; breathing with tones; a bed that
changes halfway), then times mix_session and master (in place) in this process.
Memory is the process's peak resident set, before and after each stage, beside
the size of one session buffer (the floor for a whole-session mix).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from innerchild_audio.master import master
from innerchild_audio.mix import mix_session
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
    wall, cpu = time.perf_counter(), time.process_time()
    audio = mix_session(timeline, clips, channels=args.channels)
    mix_wall, mix_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  mix_session  {mix_wall:6.2f} s (cpu {mix_cpu:5.2f} s)  "
          f"peak RSS {peak_mib():7.1f} MiB")
    wall, cpu = time.perf_counter(), time.process_time()
    result = master(audio, 44100, in_place=True)
    master_wall, master_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  master       {master_wall:6.2f} s (cpu {master_cpu:5.2f} s)  "
          f"peak RSS {peak_mib():7.1f} MiB   -> {result.loudness_lufs:.2f} LUFS, "
          f"{result.true_peak_dbtp:.2f} dBTP, gain {result.gain_db:+.2f} dB")
    total = mix_wall + master_wall
    print(f"  together     {total:6.2f} s = {timeline.total_ms / 1000 / total:.0f}x real time; "
          f"peak over inputs {peak_mib() - before:.0f} MiB")


if __name__ == "__main__":
    main()
