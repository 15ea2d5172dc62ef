#!/usr/bin/env python3
"""Speech benchmark: request counts, parallel gTTS against a slow mock, parallel Piper.

Prints, in one run:
  1. gTTS requests for the whole library against gTTS's default tokenizer
     (goal: never more for any text; at most 0.7 of it across the library);
  2. wall time rendering the library's speech against a local mock of Google
     with 200 ms latency per request, parallel against one at a time (goal: <= 0.35);
  3. Piper at its default settings against Piper held to one job and one
     thread (goal: <= 0.6 of that time on a 2-core machine), synthesizing
     whole sessions as a render does, each setting's best of a few runs;
  4. the two offline voices side by side at default jobs, the same sentences:
     clips per second, real-time factor (wall time / seconds of speech), and
     takes of the model per sentence (phrases, and the whole sentence first when
     it is quick enough to pause at implied breaks).

Run:  python scripts/bench_speech.py [--library meditations] [--latency-ms 200]
                                     [--piper-sessions 3] [--repeat 3]
Nothing touches the network: gTTS talks to a `responses` mock.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import responses
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the mock of Google lives with the tests

from speech_helpers import FakeGoogle, fake_speech_mp3  # noqa: E402

from innerchild_audio.model import Voice  # noqa: E402
from innerchild_audio.sentences import split_sentences  # noqa: E402
from innerchild_audio.speech import cpu_count, synthesize_all  # noqa: E402
from innerchild_audio.speech.gtts_engine import GttsEngine  # noqa: E402
from innerchild_audio.speech.gtts_packing import default_request_count, pack  # noqa: E402
from innerchild_audio.speech.gtts_retry import RetryPolicy  # noqa: E402
from innerchild_audio.speech.hibari_engine import HibariEngine  # noqa: E402
from innerchild_audio.speech.piper_engine import PiperEngine  # noqa: E402
from innerchild_audio.timeline import SpeechRequest  # noqa: E402


@dataclass
class Library:
    sessions: list[list[SpeechRequest]]  # each script's distinct sentences, in order
    texts: list[str]  # every spoken paragraph (what one gTTS call per paragraph would get)
    source: str


def load_library(folder: Path) -> Library:
    """The library through the loader and planner, or straight from the YAML if they fail."""
    paths = [p for p in sorted(folder.glob("*.yaml")) if p.name != "podcast.yaml"]
    try:
        return _planned(paths)
    except Exception as error:  # the loader or planner is missing or refuses a script
        print(f"(loader/planner unavailable: {error}; reading say: texts from the YAML)")
        return _from_yaml(paths)


def _planned(paths: list[Path]) -> Library:
    from innerchild_audio.model import Say
    from innerchild_audio.plan import lay_out
    from innerchild_audio.script import load_script
    from innerchild_audio.script.text import Words, pieces

    sessions: list[list[SpeechRequest]] = []
    texts: list[str] = []
    for path in paths:
        script = load_script(path)
        requests = lay_out(script).requests()
        sessions.append(requests)
        paragraphs = [script.content_warning] if script.content_warning.strip() else []
        for step in script.steps:
            if isinstance(step, Say):
                paragraphs += [p.text for p in pieces(step.text) if isinstance(p, Words)]
        covered = {s for p in paragraphs for s in split_sentences(p)}
        # spoken breathing cues and the like: texts of their own
        paragraphs += [r.text for r in requests if r.text not in covered]
        texts += [p for p in paragraphs if p.strip()]
    return Library(sessions, texts, "load_script + lay_out")


def _say_texts(node: object) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "say":
                yield value if isinstance(value, str) else str(value.get("text", ""))
            else:
                yield from _say_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _say_texts(item)


def _from_yaml(paths: list[Path]) -> Library:
    import re

    voice = Voice()
    sessions: list[list[SpeechRequest]] = []
    texts: list[str] = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        paragraphs: list[str] = []
        for say in _say_texts(data):
            say = re.sub(r"\[[^\]]*\]", "\n\n", say)
            paragraphs += [p for p in re.split(r"\n\s*\n", say) if p.strip()]
        texts += paragraphs
        sentences = [s for p in paragraphs for s in split_sentences(p)]
        sessions.append([SpeechRequest(s, voice) for s in dict.fromkeys(sentences)])
    return Library(sessions, texts, "say: texts read from the YAML")


def count_requests(library: Library) -> None:
    print("1. gTTS requests, against gTTS's default tokenizer")
    default_total = ours_total = 0
    worse: list[tuple[str, int, int]] = []
    worst_ratio = 0.0
    for text in dict.fromkeys(library.texts):
        default = default_request_count(text)
        ours = sum(len(g.chunks) for g in pack(split_sentences(text)))
        default_total += default
        ours_total += ours
        worst_ratio = max(worst_ratio, ours / default)
        if ours > default:
            worse.append((text, ours, default))
    print(f"   library: {len(library.texts)} spoken paragraphs "
          f"({len(set(library.texts))} distinct), read via {library.source}")
    print(f"   per paragraph, packed alone: {ours_total} requests vs {default_total} "
          f"default = {ours_total / default_total:.2f} (worst paragraph {worst_ratio:.2f}; "
          f"{len(worse)} paragraphs with more requests than default)")
    for text, ours, default in worse[:5]:
        print(f"     MORE: {ours} > {default}: {text[:70]!r}")


def render_gtts(library: Library, cache: Path, engine: GttsEngine) -> tuple[float, int]:
    started = time.perf_counter()
    for session in library.sessions:
        synthesize_all(session, engine="gtts", cache_dir=cache, engines={"gtts": engine})
    return time.perf_counter() - started, engine.requests_made


def gtts_timing(library: Library, latency_ms: int, default_total: int) -> None:
    print(f"2. gTTS wall time against a local mock with {latency_ms} ms latency per request")
    retry = RetryPolicy(attempts=1)
    with tempfile.TemporaryDirectory() as tmp, responses.RequestsMock(
        assert_all_requests_are_fired=False
    ) as mock:
        fake = FakeGoogle(latency_s=0).install(mock)
        _, made = render_gtts(library, Path(tmp, "warm"), GttsEngine(retry=retry))  # fake MP3s
        fake.latency_s = latency_ms / 1000
        print(f"   rendering the library makes {made} requests "
              f"(gTTS's tokenizer per paragraph: {default_total}; "
              f"ratio {made / default_total:.2f})")
        one, _ = render_gtts(library, Path(tmp, "one"), GttsEngine(retry=retry, max_workers=1))
        many, _ = render_gtts(library, Path(tmp, "many"), GttsEngine(retry=retry))
    print(f"   one at a time: {one:.2f} s; parallel ({GttsEngine().max_workers} workers): "
          f"{many:.2f} s; ratio {many / one:.2f} (goal <= 0.35)")


def piper_timing(library: Library, sessions: int, repeat: int) -> None:
    """Each session's sentences in one call, as a render makes it, for both settings."""
    batches = [
        list(dict.fromkeys(
            SpeechRequest(r.text, Voice(engine="piper", model="joe", rate=r.voice.rate))
            for r in session
        ))
        for session in library.sessions[:sessions]
    ]
    count = sum(len(b) for b in batches)
    print(f"3. Piper on {len(batches)} sessions ({count} sentences), {cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}: one call per session as a render makes it, "
          f"voices loaded beforehand, the settings alternating, best of {repeat} per session")
    settings = {
        "one": (PiperEngine(threads=1), 1),  # one job, one ONNX thread
        "default": (PiperEngine(), None),  # what synthesize_all does by default
    }
    for engine, jobs in settings.values():
        engine.warm_up(batches[0][0].voice, jobs=jobs)
    best = {"one": 0.0, "default": 0.0}
    cpu = {"one": 0.0, "default": 0.0}
    audio_ms = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number, part in enumerate(batches):
            order = ["one", "default"] if number % 2 == 0 else ["default", "one"]
            walls: dict[str, list[float]] = {"one": [], "default": []}
            for attempt in range(repeat):
                for setting in order:
                    engine, jobs = settings[setting]
                    cpu_before = _cpu_s()
                    started = time.perf_counter()
                    result = synthesize_all(
                        part, engine="piper", jobs=jobs,
                        cache_dir=Path(tmp, f"{number}-{setting}-{attempt}"),
                        engines={"piper": engine},
                    )
                    walls[setting].append(time.perf_counter() - started)
                    cpu[setting] += (_cpu_s() - cpu_before) / repeat
                    if setting == "one" and attempt == 0:
                        audio_ms += sum(c.duration_ms for c in result.clips.values())
            for setting, values in walls.items():
                best[setting] += min(values)
    one, default = best["one"], best["default"]
    print(f"   one job, one thread: {one:.2f} s ({audio_ms / 1000 / one:.0f}x real time for "
          f"{audio_ms / 1000:.0f} s of speech; {cpu['one']:.1f} s CPU)")
    print(f"   default settings ({cpu_count()} jobs x 1 thread): "
          f"{default:.2f} s ({cpu['default']:.1f} s CPU)")
    print(f"   ratio {default / one:.2f} (goal <= 0.6)")


