"""Benchmark: previewing one chapter against rendering the whole session, warm cache.

    python scripts/bench_preview.py [--script meditations/meeting-your-child-self.yaml]
                                    [--chapter NAME] [--repeats 3] [--engine piper]

A first render (not timed) fills the speech cache (a fresh one unless
--cache-dir). Then full renders and previews of the chapter alternate,
`--repeats` times each, in this one process, so both see the same machine.
Printed: the median of each (wall clock, and CPU time with ffmpeg's, which a
busy machine disturbs less), their ratio, the gain each used, and how far the
preview's samples are from the same span of the full render (relative RMS of
the difference, decoded MP3s; most of it is MP3 coding). Goal: a chapter
previews in a small fraction of the full render.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (ffmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--script", type=Path,
                        default=REPO / "meditations" / "meeting-your-child-self.yaml")
    parser.add_argument("--chapter", help="default: the longest chapter but the first")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", default="piper")
    parser.add_argument("--length", default="10m")
    parser.add_argument("--cache-dir", type=Path, help="default: a new, empty one")
    args = parser.parse_args()

    from innerchild_audio.audio_io import MP3_SAMPLE_RATE, decode_mp3
    from innerchild_audio.mix.fades import ms_to_frames
    from innerchild_audio.options import RenderOptions, RunSettings
    from innerchild_audio.preview import clock, preview_script
    from innerchild_audio.render import render_script
    from innerchild_audio.units import format_duration, parse_duration_ms

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        options = RenderOptions(engine=args.engine, length_ms=parse_duration_ms(args.length))
        settings = RunSettings(out_dir=work / "out", cache_dir=args.cache_dir or work / "cache")
        started = time.perf_counter()
        first = render_script(args.script, options, settings)
        print(f"{args.script.name}: {format_duration(first.duration_ms)}, "
              f"{first.speech_synthesized} sentences synthesized in the first render "
              f"({time.perf_counter() - started:.1f} s, not counted)")
        marks = sorted(first.timeline.chapters, key=lambda m: m.start_ms)
        ends = [m.start_ms for m in marks[1:]] + [first.duration_ms]
        spans = {m.title: (m.start_ms, end) for m, end in zip(marks, ends, strict=True)}
        chapter = args.chapter or max(list(spans)[1:] or list(spans),
                                      key=lambda t: spans[t][1] - spans[t][0])

        renders, previews, render_cpu, preview_cpu = [], [], [], []
        for _ in range(args.repeats):
            started, cpu = time.perf_counter(), _cpu_s()
            full = render_script(args.script, options, settings)
            renders.append(round(time.perf_counter() - started, 2))
            render_cpu.append(_cpu_s() - cpu)
            started, cpu = time.perf_counter(), _cpu_s()
            part = preview_script(args.script, options, settings, chapter=chapter)
            previews.append(round(time.perf_counter() - started, 2))
            preview_cpu.append(_cpu_s() - cpu)

        whole = decode_mp3(full.mp3_path)[:, 0]
        piece = decode_mp3(part.path)[:, 0]
        at = ms_to_frames(part.start_ms, MP3_SAMPLE_RATE)
        same = whole[at: at + len(piece)]
        error = float(np.sqrt(np.mean((piece - same) ** 2)) / np.sqrt(np.mean(same ** 2)))
        render_s, preview_s = statistics.median(renders), statistics.median(previews)
        print(f"chapter '{chapter}': {format_duration(part.end_ms - part.start_ms)} from "
              f"{clock(part.start_ms)} of {format_duration(full.duration_ms)}")
        print(f"full render (warm cache): {render_s:.2f} s   median of {renders}")
        print(f"preview of the chapter:   {preview_s:.2f} s   median of {previews}")
        print(f"preview / full render:    {preview_s / render_s:.2f} (wall clock)")
        cpu_render, cpu_preview = statistics.median(render_cpu), statistics.median(preview_cpu)
        print(f"CPU time, ffmpeg included: full {cpu_render:.2f} s, preview {cpu_preview:.2f} s, "
              f"ratio {cpu_preview / cpu_render:.2f}")
        print(f"gain: full {full.gain_db:+.3f} dB, preview {part.gain_db:+.3f} dB "
              f"(difference {part.gain_db - full.gain_db:+.3f} dB)")
        print(f"samples against the full render's span: relative RMS difference {error:.3f} "
              f"(MP3 {options.bitrate} kbps, both encoded)")


if __name__ == "__main__":
    main()
