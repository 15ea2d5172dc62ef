"""Benchmark: rendering a session with all speech at hand, against the naive pydub way.

    python scripts/bench_render.py [--minutes 20] [--long-minutes 60] [--skip-long]

Each variant runs in its own process, one after another, on the same timeline
(synthetic speech-like clips, so no TTS runs; the clips are made before the
clock starts, as a warm cache would hand them over):

  ours     what render does: Mixer -> master_stream (a first pass of the mixer measures
           the loudness) -> export_session (a second pass mixes, masters and encodes
           block by block; MP3, tags, transcripts, manifest); the session is never whole
  naive    pydub: `+=` each clip and silence, `overlay` the looped bed, `export` to MP3
  encode   ffmpeg alone, MP3-encoding the very audio `ours` produced (the floor)

Peak memory is each Python process's peak resident set (its own ru_maxrss; the
ffmpeg child, a few MiB either way, is not counted for either). Goals for the 20-minute
session: ours <= 1.3 x encode, naive / ours >= 1.5, ours' memory <= half naive's.
The machine should be otherwise idle: ours and encode each need a core for ffmpeg.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np

CLIP_RATE: Final = 22050  # what Piper hands over
SESSION_RATE: Final = 44100
BITRATE_KBPS: Final = 96
SEED: Final = 20261127


# --- the session: a timeline of speech, pauses and a bed -------------------------

def build_session(minutes: float, convert: Any = None) -> tuple[Any, dict[Any, Any]]:
    """A timeline of `minutes` and its clips: sentences of 1.5-6 s, pauses of 1-8 s.

    `convert` turns each clip into what the variant keeps (pydub segments for the
    naive way), one at a time, so no variant pays for another's format.
    """
    from innerchild_audio.model import Background, Source, Voice
    from innerchild_audio.speech.base import Clip
    from innerchild_audio.timeline import (
        BedSpan,
        ChapterMark,
        SilenceEvent,
        SpeechEvent,
        SpeechRequest,
        Timeline,
    )

    rng = np.random.default_rng(SEED)
    source = Source(Path("bench.yaml"), 1, 1)
    voice = Voice(engine="piper")
    total_ms = round(minutes * 60_000)
    events: list[Any] = []
    clips: dict[Any, Any] = {}
    chapters = []
    now, index = 0, 0
    while now < total_ms - 10_000:
        if now >= len(chapters) * 300_000:
            chapters.append(ChapterMark(now, f"Part {len(chapters) + 1}"))
        samples = speech_like(rng, rng.uniform(1.5, 6.0))
        clip = Clip(samples, CLIP_RATE)
        request = SpeechRequest(f"Sentence number {index}.", voice)
        clips[request] = convert(clip) if convert is not None else clip
        events.append(SpeechEvent(now, clip.duration_ms, request, source))
        now += clip.duration_ms
        pause_ms = int(rng.uniform(1000, 8000))
        events.append(SilenceEvent(now, pause_ms, "pause", source))
        now += pause_ms
        index += 1
    events.append(SilenceEvent(now, total_ms - now, "elastic", source))
    bed = Background("brown-noise", volume_db=-20.0, duck_db=6.0)
    timeline = Timeline(events=tuple(events), chapters=tuple(chapters),
                        beds=(BedSpan(0, total_ms, bed),), total_ms=total_ms,
                        min_total_ms=total_ms, max_total_ms=total_ms)
    return timeline, clips


def speech_like(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A voiced signal with a gliding pitch, harmonics and syllable-rate bursts."""
    n = round(seconds * CLIP_RATE)
    t = np.arange(n) / CLIP_RATE
    f0 = rng.uniform(95, 140) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t))
    phase = 2 * np.pi * np.cumsum(f0) / CLIP_RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 16))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t), 0, None) ** 0.7
    noise = rng.standard_normal(n) * 0.05
    signal = (wave * syllables + noise) * np.hanning(n) ** 0.1
    return (signal / np.abs(signal).max() * 0.5).astype(np.float32)


