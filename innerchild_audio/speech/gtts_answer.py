"""Google's answer to one gTTS request: the MP3 taken out of its body, checked before it is kept.

Two kinds of trouble. An answer that is not what the endpoint sends (not UTF-8,
a web page, JSON of another shape, no audio entry) will not change when asked
again: `Permanent`. Audio that arrived damaged (bad base64, a cut or
broken MP3, silence, far too short for its words) may be fine next time:
`Transient`, so the retry policy asks again and nothing is cached meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Final

import numpy as np

from innerchild_audio.errors import SpeechError
from innerchild_audio.speech.gtts_audio import GTTS_SAMPLE_RATE, decode_mp3
from innerchild_audio.speech.gtts_mp3_frames import NotMp3, walk
from innerchild_audio.speech.gtts_retry import Permanent, Transient
from innerchild_audio.speech.silence import voiced_span

RPC_ID: Final = "jQ1olc"  # gTTS's remote procedure on batchexecute
_GUARD: Final = ")]}'"  # what Google puts before the JSON
MIN_MS_PER_WORD: Final = 60  # 1,000 words a minute; the fastest talkers reach about 600
SILENT_PEAK_DBFS: Final = -40.0  # loudest sample below this: nothing was said
SILENT_RMS_DBFS: Final = -55.0
DECODE_SHORTFALL_S: Final = 0.1  # decoder delay and padding; more missing means frames dropped
_WORD: Final = re.compile(r"[^\W_]+")


def audio_from_body(body: bytes, content_type: str = "") -> bytes:
    """The MP3 bytes in a batchexecute body (`)]}'`, then lines of length and JSON)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Permanent(
            f"Google's answer is not text (byte {error.start} is not UTF-8)"
        ) from error
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        raise Permanent(
            "Google answered with a web page instead of speech "
            "(a network login page or a proxy may be in the way)"
        )
    entry = _rpc_entry(text)
    if entry is None:
        raise Permanent("Google answered without audio (no speech entry in the answer)")
    payload = entry[2] if len(entry) > 2 else None
    if payload is None:
        raise Permanent("Google answered without audio (the speech entry is empty)")
    try:
        inner = json.loads(payload) if isinstance(payload, str) else None
    except json.JSONDecodeError:
        inner = None
    if inner == []:
        raise Permanent("Google answered without audio (the speech entry is empty)")
    if not (isinstance(inner, list) and inner and isinstance(inner[0], str)):
        raise Permanent("Google's speech entry has an unexpected shape")
    try:
        audio = base64.b64decode(inner[0], validate=True)
    except (binascii.Error, ValueError) as error:
        raise Transient(f"the audio in Google's answer is not valid base64 ({error})") from error
    if not audio:
        raise Permanent("Google answered without audio (the speech entry is empty)")
    return audio


def _rpc_entry(text: str) -> list[object] | None:
    """The `["wrb.fr", "jQ1olc", ...]` entry of the body, or None when there is none.

    After the `)]}'` guard the body is a run of JSON values: a length, then an
    array (which may span lines), again and again. The lengths are not trusted.
    """
    decoder = json.JSONDecoder()
    at = len(_GUARD) if text.startswith(_GUARD) else 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return None
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as error:
            raise Permanent(
                f"Google's answer is not the JSON gTTS expects ({error.msg} at {error.pos})"
            ) from error
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, list) and len(entry) > 1 and entry[1] == RPC_ID:
                    return entry
        elif not isinstance(value, int):
            raise Permanent("Google's answer has an unexpected shape")


def check_speech(mp3: bytes, text: str) -> None:
    """Raise Transient unless `mp3` is whole, audible and long enough to say `text`."""
    try:
        stream = walk(mp3)
    except NotMp3 as error:
        raise Transient(f"the audio from Google is not a whole MP3: {error}") from error
    try:
        samples = decode_mp3(mp3, sample_rate=GTTS_SAMPLE_RATE)
    except SpeechError as error:
        raise Transient(f"the audio from Google does not decode: {error}") from error
    decoded_s = len(samples) / GTTS_SAMPLE_RATE
    if decoded_s < stream.duration_s - DECODE_SHORTFALL_S:
        raise Transient(
            f"the audio from Google decodes only {decoded_s:.2f} s of its "
            f"{stream.duration_s:.2f} s"
        )
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    if _dbfs(peak) < SILENT_PEAK_DBFS or _dbfs(rms) < SILENT_RMS_DBFS:
        raise Transient(
            f"the audio from Google is silent (peak {_dbfs(peak):.0f} dBFS, "
            f"RMS {_dbfs(rms):.0f} dBFS)"
        )
    start, stop = voiced_span(samples, GTTS_SAMPLE_RATE)
    spoken_s = (stop - start) / GTTS_SAMPLE_RATE
    words = len(_WORD.findall(text))
    floor_s = words * MIN_MS_PER_WORD / 1000
    if spoken_s < floor_s:
        raise Transient(
            f"the audio from Google is too short: {spoken_s:.2f} s of speech "
            f"for {words} words (at least {floor_s:.2f} s)"
        )


def _dbfs(level: float) -> float:
    return 20 * float(np.log10(max(level, 1e-10)))
