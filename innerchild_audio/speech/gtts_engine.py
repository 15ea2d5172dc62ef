"""Google's voice through gTTS: packed requests, timeouts, retries, a small worker pool."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Final

import numpy as np
import requests
from gtts import gTTS, gTTSError
from gtts.lang import _fallback_deprecated_lang, tts_langs

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech.audio import (
    GTTS_SAMPLE_RATE,
    decode_mp3,
    split_at_pauses,
    trim_silence,
)
from innerchild_audio.speech.base import BatchEngineBase, Clip
from innerchild_audio.speech.packing import MAX_CHARS, Group, pack
from innerchild_audio.speech.pool import run_all
from innerchild_audio.speech.retry import Gate, GaveUp, RetryPolicy, Transient, parse_retry_after

log = logging.getLogger(__name__)

GTTS_VERSION: Final = version("gTTS")
PROCESSING_VERSION: Final = 1  # bump when decoding, trimming or splitting changes the audio
MAX_WORKERS: Final = 4  # requests in flight at once: few, to stay under Google's rate limit
TIMEOUT_S: Final = (5.0, 20.0)  # connect, read
SUGGESTION: Final = "Google's voice is unavailable; render offline with --engine piper."

_SPEAKABLE: Final = re.compile(r"[^\W_]")

OnClip = Callable[[str, Clip], None]


def _keep_whole(text: str) -> list[str]:
    return [text]


def check_lang(lang: str) -> str:
    """The language code gTTS will use (old tags like `en-gb` map to `en`).

    Raises SpeechError for a language gTTS does not know (a local table, no request).
    """
    resolved = _fallback_deprecated_lang(lang)
    if resolved not in tts_langs():
        known = ", ".join(sorted(tts_langs()))
        raise SpeechError(f"gTTS does not speak language {lang!r}; known codes: {known}")
    return resolved


@dataclass
class GttsEngine(BatchEngineBase):
    name: str = "gtts"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | tuple[float, float] = TIMEOUT_S
    max_workers: int = MAX_WORKERS
    limit: int = MAX_CHARS
    share_requests: bool = True  # short neighbouring sentences share one request
    requests_made: int = 0  # every HTTP request this engine attempted
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        return {
            "lang": voice.lang,
            "tld": voice.tld,
            "rate": round(float(voice.rate), 6),
            "gtts": GTTS_VERSION,
            "processing": PROCESSING_VERSION,
        }

    def synthesize_batch(
        self, texts: Sequence[str], voice: Voice, *, jobs: int | None, on_clip: OnClip
    ) -> None:
        """Synthesize `texts`, calling `on_clip(text, clip)` as each one is ready.

        Every request is its own job on the pool; the job that brings a group's
        last chunk decodes the group and hands out its clips.
        """
        lang = check_lang(voice.lang)
        speakable = [t for t in texts if _SPEAKABLE.search(t)]
        for text in texts:
            if not _SPEAKABLE.search(text):  # gTTS refuses these; there is nothing to say
                on_clip(text, Clip(np.zeros(0, dtype=np.float32), GTTS_SAMPLE_RATE))
        gate = Gate()
        groups = pack(speakable, self.limit, share=self.share_requests)
        fetched: list[dict[int, bytes]] = [{} for _ in groups]
        lock = threading.Lock()

        def fetch(index: int, part: int) -> None:
            data = self._request(groups[index].chunks[part], lang, voice, gate)
            with lock:
                fetched[index][part] = data
                complete = len(fetched[index]) == len(groups[index].chunks)
            if complete:
                audio = b"".join(fetched[index][p] for p in range(len(groups[index].chunks)))
                self._finish(groups[index], audio, lang, voice, gate, on_clip)

        tasks = [
            (lambda i=i, p=p: fetch(i, p))
            for i, group in enumerate(groups)
            for p in range(len(group.chunks))
        ]
        workers = max(1, min(self.max_workers, jobs or self.max_workers, len(tasks)))
        run_all(tasks, workers)

    def _finish(
        self, group: Group, audio: bytes, lang: str, voice: Voice, gate: Gate, on_clip: OnClip
    ) -> None:
        """Decode a group's MP3 and hand each of its texts its clip."""
        samples = decode_mp3(audio, rate=voice.rate)
        if len(group.texts) == 1:
            on_clip(group.texts[0], _clip(samples))
            return
        pieces = split_at_pauses(samples, GTTS_SAMPLE_RATE, [len(t) for t in group.texts])
        if pieces is None:
            log.info("no clear pauses between %d packed sentences; asking one by one",
                     len(group.texts))
            for text in group.texts:
                alone = " ".join(text.split())
                self._finish(Group((text,), (alone,)), self._request(alone, lang, voice, gate),
                             lang, voice, gate, on_clip)
            return
        for text, piece in zip(group.texts, pieces, strict=True):
            on_clip(text, _clip(piece))

    def _request(self, chunk: str, lang: str, voice: Voice, gate: Gate) -> bytes:
        """MP3 bytes for one chunk: one request, retried on transient failures."""

        def attempt() -> bytes:
            with self._count_lock:
                self.requests_made += 1
            tts = gTTS(
                chunk, lang=lang, tld=voice.tld, lang_check=False,
                pre_processor_funcs=[], tokenizer_func=_keep_whole, timeout=self.timeout_s,
            )
            try:
                data = b"".join(tts.stream())
            except gTTSError as error:
                raise _classify(error) from error
            except requests.RequestException as error:  # while reading the body
                raise Transient(f"connection failed while reading: {error}") from error
            if not data:
                raise SpeechError(f"Google answered without audio for {chunk[:60]!r}")
            return data

        try:
            return self.retry.call(attempt, gate=gate)
        except GaveUp as failure:
            raise SpeechError(
                f"gTTS failed after {failure.attempts} attempts for {chunk[:60]!r}: "
                f"{failure}. {SUGGESTION}"
            ) from failure


def _clip(samples: np.ndarray) -> Clip:
    return Clip(samples=trim_silence(samples, GTTS_SAMPLE_RATE), sample_rate=GTTS_SAMPLE_RATE)


def _classify(error: gTTSError) -> Exception:
    """A gTTSError as Transient (worth retrying) or a final SpeechError."""
    response = error.rsp
    if response is None:
        cause = error.__context__
        if isinstance(cause, requests.Timeout):
            return Transient(f"request timed out ({cause.__class__.__name__})")
        return Transient(f"could not connect to Google ({error.msg})")
    status = response.status_code
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Transient(f"HTTP {status} {response.reason or ''}".strip(), retry_after)
    if status == 200:
        return SpeechError(f"Google answered without audio: {error.msg}. {SUGGESTION}")
    return SpeechError(f"gTTS request refused: {error.msg}. {SUGGESTION}")