def script_for(path: Path) -> Any:
    from innerchild_audio.model import Say, Script, Source, Voice

    return Script(path=path, title="Benchmark session", slug="bench",
                  steps=(Say("x", Voice(), Source(path, 1, 1)),), author="bench",
                  files=(path,))


# --- the variants (each in its own process) --------------------------------------

def run_ours(minutes: float, work: Path, save_pcm: Path | None) -> dict[str, Any]:
    from innerchild_audio.export import ExportMeta, export_session
    from innerchild_audio.export.mp3 import overshoot_allowance_db
    from innerchild_audio.master import master_stream
    from innerchild_audio.mix import Mixer

    imports_mib = current_rss_mib()
    timeline, clips = build_session(minutes)
    clips_mib = sum(c.samples.nbytes for c in clips.values()) / 2**20
    script = script_for(work / "bench.yaml")
    start = time.perf_counter()
    mixer = Mixer(timeline, clips, sample_rate=SESSION_RATE, channels=1)
    # as render does
    mastered = master_stream(mixer, headroom_db=overshoot_allowance_db(BITRATE_KBPS, 1))
    measured_at = time.perf_counter()
    meta = ExportMeta(album="bench", engine="piper", voice={}, inputs_hash="0" * 64)
    export_session(mastered, script=script, timeline=timeline,
                   out_dir=work / "ours", bitrate_kbps=BITRATE_KBPS, meta=meta)
    end = time.perf_counter()
    if save_pcm is not None:  # for the encode-only run, after the clock stopped
        with open(save_pcm, "wb") as pcm:
            for block in mastered.blocks():
                np.ascontiguousarray(block, dtype="<f4").tofile(pcm)
    return {"seconds": end - start, "measure_s": measured_at - start,
            "export_s": end - measured_at, "loudness_lufs": mastered.loudness_lufs,
            "true_peak_dbtp": mastered.true_peak_dbtp,
            "mp3_bytes": (work / "ours" / "bench.mp3").stat().st_size,
            "imports_mib": imports_mib, "clips_mib": clips_mib,
            "session_mib": mixer.frames * 4 / 2**20}


def run_naive(minutes: float, work: Path) -> dict[str, Any]:
    import imageio_ffmpeg
    from pydub import AudioSegment

    from innerchild_audio.timeline import SpeechEvent

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    def to_segment(clip: Any) -> Any:  # what a cache of decoded clips holds for pydub
        return AudioSegment((clip.samples * 32767).astype("<i2").tobytes(),
                            frame_rate=CLIP_RATE, sample_width=2, channels=1)

    timeline, segments = build_session(minutes, to_segment)
    rng = np.random.default_rng(SEED)
    brown = np.cumsum(rng.standard_normal(60 * SESSION_RATE))
    brown -= np.convolve(brown, np.ones(4410) / 4410, mode="same")  # keep it centred
    brown = brown / np.abs(brown).max() * 0.5
    bed = AudioSegment((brown * 32767).astype("<i2").tobytes(), frame_rate=SESSION_RATE,
                       sample_width=2, channels=1)
    start = time.perf_counter()
    session = AudioSegment.silent(duration=0, frame_rate=SESSION_RATE)
    for event in timeline.events:
        if isinstance(event, SpeechEvent):
            session += segments[event.request]
        else:
            session += AudioSegment.silent(duration=event.duration_ms, frame_rate=SESSION_RATE)
    session = session.overlay(bed - 20, loop=True)
    session.export(work / "naive.mp3", format="mp3", bitrate=f"{BITRATE_KBPS}k")
    end = time.perf_counter()
    return {"seconds": end - start, "duration_s": len(session) / 1000,
            "mp3_bytes": (work / "naive.mp3").stat().st_size}


