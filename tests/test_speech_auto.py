"""The `auto` engine choice, the progress bar, and the retry policy on its own."""

from __future__ import annotations

import io
import logging
import random
from dataclasses import replace

import pytest
import requests as http
import responses
from speech_helpers import TTS_URL, FakeGoogle, no_sleep_policy

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech import gtts_reachability as reachability
from innerchild_audio.speech import synthesize_all
from innerchild_audio.speech.gtts_engine import GttsEngine
from innerchild_audio.speech.gtts_retry import (
    Gate,
    GaveUp,
    RetryPolicy,
    Transient,
    parse_retry_after,
)
from innerchild_audio.speech.hibari_engine import HibariEngine
from innerchild_audio.speech.piper_engine import PiperEngine
from innerchild_audio.speech.progress import Progress
from innerchild_audio.timeline import SpeechRequest

AUTO = Voice(engine="auto", rate=1.0)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def engines():
    return {"gtts": GttsEngine(retry=no_sleep_policy()), "piper": PiperEngine(),
            "hibari": HibariEngine()}


def test_auto_without_google_uses_the_offline_voice_and_says_so_once(tmp_path, monkeypatch,
                                                                      caplog):
    checks: list[str] = []
    monkeypatch.setattr(reachability, "google_reachable", lambda tld: checks.append(tld) or False)
    requests = [SpeechRequest("Rest now.", AUTO), SpeechRequest("Breathe.", AUTO)]
    with caplog.at_level(logging.INFO, logger="innerchild_audio.speech"):
        result = synthesize_all(requests, cache_dir=tmp_path, engines=engines())
    assert checks == ["co.uk"]
    assert result.engine == "hibari" and "chose hibari:heart" in result.note
    assert "not reachable" in result.note
    assert result.voice_info["engine"] == "hibari" and result.voice_info["auto"] == result.note
    assert all(result.clips[r].sample_rate == 44100 for r in requests)
    assert sum("engine auto" in m for m in caplog.messages) == 1


def test_offline_voice_names_the_voice_auto_falls_back_to(tmp_path, monkeypatch):
    monkeypatch.setattr(reachability, "google_reachable", lambda tld: False)
    joe = replace(AUTO, offline="piper:joe")
    result = synthesize_all([SpeechRequest("Rest now.", joe)], cache_dir=tmp_path,
                            engines=engines())
    assert result.engine == "piper" and "chose piper:joe" in result.note
    assert next(iter(result.clips.values())).sample_rate == 22050


def test_auto_with_google_uses_gtts(tmp_path, monkeypatch, mock):
    fake = FakeGoogle().install(mock)
    monkeypatch.setattr(reachability, "google_reachable", lambda tld: True)
    requests = [SpeechRequest("Rest now.", AUTO)]
    result = synthesize_all(requests, cache_dir=tmp_path, engines=engines())
    assert result.engine == "gtts" and fake.texts == ["Rest now."]
    assert result.clips[requests[0]].sample_rate == 24000


def test_auto_with_every_clip_cached_asks_nobody(tmp_path, monkeypatch, mock):
    FakeGoogle().install(mock)
    requests = [SpeechRequest("Rest now.", AUTO)]
    synthesize_all(requests, engine="gtts", cache_dir=tmp_path, engines=engines())
    calls = len(mock.calls)

    def refuse(tld):
        raise AssertionError("reachability was checked although every clip is cached")

    monkeypatch.setattr(reachability, "google_reachable", refuse)
    result = synthesize_all(requests, cache_dir=tmp_path, engines=engines())
    assert result.engine == "gtts" and result.cached == 1 and len(mock.calls) == calls


def test_engine_gtts_never_falls_back(tmp_path, monkeypatch, mock):


    mock.add(responses.POST, TTS_URL, body=http.exceptions.ConnectionError("offline"))
    monkeypatch.setattr(reachability, "google_reachable", lambda tld: False)
    with pytest.raises(SpeechError, match="offline voice"):
        synthesize_all([SpeechRequest("Rest.", AUTO)], engine="gtts", cache_dir=tmp_path,
                       engines=engines())


def test_reachability_check_is_quick_and_any_answer_counts(mock):
    mock.add(responses.HEAD, "https://translate.google.com/", status=404)
    assert reachability.google_reachable("com") is True
    assert reachability.google_reachable("de") is False  # responses refuses unknown URLs


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_reports_cached_and_new_counts_with_an_eta():
    seen = []
    bar = Progress(4, lambda message, done, total, eta: seen.append((message, done, total, eta)))
    bar.add_cached(2)
    bar.start_making()
    bar.add_new()
    bar.close()
    assert seen[0] == ("2 cached, 0 new", 2, 4, None)  # nothing made yet: no ETA
    assert seen[1][:3] == ("2 cached, 1 new", 3, 4) and seen[1][3] >= 0
    assert seen[-1] == ("2 cached, 1 new", 3, 4, 0.0)  # the last report when it is over


def test_progress_without_a_listener_counts_quietly():
    bar = Progress(3)
    bar.add_cached(1)
    bar.add_new()
    bar.close()
    assert (bar.cached, bar.new) == (1, 1)


def test_retry_after_as_seconds_and_as_a_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0, rng=random.Random(1))
    for retry, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        delays = [policy.backoff_s(retry) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_retry_stops_on_success_and_on_a_final_error():
    sleeps: list[float] = []
    outcomes = iter([Transient("busy"), Transient("busy", retry_after_s=2.0), "ok"])

    def attempt():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert RetryPolicy(sleep=sleeps.append).call(attempt) == "ok"
    assert len(sleeps) == 2 and sleeps[1] == 2.0

    def fatal():
        raise ValueError("bad")

    with pytest.raises(ValueError):
        RetryPolicy(sleep=sleeps.append).call(fatal)

    def always():
        raise Transient("busy")

    with pytest.raises(GaveUp) as caught:
        RetryPolicy(attempts=3, sleep=sleeps.append).call(always)
    assert caught.value.attempts == 3


def test_a_retry_after_holds_off_every_worker_sharing_the_gate():
    now = [100.0]
    gate = Gate(clock=lambda: now[0])
    sleeps: list[float] = []
    policy = RetryPolicy(sleep=sleeps.append)
    outcomes = iter([Transient("429", retry_after_s=5.0), "ok"])

    def attempt():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert policy.call(attempt, gate=gate) == "ok"
    assert sleeps == [5.0]
    assert gate.wait_s() == 5.0  # another worker starting now waits too
    now[0] += 5.0
    assert gate.wait_s() == 0.0
