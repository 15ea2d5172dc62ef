"""Google's voice through gTTS: packed requests, timeouts, retries, a small worker pool.

gTTS builds the requests (`TTS._prepare_requests()`); they go out through our
own session, with certificate verification on (gTTS turns it off), and every
answer is checked (gtts_answer) before its audio can reach the cache.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Final

import numpy as np
import requests
import requests.adapters
from gtts import gTTS
from gtts.lang import _fallback_deprecated_lang, tts_langs

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech.base import BatchEngineBase, Clip, OnClip
from innerchild_audio.speech.gtts_answer import audio_from_body, check_speech
from innerchild_audio.speech.gtts_audio import GTTS_SAMPLE_RATE, decode_mp3
from innerchild_audio.speech.gtts_packing import MAX_CHARS, Group, pack
from innerchild_audio.speech.gtts_retry import (
    Gate,
    GaveUp,
    Permanent,
    RetryPolicy,
    Transient,
    parse_retry_after,
)
from innerchild_audio.speech.pool import run_all
from innerchild_audio.speech.silence import split_at_pauses, trim_silence

log = logging.getLogger(__name__)

GTTS_VERSION: Final = version("gTTS")
# bump when decoding, trimming or splitting changes the audio; 2: answers are checked
# before caching, so clips kept before (possibly cut or silent) are not reused
PROCESSING_VERSION: Final = 2
MAX_WORKERS: Final = 4  # requests in flight at once: few, to stay under Google's rate limit
TIMEOUT_S: Final = (5.0, 20.0)  # connect, read
MAX_BODY_BYTES: Final = 4 * 1024 * 1024  # a 100-character chunk is some 40 kB

_SPEAKABLE: Final = re.compile(r"[^\W_]")



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
            data = self._request(groups[index].chunks[part], lang, voice, gate, session)
            with lock:
                fetched[index][part] = data
                complete = len(fetched[index]) == len(groups[index].chunks)
            if complete:
                audio = b"".join(fetched[index][p] for p in range(len(groups[index].chunks)))
                self._finish(groups[index], audio, lang, voice, gate, session, on_clip)

        tasks = [
            (lambda i=i, p=p: fetch(i, p))
            for i, group in enumerate(groups)
            for p in range(len(group.chunks))
        ]
        workers = max(1, min(self.max_workers, jobs or self.max_workers, len(tasks)))
        with _session(workers) as session:
            run_all(tasks, workers)

    def _finish(
        self, group: Group, audio: bytes, lang: str, voice: Voice, gate: Gate,
        session: requests.Session, on_clip: OnClip,
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
                data = self._request(alone, lang, voice, gate, session)
                self._finish(Group((text,), (alone,)), data, lang, voice, gate, session, on_clip)
            return
        for text, piece in zip(group.texts, pieces, strict=True):
            on_clip(text, _clip(piece))

    def _request(
        self, chunk: str, lang: str, voice: Voice, gate: Gate, session: requests.Session
    ) -> bytes:
        """MP3 bytes for one chunk, checked whole and audible: one request, retried when
        the failure is transient (rate limit, server or network trouble, damaged audio)."""
        if not _SPEAKABLE.search(chunk):  # a long run of punctuation cut off a sentence
            return b""
        tts = gTTS(
            chunk, lang=lang, tld=voice.tld, lang_check=False,
            pre_processor_funcs=[], tokenizer_func=_keep_whole,
        )

        def attempt() -> bytes:
            # gTTS cuts only chunks over 100 characters; packing keeps them shorter
            data = b"".join(self._send(session, prepared) for prepared in tts._prepare_requests())
            check_speech(data, chunk)
            return data

        try:
            return self.retry.call(attempt, gate=gate)
        except GaveUp as failure:
            raise SpeechError(
                f"gTTS failed after {failure.attempts} attempts for {chunk[:60]!r}: {failure}.",
                offline_hint=True,
            ) from failure
        except Permanent as error:
            raise SpeechError(
                f"gTTS could not speak {chunk[:60]!r}: {error}.", offline_hint=True
            ) from error

    def _send(self, session: requests.Session, prepared: requests.PreparedRequest) -> bytes:
        """The audio of one prepared request; raises Transient or Permanent."""
        with self._count_lock:
            self.requests_made += 1
        url = prepared.url or ""
        settings = session.merge_environment_settings(url, {}, True, True, None)
        try:
            with session.send(
                prepared, timeout=self.timeout_s, allow_redirects=False, **settings
            ) as response:
                body = _read_capped(response)
        except requests.exceptions.SSLError as error:
            host = urllib.parse.urlsplit(url).hostname
            raise Permanent(
                f"the certificate of {host} could not be verified, so something on the "
                "network may be intercepting the connection (a network with its own "
                "certificate authority can name it in REQUESTS_CA_BUNDLE)"
            ) from error
        except requests.Timeout as error:
            raise Transient(f"request timed out ({error.__class__.__name__})") from error
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as error:
            raise Transient(f"the connection broke while reading the answer ({error})") from error
        except requests.RequestException as error:
            log.debug("request to %s failed: %r", url, error)
            host = urllib.parse.urlsplit(url).hostname
            raise Transient(
                f"could not connect to Google ({error.__class__.__name__} for {host})"
            ) from error
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise Transient(f"HTTP {status} {response.reason or ''}".strip(), retry_after)
        if 300 <= status < 400:
            raise Permanent(
                f"Google's address redirected to {response.headers.get('Location', '?')!r} "
                "(a network login page or a proxy may be in the way)"
            )
        if status != 200:
            cause = _REFUSALS.get(status, "")
            raise Permanent(
                f"Google refused the request: HTTP {status} {response.reason or ''}".strip()
                + (f" ({cause})" if cause else "")
            )
        return audio_from_body(body, response.headers.get("Content-Type", ""))


_REFUSALS: Final = {
    403: "the service may have changed; a newer gTTS may help",
    404: "this Google domain (tld) may not offer speech",
}


def _session(pool_size: int) -> requests.Session:
    """Our HTTP session for gTTS's requests: certificates verified, no retries of its own.

    The workers of one batch share it (and its connection pool, one slot each).
    """
    session = requests.Session()
    session.verify = True
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=pool_size, max_retries=0))
    return session


def _read_capped(response: requests.Response) -> bytes:
    """The body, refusing one larger than any speech answer."""
    parts: list[bytes] = []
    size = 0
    for part in response.iter_content(64 * 1024):
        size += len(part)
        if size > MAX_BODY_BYTES:
            raise Permanent(f"Google's answer is over {MAX_BODY_BYTES:,} bytes")
        parts.append(part)
    return b"".join(parts)


def _clip(samples: np.ndarray) -> Clip:
    return Clip(samples=trim_silence(samples, GTTS_SAMPLE_RATE), sample_rate=GTTS_SAMPLE_RATE)