def offline_voices(library: Library, sessions: int) -> None:
    """Piper's joe and hibari's heart on the same sentences, default jobs, fresh caches."""
    texts = list(dict.fromkeys(r.text for s in library.sessions[:sessions] for r in s))
    print(f"4. offline voices on {len(texts)} sentences of {sessions} sessions, default jobs "
          f"({cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    voices = {
        "piper:joe": (PiperEngine(), Voice(engine="piper", model="joe", rate=0.86)),
        "hibari:heart": (HibariEngine(), Voice(engine="hibari", model="heart", rate=0.86)),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (engine, voice) in voices.items():
            engine.synthesize("Warm up.", voice)  # the model loaded before the clock starts
            takes_before = engine.phrase_takes
            requests = [SpeechRequest(t, voice) for t in texts]
            started = time.perf_counter()
            result = synthesize_all(requests, cache_dir=Path(tmp, name.replace(":", "-")),
                                    engines={voice.engine: engine})
            wall = time.perf_counter() - started
            audio_s = sum(c.duration_ms for c in result.clips.values()) / 1000
            results[name] = (len(texts) / wall, wall / audio_s)
            print(f"   {name:<13} {len(texts) / wall:6.1f} clips/s, real-time factor "
                  f"{wall / audio_s:.3f} ({audio_s / wall:.0f}x real time, "
                  f"{audio_s:.0f} s of speech in {wall:.1f} s); "
                  f"{(engine.phrase_takes - takes_before) / len(texts):.2f} takes a sentence")
    (piper_cps, _), (hibari_cps, _) = results.values()
    print(f"   hibari makes clips {hibari_cps / piper_cps:.1f}x as fast as Piper")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "meditations")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--piper-sessions", type=int, default=3,
                        help="sessions of the library to synthesize with Piper (default: 3)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="Piper runs per session and setting; the fastest counts (default: 3)")
    args = parser.parse_args()
    library = load_library(args.library)
    count_requests(library)
    default_total = sum(default_request_count(t) for t in dict.fromkeys(library.texts))
    gtts_timing(library, args.latency_ms, default_total)
    piper_timing(library, args.piper_sessions, args.repeat)
    offline_voices(library, args.piper_sessions)
    fake_speech_mp3.cache_clear()


if __name__ == "__main__":
    main()
