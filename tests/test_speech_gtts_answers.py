"""Google's answers are checked before they are kept: a bad body is a speech error, never cached.

gTTS runs through its real request building; `responses` stands in for Google.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import requests
import responses
from speech_helpers import (
    TTS_URL,
    FakeGoogle,
    batchexecute_body,
    encode_mp3,
    fake_speech_mp3,
    no_sleep_policy,
    silence,
    speech_ms,
    tone,
)

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech import ClipCache, gtts_engine, synthesize_all
from innerchild_audio.speech.gtts_engine import GttsEngine
from innerchild_audio.speech.gtts_mp3_frames import NotMp3, walk
from innerchild_audio.timeline import SpeechRequest

VOICE = Voice(engine="gtts", rate=1.0)
TEXT = "You are safe here, and you can rest now."  # nine words
HINT = SpeechError.OFFLINE_HINT
ATTEMPTS = 3


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def run(tmp_path: Path, text: str = TEXT):
    request = SpeechRequest(text, VOICE)
    engine = GttsEngine(retry=no_sleep_policy(attempts=ATTEMPTS))
    result = synthesize_all([request], engine="gtts", cache_dir=tmp_path / "cache",
                            engines={"gtts": engine})
    return result.clips[request]


def rpc_body(payload: object) -> str:
    """A batchexecute body whose speech entry carries `payload` (normally a JSON string)."""
    frame = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]],
                       separators=(",", ":"))
    return f")]}}'\n\n{len(frame)}\n{frame}\n"


def google_layout_body(mp3: bytes) -> str:
    """The body as Google lays it out: arrays spread over lines, more frames after the audio."""
    compact = {"separators": (",", ":")}
    inner = json.dumps([base64.b64encode(mp3).decode("ascii")], **compact) + "\n"
    entry = json.dumps(["wrb.fr", "jQ1olc", inner, None, None, None, "generic"], **compact)
    first = f"[{entry}\n]"
    second = '[["di",37]\n,["af.httprm",36,"-668177807451224424",66]\n]'
    third = '[["e",4,null,null,5662]\n]'
    return "".join(f"{len(f)}\n{f}\n" for f in (first, second, third)).join([")]}'\n\n", "\n"])


def cut_mid_frame(mp3: bytes, fraction: float) -> bytes:
    """`mp3` cut a little after `fraction` of its bytes, inside a frame."""
    at = int(len(mp3) * fraction)
    while True:  # the next frame header (0xFFF sync), then into its data
        at = mp3.index(b"\xff", at + 1)
        if mp3[at + 1] & 0xE0 == 0xE0:
            return mp3[: at + 30]


GOOD = fake_speech_mp3(TEXT)
DAMAGED = {  # audio that may come right when asked again
    "truncated": batchexecute_body(cut_mid_frame(GOOD, 0.4)),
    "silent": batchexecute_body(encode_mp3(silence(1500))),
    "too-short": batchexecute_body(fake_speech_mp3("Rest.")),
    "bad-base64": rpc_body(json.dumps(["@@not*base64@@="])),
    "garbage-mid-stream": batchexecute_body(GOOD[:2000] + bytes(300) + GOOD[2300:]),
}
UNEXPECTED = {  # answers the endpoint never sends: asking again will not help
    "html": ("<!doctype html><html><body>Sign in to this network</body></html>", "text/html"),
    "html-as-json": ("<html><body>Sign in</body></html>", "application/json"),
    "non-utf8": (b")]}'\n\n20\n[[\"wrb.fr\",\"jQ1olc\",\"\xff\xfe\"]]\n", "application/json"),
    "not-json": (")]}'\n\n12\n[[\"wrb.fr\",\"jQ1olc\",{oops\n", "application/json"),
    "object-payload": (rpc_body({"audio": "AAAA"}), "application/json"),
    "number-inside": (rpc_body(json.dumps([42])), "application/json"),
    "not-a-list": (")]}'\n\n7\n\"hello\"\n", "application/json"),
}


def assert_nothing_cached(tmp_path: Path) -> None:
    assert ClipCache(tmp_path / "cache").info().entries == 0
    assert list((tmp_path / "cache").rglob("*.npz")) == []


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_audio_is_retried_then_a_speech_error_and_never_cached(mock, tmp_path, name):
    mock.add(responses.POST, TTS_URL, body=DAMAGED[name])
    with pytest.raises(SpeechError) as caught:
        run(tmp_path)
    message = str(caught.value)
    assert f"after {ATTEMPTS} attempts" in message and message.endswith(HINT)
    assert len(mock.calls) == ATTEMPTS
    assert_nothing_cached(tmp_path)


@pytest.mark.parametrize("name", UNEXPECTED)
def test_an_unexpected_body_is_a_speech_error_with_the_offline_hint(mock, tmp_path, name):
    body, content_type = UNEXPECTED[name]
    mock.add(responses.POST, TTS_URL, body=body, content_type=content_type)
    with pytest.raises(SpeechError, match=r"Google.*offline voice \(engine 'piper'\)") as caught:
        run(tmp_path)
    assert caught.value.offline_hint and "--engine piper" in caught.value.cli_message()
    assert len(mock.calls) == 1
    assert_nothing_cached(tmp_path)


def test_what_each_check_says(tmp_path):
    said = {}
    for name in ("truncated", "silent", "too-short", "bad-base64"):
        with responses.RequestsMock() as each:
            each.add(responses.POST, TTS_URL, body=DAMAGED[name])
            with pytest.raises(SpeechError) as caught:
                run(tmp_path / name)
        said[name] = str(caught.value)
    assert "not a whole MP3: the last frame is cut" in said["truncated"]
    assert "silent (peak -200 dBFS" in said["silent"]
    assert "too short" in said["too-short"] and "for 9 words" in said["too-short"]
    assert "not valid base64" in said["bad-base64"]


def test_a_damaged_answer_then_a_good_one_keeps_only_the_good_clip(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, body=DAMAGED["truncated"])
    mock.add(responses.POST, TTS_URL, body=batchexecute_body(GOOD))
    clip = run(tmp_path)
    assert len(mock.calls) == 2
    assert abs(clip.duration_ms - (speech_ms(TEXT) + 80)) <= 40  # the whole sentence
    assert ClipCache(tmp_path / "cache").info().entries == 1
    again = run(tmp_path)  # from the cache, without a request
    assert len(mock.calls) == 2 and np.array_equal(again.samples, clip.samples)


def test_the_body_as_google_lays_it_out_is_read(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, body=google_layout_body(GOOD))
    clip = run(tmp_path)
    assert abs(clip.duration_ms - (speech_ms(TEXT) + 80)) <= 40


def test_quiet_but_real_speech_is_kept(mock, tmp_path):
    quiet = np.concatenate([silence(150), tone(speech_ms(TEXT), level=0.03), silence(150)])
    mock.add(responses.POST, TTS_URL, body=batchexecute_body(encode_mp3(quiet)))
    assert run(tmp_path).duration_ms > speech_ms(TEXT)


def test_requests_go_out_with_certificate_verification_on(mock, tmp_path, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    FakeGoogle().install(mock)
    run(tmp_path, "One short line.")
    run(tmp_path, "x " * 70 + "and a second chunk after it.")
    assert len(mock.calls) == 3
    assert [call.request.req_kwargs["verify"] for call in mock.calls] == [True] * 3
    assert all(call.request.req_kwargs["timeout"] is not None for call in mock.calls)


def test_a_certificate_authority_named_in_the_environment_is_used(mock, tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    FakeGoogle().install(mock)
    run(tmp_path)
    assert mock.calls[0].request.req_kwargs["verify"] == str(bundle)


def test_a_certificate_that_does_not_verify_is_not_retried(mock, tmp_path):
    failure = requests.exceptions.SSLError("certificate verify failed")
    mock.add(responses.POST, TTS_URL, body=failure)
    with pytest.raises(SpeechError, match=r"certificate of translate\.google\.co\.uk.*offline"):
        run(tmp_path)
    assert len(mock.calls) == 1


def test_a_redirect_is_not_followed(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, status=302, headers={"Location": "http://login.example/"})
    with pytest.raises(SpeechError, match="redirected to 'http://login.example/'"):
        run(tmp_path)
    assert len(mock.calls) == 1


def test_an_endless_body_is_refused(mock, tmp_path, monkeypatch):
    monkeypatch.setattr(gtts_engine, "MAX_BODY_BYTES", 100_000)
    mock.add(responses.POST, TTS_URL, body=")]}'\n\n" + "0" * 300_000)
    with pytest.raises(SpeechError, match="over 100,000 bytes"):
        run(tmp_path)
    assert len(mock.calls) == 1


def test_the_frame_walk_finds_every_cut_inside_a_frame():
    mp3 = fake_speech_mp3("Rest.")
    stream = walk(mp3)
    assert stream.sample_rate == 24000
    assert stream.frames * 576 == stream.samples
    boundaries = set()
    for cut in range(1, len(mp3)):
        try:
            walk(mp3[:cut])
        except NotMp3:
            continue
        boundaries.add(cut)
    # only cuts between frames pass: as many as there are frames (the ID3 tag's end counts)
    assert len(boundaries) <= stream.frames + 1
    with pytest.raises(NotMp3, match="no MP3 frame at byte 0"):
        walk(b"<html>" * 20)
    with pytest.raises(NotMp3, match="no MP3 frame"):
        walk(b"")


def test_a_connection_broken_mid_answer_is_asked_again(mock, tmp_path):
    broken = requests.exceptions.ChunkedEncodingError("connection broken: IncompleteRead")
    mock.add(responses.POST, TTS_URL, body=broken)
    mock.add(responses.POST, TTS_URL, body=batchexecute_body(GOOD))
    assert run(tmp_path).duration_ms > speech_ms(TEXT)
    assert len(mock.calls) == 2
