"""The hibari engine: its bundled voice offline, at the session rate; other voices refused."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from innerchild_audio.cli import main
from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech import synthesize_all
from innerchild_audio.speech.hibari_engine import SESSION_RATE, HibariEngine
from innerchild_audio.speech.voices import list_voices
from innerchild_audio.timeline import SpeechRequest

HEART = Voice(engine="hibari", model="heart", rate=1.0)
SENTENCE = "Notice the weight of your body resting where you are."


def test_heart_speaks_a_real_sentence_offline_at_the_session_rate(tmp_path):
    result = synthesize_all([SpeechRequest(SENTENCE, HEART)], cache_dir=tmp_path)
    (clip,) = result.clips.values()
    assert result.engine == "hibari" and clip.sample_rate == SESSION_RATE == 44100
    seconds = len(clip.samples) / clip.sample_rate
    assert 2.5 <= seconds <= 7.0  # ten words at 90 to 200 words a minute, with edges
    rms = float(np.sqrt(np.mean(clip.samples ** 2)))
    assert rms > 0.02 and float(np.max(np.abs(clip.samples))) <= 1.0
    # speech has its energy in the voice band, and is not one tone: many frames differ
    frames = clip.samples[: len(clip.samples) // 441 * 441].reshape(-1, 441)
    levels = 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-9)
    assert np.ptp(levels) > 30  # syllables and gaps, not a steady sound
    again = synthesize_all([SpeechRequest(SENTENCE, HEART)], cache_dir=tmp_path)
    assert again.cached == 1 and np.array_equal(next(iter(again.clips.values())).samples,
                                                clip.samples)


def test_a_voice_that_would_download_is_refused_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "hibari-cache"))
    engine = HibariEngine(voices_dir=tmp_path / "voices")
    with pytest.raises(SpeechError, match="downloads it on first use.*bf_emma.int8.onnx"):
        engine.synthesize("Hello.", Voice(engine="hibari", model="emma"))
    with pytest.raises(SpeechError, match="no hibari voice 'nobody'"):
        engine.synthesize("Hello.", Voice(engine="hibari", model="nobody"))


def test_voices_lists_both_bundled_voices(tmp_path, monkeypatch):
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "hibari-cache"))
    found = {(v.engine, v.name): v for v in list_voices(tmp_path / "voices")}
    assert found["piper", "joe"].where == "bundled" and found["piper", "joe"].sex == "male"
    assert found["hibari", "heart"].where == "bundled"
    assert found["hibari", "heart"].sex == "female"
    assert found["hibari", "heart"].language == "en-US"
    assert ("hibari", "emma") not in found  # not downloaded: not usable here
    result = CliRunner().invoke(main, ["voices", "--voices-dir", str(tmp_path / "voices")])
    assert result.exit_code == 0
    assert "piper:joe" in result.output and "hibari:heart" in result.output


def test_say_renders_a_short_audition(tmp_path):
    out = tmp_path / "sample.mp3"
    result = CliRunner().invoke(main, ["say", "You are safe.", "--voice", "hibari:heart",
                                       "-o", str(out), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    from innerchild_audio.audio_io import decode_mp3

    seconds = len(decode_mp3(out)) / 44100
    assert 2 + 1 + 3 <= seconds <= 2 + 3 + 3  # lead-in, "You are safe." and the tail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "sample.mp3"]
    bad = CliRunner().invoke(main, ["say", "Hi.", "--voice", "espeak:x", "-o", str(out)])
    assert bad.exit_code == 2 and "ENGINE:NAME" in bad.output


def test_voices_lists_what_is_in_the_voices_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "hibari-cache"))
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "bf_emma.int8.onnx").write_bytes(b"model")
    (folder / "amy.onnx").write_bytes(b"model")
    (folder / "amy.onnx.json").write_text('{"language": {"code": "en_GB"}}', encoding="utf-8")
    (folder / "stray.onnx").write_bytes(b"no config beside it")
    found = {(v.engine, v.name): v for v in list_voices(folder)}
    assert found["hibari", "emma"].where == str(folder / "bf_emma.int8.onnx")
    assert found["hibari", "emma"].language == "en-GB"
    assert found["piper", "amy"].language == "en-GB"
    assert ("piper", "stray") not in found and ("piper", "bf_emma.int8") not in found
