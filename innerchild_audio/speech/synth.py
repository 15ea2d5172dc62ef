"""synthesize_all: every distinct sentence of a session as a clip, from the cache or an engine."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from innerchild_audio.errors import SpeechError, UsageError
from innerchild_audio.model import ENGINES, Voice
from innerchild_audio.speech import gtts_reachability as reachability
from innerchild_audio.speech.base import BatchEngine, Clip
from innerchild_audio.speech.cache import ClipCache, cache_key
from innerchild_audio.speech.gtts_engine import GttsEngine
from innerchild_audio.speech.hibari_engine import HibariEngine
from innerchild_audio.speech.paths import resolve_cache_dir
from innerchild_audio.speech.piper_engine import PiperEngine
from innerchild_audio.speech.progress import Progress, SpeechProgress
from innerchild_audio.speech.respell import respell
from innerchild_audio.speech.voices import for_engine, offline_voice
from innerchild_audio.timeline import SpeechRequest

log = logging.getLogger(__name__)
_announced: set[str] = set()


@dataclass(frozen=True)
class SpeechResult:
    clips: dict[SpeechRequest, Clip]
    engine: str  # "gtts" | "piper" | "hibari" (joined by "+" when voices differ)
    voice_info: dict[str, object]  # what identifies the voice, for the manifest
    cached: int  # clips taken from the cache
    synthesized: int  # clips made now
    note: str = ""  # how `auto` chose, when it did
    requests_made: int = 0  # HTTP requests to Google during this call
    model_calls: int = field(default=0)  # sentences an offline model synthesized


@functools.lru_cache(maxsize=4)
def default_engines(voices_dir: Path | None = None) -> Mapping[str, BatchEngine]:
    """The engines, one set per process: a Piper voice once loaded serves later calls too."""
    return MappingProxyType({"gtts": GttsEngine(), "piper": PiperEngine(voices_dir=voices_dir),
                             "hibari": HibariEngine(voices_dir=voices_dir)})


def synthesize_all(
    requests: Sequence[SpeechRequest],
    *,
    engine: str | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    progress: SpeechProgress | None = None,
    voices_dir: Path | None = None,
    engines: Mapping[str, BatchEngine] | None = None,
) -> SpeechResult:
    """A clip for every request, from the cache when it has one.

    `engine` None uses each voice's engine; a name overrides them all. `auto` is
    resolved once per call. `jobs` bounds parallel work: Piper runs that many
    workers (default: the cores); gTTS keeps its small pool, never above `jobs`.
    `engines` replaces the engine objects (tests pass ones with fast retries).
    """
    unique = list(dict.fromkeys(requests))
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    engines = dict(engines) if engines is not None else default_engines(voices_dir)
    cache = ClipCache(resolve_cache_dir(cache_dir))
    plan = _engines_and_keys(unique, engine, engines, cache)
    wanted, voices, spoken, keys, note = (plan.wanted, plan.voices, plan.spoken, plan.keys,
                                          plan.note)
    clips: dict[SpeechRequest, Clip] = {}
    missing: dict[tuple[str, Voice], list[SpeechRequest]] = {}
    for request in unique:
        clip = cache.get(wanted[request], keys[request])
        if clip is None:
            missing.setdefault((wanted[request], voices[request]), []).append(request)
        else:
            clips[request] = clip
    cached = len(clips)
    before = _counters(engines)

    bar = Progress(len(unique), progress)
    bar.add_cached(cached)
    bar.start_making()
    lock = threading.Lock()
    try:
        for (name, voice), pending in missing.items():
            by_text: dict[str, list[SpeechRequest]] = {}
            for request in pending:
                by_text.setdefault(spoken[request], []).append(request)

            def on_clip(text: str, clip: Clip, name: str = name, by_text=by_text) -> None:
                for request in by_text[text]:
                    cache.put(name, keys[request], clip)  # only whole clips ever arrive here
                    with lock:
                        clips[request] = clip
                    bar.add_new()

            engines[name].synthesize_batch(list(by_text), voice, jobs=jobs, on_clip=on_clip)
    finally:
        bar.close()

    lost = [r for r in unique if r not in clips]
    if lost:
        raise SpeechError(f"no clip came back for {len(lost)} sentence(s), e.g. {lost[0].text!r}")
    after = _counters(engines)
    return SpeechResult(
        clips=clips,
        engine=_engine_label(wanted.values(), engine),
        voice_info=_voice_info(unique, wanted, voices, engines, note),
        cached=cached,
        synthesized=len(unique) - cached,
        note=note,
        requests_made=after[0] - before[0],
        model_calls=after[1] - before[1],
    )


def speech_target(request: SpeechRequest, engine: str) -> tuple[Voice, str]:
    """The voice `engine` is handed for `request` and the text it says: `auto` offline
    ("offline") speaks with the offline voice; `pronounce` respells the words."""
    voice = offline_voice(request.voice) if engine == "offline" else for_engine(
        request.voice, engine)
    return voice, respell(request.text, request.voice.pronounce)


@dataclass(frozen=True)
class _SpeechPlan:
    """Per request: the engine that speaks it (`auto` resolved), the voice that engine is
    handed, the text it says (respelled), and its cache key; and how `auto` chose."""

    wanted: dict[SpeechRequest, str]
    voices: dict[SpeechRequest, Voice]
    spoken: dict[SpeechRequest, str]
    keys: dict[SpeechRequest, str]
    note: str


def _engines_and_keys(
    unique: Sequence[SpeechRequest], engine: str | None, engines: Mapping[str, BatchEngine],
    cache: ClipCache,
) -> _SpeechPlan:
    # "offline" is `auto` already resolved (by a build's caller) to each voice's offline voice
    if engine is not None and engine not in (*ENGINES, "offline"):
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    wanted = {request: engine or request.voice.engine for request in unique}
    for name in set(wanted.values()):
        if name not in (*ENGINES, "offline"):
            raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    note = ""
    if "auto" in wanted.values():
        chosen, note = choose_auto([r for r, n in wanted.items() if n == "auto"], engines, cache)
        if note not in _announced:  # say it once, not once per session of a build
            _announced.add(note)
            log.warning("voice engine auto: %s", note)
        wanted = {r: chosen if n == "auto" else n for r, n in wanted.items()}
    targets = {r: speech_target(r, wanted[r]) for r in unique}
    voices = {r: voice for r, (voice, _) in targets.items()}
    wanted = {r: voices[r].engine for r in unique}
    spoken = {r: text for r, (_, text) in targets.items()}

    identities: dict[tuple[str, Voice], dict[str, object]] = {}

    def key_of(request: SpeechRequest) -> str:
        name, voice = wanted[request], voices[request]
        if (name, voice) not in identities:
            identities[name, voice] = engines[name].cache_identity(voice)
        return cache_key(name, identities[name, voice], spoken[request])

    return _SpeechPlan(wanted, voices, spoken, {r: key_of(r) for r in unique}, note)


def cached_clips(
    requests: Sequence[SpeechRequest],
    *,
    engine: str | None = None,
    cache_dir: Path | None = None,
    voices_dir: Path | None = None,
    engines: Mapping[str, BatchEngine] | None = None,
) -> dict[SpeechRequest, Clip]:
    """The clips the cache already holds for `requests`; nothing is synthesized.

    The engines are chosen as `synthesize_all` would choose them, so a clip found
    here is the one a render would use.
    """
    unique = list(dict.fromkeys(requests))
    engines = dict(engines) if engines is not None else default_engines(voices_dir)
    cache = ClipCache(resolve_cache_dir(cache_dir))
    plan = _engines_and_keys(unique, engine, engines, cache)
    found = {request: cache.get(plan.wanted[request], plan.keys[request]) for request in unique}
    return {request: clip for request, clip in found.items() if clip is not None}


def choose_auto(
    requests: Sequence[SpeechRequest], engines: Mapping[str, BatchEngine], cache: ClipCache
) -> tuple[str, str]:
    """("gtts" | "offline", why): gTTS when every clip is cached or Google answers.

    "offline" is each voice's `offline_voice` (the library's default when unset).
    """
    gtts = engines["gtts"]
    if requests and all(
        cache.has("gtts", cache_key("gtts", gtts.cache_identity(r.voice),
                                    respell(r.text, r.voice.pronounce)))
        for r in requests
    ):
        return "gtts", "chose gtts (every clip is in the cache)"
    tld = requests[0].voice.tld if requests else "com"
    if reachability.google_reachable(tld):
        return "gtts", f"chose gtts (translate.google.{tld} is reachable)"
    offline = offline_voice(requests[0].voice) if requests else None
    name = f"{offline.engine}:{offline.model}" if offline else "the offline voice"
    return "offline", (f"chose {name} (translate.google.{tld} is not reachable; "
                       "working offline)")


def _counters(engines: Mapping[str, BatchEngine]) -> tuple[int, int]:
    made = sum(int(getattr(e, "requests_made", 0)) for e in engines.values())
    calls = sum(int(getattr(e, "model_calls", 0)) for e in engines.values())
    return made, calls


def _engine_label(names: object, override: str | None) -> str:
    used = sorted(set(names))  # type: ignore[call-overload]
    if not used:
        return override or "auto"
    return "+".join(used)


def _voice_info(
    requests: Sequence[SpeechRequest],
    wanted: Mapping[SpeechRequest, str],
    voices: Mapping[SpeechRequest, Voice],
    engines: Mapping[str, BatchEngine],
    note: str,
) -> dict[str, object]:
    used = list(dict.fromkeys((wanted[r], voices[r]) for r in requests))
    infos = [engines[name].voice_info(voice) for name, voice in used]
    info: dict[str, object] = infos[0] if len(infos) == 1 else {"voices": infos}
    if note:
        info = {**info, "auto": note}
    return info