def run_encode(pcm: Path, work: Path) -> dict[str, Any]:
    from innerchild_audio.audio_io import ffmpeg_exe

    command = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error",
               "-f", "f32le", "-ar", str(SESSION_RATE), "-ac", "1", "-i", str(pcm),
               "-c:a", "libmp3lame", "-b:a", f"{BITRATE_KBPS}k", "-f", "mp3", "-y",
               str(work / "encode.mp3")]
    pcm.read_bytes()  # warm the page cache: measure encoding, not the disk
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return {"seconds": time.perf_counter() - start}


def current_rss_mib() -> float:
    """Resident memory now (Linux); 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * resource.getpagesize() / 2**20


def child_main(args: argparse.Namespace) -> None:
    work = Path(args.work)
    if args.variant == "ours":
        found = run_ours(args.minutes, work, Path(args.save_pcm) if args.save_pcm else None)
    elif args.variant == "naive":
        found = run_naive(args.minutes, work)
    else:
        found = run_encode(Path(args.save_pcm), work)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    found["peak_mib"] = own * scale / 2**20
    print(json.dumps(found))


# --- the parent: run everything, print ratios -------------------------------------

def run(variant: str, minutes: float, work: Path, save_pcm: Path | None = None
        ) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", variant, "--minutes", str(minutes),
               "--work", str(work)]
    if save_pcm is not None:
        command += ["--save-pcm", str(save_pcm)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--long-minutes", type=float, default=60.0)
    parser.add_argument("--skip-long", action="store_true", help="Only the 20-minute session.")
    parser.add_argument("--child", choices=["ours", "naive", "encode"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--save-pcm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.variant = args.child
        child_main(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        work = Path(tmp)
        pcm = work / "final.f32"
        minutes = args.minutes
        print(f"session: {minutes:g} min, mono, 44.1 kHz, {BITRATE_KBPS} kbps; "
              "each variant in its own process")
        ours = run("ours", minutes, work, save_pcm=pcm)
        encode = run("encode", minutes, work, save_pcm=pcm)
        naive = run("naive", minutes, work)
        print(f"  ours    {ours['seconds']:7.2f} s  peak {ours['peak_mib']:7.1f} MiB  "
              f"(measuring pass {ours['measure_s']:.2f} s, mixing + mastering + encoding "
              f"pass {ours['export_s']:.2f} s; {ours['loudness_lufs']:.2f} LUFS, "
              f"{ours['true_peak_dbtp']:.2f} dBTP)")
        print(f"  encode  {encode['seconds']:7.2f} s  "
              f"({minutes * 60 / encode['seconds']:.0f}x real time)")
        print(f"  naive   {naive['seconds']:7.2f} s  peak {naive['peak_mib']:7.1f} MiB")
        vs_encode = ours["seconds"] / encode["seconds"]
        speedup = naive["seconds"] / ours["seconds"]
        memory = ours["peak_mib"] / naive["peak_mib"]
        print(f"  ours / encode-only  {vs_encode:5.2f}x   goal <= 1.3   "
              f"{verdict(vs_encode <= 1.3)}")
        print(f"  naive / ours        {speedup:5.2f}x   goal >= 1.5   {verdict(speedup >= 1.5)}")
        print(f"  memory ours / naive {memory:5.2f}    goal <= 0.5   {verdict(memory <= 0.5)}")
        print(f"  (ours never holds the session, {ours['session_mib']:.0f} MiB as float32; its "
              f"floor is {ours['imports_mib']:.0f} MiB of imported code and data and "
              f"{ours['clips_mib']:.0f} MiB of speech clips)")
        if not args.skip_long:
            long = args.long_minutes
            ours_l = run("ours", long, work)
            naive_l = run("naive", long, work)
            print(f"session: {long:g} min")
            print(f"  ours    {ours_l['seconds']:7.2f} s  peak {ours_l['peak_mib']:7.1f} MiB")
            print(f"  naive   {naive_l['seconds']:7.2f} s  peak {naive_l['peak_mib']:7.1f} MiB")
            print(f"  naive / ours {naive_l['seconds'] / ours_l['seconds']:.2f}x time, "
                  f"ours / naive {ours_l['peak_mib'] / naive_l['peak_mib']:.2f} memory")


if __name__ == "__main__":
    main()
