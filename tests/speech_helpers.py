"""Fakes for speech tests: real MP3 bytes, Google's batchexecute body, and a mock server.

The mock answers like Google Translate's TTS endpoint: each sentence in the request
becomes a tone burst whose length follows its characters, with a pause after each
sentence, encoded as real MP3 by the ffmpeg that imageio-ffmpeg ships.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

import imageio_ffmpeg
import numpy as np
import responses

from innerchild_audio.sentences import split_sentences
from innerchild_audio.speech.gtts_retry import RetryPolicy

RATE: Final = 24000
MS_PER_CHAR: Final = 40  # how long the fake voice takes per character
PAUSE_MS: Final = 400  # the fake voice's pause after a sentence
EDGE_MS: Final = 150  # silence the fake voice leaves at both ends
TTS_URL: Final = re.compile(
    r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute"
)


def encode_mp3(samples: np.ndarray, sample_rate: int = RATE) -> bytes:
    """MP3 bytes (32 kbps mono) of float32 samples."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "pipe:1",
    ]
    done = subprocess.run(
        command, input=samples.astype("<f4").tobytes(), capture_output=True, check=True
    )
    return done.stdout


def tone(duration_ms: int, freq_hz: float = 220.0, level: float = 0.4) -> np.ndarray:
    t = np.arange(RATE * duration_ms // 1000) / RATE
    return (level * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def silence(duration_ms: int) -> np.ndarray:
    return np.zeros(RATE * duration_ms // 1000, dtype=np.float32)


def speech_ms(sentence: str) -> int:
    return MS_PER_CHAR * len(sentence)


@lru_cache(maxsize=2048)
def fake_speech_mp3(text: str, pauses: bool = True) -> bytes:
    """What the fake voice says for `text`: a burst per sentence, pauses between."""
    parts = [silence(EDGE_MS)]
    sentences = split_sentences(text) if pauses else [text]
    for index, sentence in enumerate(sentences):
        if index:
            parts.append(silence(PAUSE_MS))
        parts.append(tone(speech_ms(sentence), freq_hz=180.0 + 40 * index))
    parts.append(silence(EDGE_MS))
    return encode_mp3(np.concatenate(parts))


def batchexecute_body(mp3: bytes | None) -> str:
    """Google's answer: `)]}'`, a blank line, a length, and the JSON with the base64 MP3."""
    inner = json.dumps([base64.b64encode(mp3).decode("ascii")] if mp3 else [],
                       separators=(",", ":"))
    payload = json.dumps([["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]],
                         separators=(",", ":"))
    return f")]}}'\n\n{len(payload)}\n{payload}\n"


def empty_body() -> str:
    """A 200 answer with no audio entry at all."""
    payload = json.dumps([["di", 42], ["af.httprm", 41, "-1", 3]], separators=(",", ":"))
    return f")]}}'\n\n{len(payload)}\n{payload}\n"


def request_text(body: str | bytes) -> str:
    """The text gTTS asked to speak, from a batchexecute request body."""
    if isinstance(body, bytes):
        body = body.decode("ascii")
    query = urllib.parse.parse_qs(body)
    rpc = json.loads(query["f.req"][0])
    return json.loads(rpc[0][0][1])[0]


def no_sleep_policy(sleeps: list[float] | None = None, attempts: int = 5) -> RetryPolicy:
    """A retry policy that records its delays instead of sleeping."""
    record = sleeps if sleeps is not None else []
    return RetryPolicy(attempts=attempts, sleep=record.append)


@dataclass
class FakeGoogle:
    """A `responses` callback speaking like Google, optionally slow, counting what it gets."""

    latency_s: float = 0.0
    pauses: bool = True
    texts: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request) -> tuple[int, dict[str, str], str]:
        text = request_text(request.body)
        with self._lock:
            self.texts.append(text)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            return 200, {}, batchexecute_body(fake_speech_mp3(text, self.pauses))
        finally:
            with self._lock:
                self.in_flight -= 1

    def install(self, mock: responses.RequestsMock) -> FakeGoogle:
        mock.add_callback(responses.POST, TTS_URL, callback=self)
        return self

