"""gTTS through its real code, with Google's HTTP endpoint mocked by `responses`."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import requests
import responses
from speech_helpers import (
    TTS_URL,
    FakeGoogle,
    batchexecute_body,
    empty_body,
    fake_speech_mp3,
    no_sleep_policy,
    request_text,
    speech_ms,
)

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech import ClipCache, synthesize_all
from innerchild_audio.speech.gtts_engine import GttsEngine
from innerchild_audio.speech.gtts_packing import default_request_count
from innerchild_audio.timeline import SpeechRequest

VOICE = Voice(engine="gtts", rate=1.0)
PAD_MS = 2 * 40  # trim_silence keeps 40 ms each side


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def run(texts, tmp_path: Path, engine: GttsEngine, voice: Voice = VOICE, **kwargs):
    requests_ = [SpeechRequest(text, voice) for text in texts]
    result = synthesize_all(
        requests_, engine="gtts", cache_dir=tmp_path / "cache", engines={"gtts": engine}, **kwargs
    )
    return requests_, result


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_success_one_request_and_a_real_decoded_clip(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    engine = GttsEngine(retry=no_sleep_policy())
    (request,), result = run(["You are safe here."], tmp_path, engine)
    assert len(mock.calls) == 1 and fake.texts == ["You are safe here."]
    clip = result.clips[request]
    assert clip.sample_rate == 24000
    assert clip.samples.dtype == np.float32
    assert abs(clip.duration_ms - (speech_ms("You are safe here.") + PAD_MS)) <= 25
    assert rms(clip.samples) > 0.1
    assert result.engine == "gtts" and result.synthesized == 1 and result.cached == 0
    assert result.voice_info["tld"] == "co.uk"
    assert mock.calls[0].request.url.startswith("https://translate.google.co.uk/")


def test_429_then_success_honours_retry_after(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, status=429, headers={"Retry-After": "3"})
    mock.add(responses.POST, TTS_URL, body=batchexecute_body(fake_speech_mp3("Rest now.")))
    sleeps: list[float] = []
    engine = GttsEngine(retry=no_sleep_policy(sleeps))
    (request,), result = run(["Rest now."], tmp_path, engine)
    assert len(mock.calls) == 2
    assert len(sleeps) == 1 and 2.9 <= sleeps[0] <= 3.0
    assert result.clips[request].duration_ms > 300


def test_500s_until_giving_up(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, status=500)
    sleeps: list[float] = []
    engine = GttsEngine(retry=no_sleep_policy(sleeps, attempts=4))
    with pytest.raises(SpeechError) as caught:
        run(["Rest now."], tmp_path, engine)
    assert len(mock.calls) == 4
    message = str(caught.value)
    assert "500" in message and "4 attempts" in message and "engine 'piper'" in message
    # exponential backoff with jitter: each delay within [half, full] of 1, 2, 4 s
    assert len(sleeps) == 3
    for delay, ceiling in zip(sleeps, (1.0, 2.0, 4.0), strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert ClipCache(tmp_path / "cache").info().entries == 0  # nothing partial is cached


def test_timeout_is_retried_then_reported(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    engine = GttsEngine(retry=no_sleep_policy(attempts=3))
    with pytest.raises(SpeechError, match="timed out.*offline voice"):
        run(["Rest now."], tmp_path, engine)
    assert len(mock.calls) == 3


def test_every_request_carries_a_timeout(mock, tmp_path, monkeypatch):
    FakeGoogle().install(mock)
    seen: list[object] = []
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    run(["One.", "x" * 150], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert seen and all(t is not None for t in seen)


def test_timeout_then_success(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, body=requests.exceptions.ConnectTimeout("slow"))
    mock.add(responses.POST, TTS_URL, body=batchexecute_body(fake_speech_mp3("Rest now.")))
    sleeps: list[float] = []
    (request,), result = run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy(sleeps)))
    assert len(mock.calls) == 2 and len(sleeps) == 1
    assert result.clips[request].duration_ms > 300


def test_connection_error_is_retried_then_reported(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, body=requests.exceptions.ConnectionError("refused"))
    engine = GttsEngine(retry=no_sleep_policy(attempts=5))
    with pytest.raises(SpeechError, match="could not connect.*offline voice"):
        run(["Rest now."], tmp_path, engine)
    assert len(mock.calls) == 5


@pytest.mark.parametrize("body", [empty_body(), batchexecute_body(None)], ids=["none", "empty"])
def test_200_without_audio_is_an_error_not_an_empty_clip(mock, tmp_path, body):
    mock.add(responses.POST, TTS_URL, body=body)
    with pytest.raises(SpeechError, match="without audio"):
        run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert len(mock.calls) == 1  # not worth retrying
    assert ClipCache(tmp_path / "cache").info().entries == 0


def test_403_is_not_retried(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, status=403)
    with pytest.raises(SpeechError, match="403.*offline voice"):
        run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert len(mock.calls) == 1


def test_retry_after_beyond_the_limit_gives_up_at_once(mock, tmp_path):
    mock.add(responses.POST, TTS_URL, status=429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with pytest.raises(SpeechError, match="wait 3600 s"):
        run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy(sleeps)))
    assert len(mock.calls) == 1 and sleeps == []


def test_unknown_language_fails_before_any_request(mock, tmp_path):
    with pytest.raises(SpeechError, match="language 'xx'"):
        run(["Rest now."], tmp_path, GttsEngine(), voice=Voice(engine="gtts", lang="xx"))
    assert len(mock.calls) == 0


def test_short_sentences_share_one_request_and_are_cut_apart(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    texts = ["Breathe in.", "Hold it gently.", "And let it go now."]
    requests_, result = run(texts, tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert fake.texts == ["Breathe in. Hold it gently. And let it go now."]
    for request in requests_:
        clip = result.clips[request]
        assert abs(clip.duration_ms - (speech_ms(request.text) + PAD_MS)) <= 30, request.text
        assert rms(clip.samples) > 0.1
    # each piece is the burst of its own sentence (the fake voice varies the pitch)
    freqs = []
    for request in requests_:
        samples = result.clips[request].samples
        spectrum = np.abs(np.fft.rfft(samples))
        freqs.append(np.argmax(spectrum) * 24000 / len(samples))
    assert [round(f / 10) * 10 for f in freqs] == [180, 220, 260]


def test_packed_sentences_without_pauses_are_asked_one_by_one(mock, tmp_path):
    fake = FakeGoogle(pauses=False).install(mock)
    texts = ["Breathe in.", "Hold it gently.", "And let it go now."]
    requests_, result = run(texts, tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert fake.texts == [" ".join(texts), *texts]
    for request in requests_:
        assert abs(result.clips[request].duration_ms - (speech_ms(request.text) + PAD_MS)) <= 30


def test_a_long_sentence_takes_fewer_requests_than_gtts_alone(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    text = (
        "Let your breath slow down, and as it does, notice the places in your body where "
        "you feel held, supported, and safe, like the floor beneath you, the air around you, "
        "and the quiet."
    )
    (request,), result = run([text], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert len(fake.texts) == 2 < default_request_count(text)
    assert all(len(t) <= 100 for t in fake.texts)
    assert " ".join(fake.texts) == text
    chunk_ms = sum(speech_ms(t) + 2 * 150 for t in fake.texts) - 2 * 150 + PAD_MS
    assert abs(result.clips[request].duration_ms - chunk_ms) <= 60


def test_rate_changes_tempo_not_pitch(mock, tmp_path):
    FakeGoogle().install(mock)
    text = "Slowly and softly."
    (normal,), fast = run([text], tmp_path / "a", GttsEngine(retry=no_sleep_policy()))
    slow_voice = Voice(engine="gtts", rate=0.5)
    (slow,), slowed = run([text], tmp_path / "b", GttsEngine(retry=no_sleep_policy()), slow_voice)
    a, b = fast.clips[normal], slowed.clips[slow]
    ratio = (b.duration_ms - PAD_MS) / (a.duration_ms - PAD_MS)
    assert 1.85 <= ratio <= 2.15

    def peak_hz(samples):
        spectrum = np.abs(np.fft.rfft(samples))
        return np.argmax(spectrum) * 24000 / len(samples)

    assert abs(peak_hz(a.samples) - peak_hz(b.samples)) < 10


def test_second_synthesis_makes_zero_requests(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    texts = ["Welcome, friend.", "Let your eyes close.", "x " * 70 + "end."]
    engine = GttsEngine(retry=no_sleep_policy())
    first_requests, first = run(texts, tmp_path, engine)
    made = len(mock.calls)
    assert made == first.requests_made >= 2 and first.synthesized == 3
    again_requests, again = run(texts, tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert len(mock.calls) == made and len(fake.texts) == made
    assert again.cached == 3 and again.synthesized == 0 and again.requests_made == 0
    for request in first_requests:
        assert np.array_equal(first.clips[request].samples, again.clips[request].samples)


def test_other_voice_parameters_are_other_cache_entries(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()))
    run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()),
        voice=Voice(engine="gtts", rate=1.0, tld="com"))
    run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()),
        voice=Voice(engine="gtts", rate=0.8))
    assert len(fake.texts) == 3


def test_requests_in_flight_are_bounded_by_the_pool(mock, tmp_path):
    fake = FakeGoogle(latency_s=0.05).install(mock)
    texts = [f"Sentence number {i} is long enough that it will not share. " * 2 for i in range(8)]
    run(texts, tmp_path, GttsEngine(retry=no_sleep_policy(), max_workers=3), jobs=8)
    assert fake.max_in_flight == 3
    assert len(fake.texts) == 16


def test_texts_with_nothing_to_say_make_no_request(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    requests_, result = run(["...", "Rest."], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert fake.texts == ["Rest."]
    assert result.clips[requests_[0]].duration_ms == 0


def test_a_chunk_of_only_punctuation_is_not_sent(mock, tmp_path):
    fake = FakeGoogle(pauses=False).install(mock)
    text = "a" * 99 + " " + "!" * 120  # packing cuts the exclamation marks into chunks of their own
    (request,), result = run([text], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert fake.texts == ["a" * 99]
    assert abs(result.clips[request].duration_ms - (speech_ms("a" * 99) + PAD_MS)) <= 30


def test_request_text_reads_back_what_gtts_sent(mock, tmp_path):
    FakeGoogle().install(mock)
    run(["Ünïcode “quotes” — fine."], tmp_path, GttsEngine(retry=no_sleep_policy()))
    assert request_text(mock.calls[0].request.body) == "Ünïcode “quotes” — fine."


def test_sharing_requests_can_be_switched_off(mock, tmp_path):
    fake = FakeGoogle().install(mock)
    texts = ["Breathe in.", "Hold it gently."]
    run(texts, tmp_path, GttsEngine(retry=no_sleep_policy(), share_requests=False))
    assert sorted(fake.texts) == sorted(texts)


def test_an_old_language_tag_is_sent_as_gtts_maps_it(mock, tmp_path):
    FakeGoogle().install(mock)
    with pytest.warns(DeprecationWarning, match="en-gb"):
        run(["Rest now."], tmp_path, GttsEngine(retry=no_sleep_policy()),
            voice=Voice(engine="gtts", lang="en-gb", rate=1.0))
    body = urllib.parse.parse_qs(mock.calls[0].request.body)
    assert json.loads(json.loads(body["f.req"][0])[0][0][1])[1] == "en"
