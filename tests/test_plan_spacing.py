"""Spacing around bells, breaths and sounds; lead-in and tail; tone cues explained."""

from __future__ import annotations

import numpy as np
import pytest

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.plan import lay_out, plan_script
from innerchild_audio.render import render_script
from innerchild_audio.script import load_script
from innerchild_audio.script.steps import TONE_EXPLANATION
from innerchild_audio.timeline import BellEvent, BreathEvent, SilenceEvent, SpeechEvent

RATE = 44100

SPACED = """\
title: Spacing
voice: {engine: piper, rate: 1.0, sentence_pause: 1.1s}
steps:
  - say: Let us breathe together.
  - breathe: {in: 2s, out: 2s, cycles: 1, cues: voice}
  - say: Now listen to the bell.
  - bell: {strikes: 1}
  - say: Welcome back.
"""


def _end(event) -> int:
    return event.start_ms + event.duration_ms


def test_a_breath_cue_never_starts_inside_the_sentence_pause_before_it(write_script):
    timeline = plan_script(load_script(write_script(SPACED)))
    events = list(timeline.events)
    for index, event in enumerate(events):
        if isinstance(event, BreathEvent) and event.cycle == 1 and event.phase == "in":
            said = [e for e in events[:index] if isinstance(e, SpeechEvent) and not e.cue]
            assert event.start_ms - _end(said[-1]) >= 1100
    bell = next(e for e in events if isinstance(e, BellEvent))
    before = [e for e in events if isinstance(e, SpeechEvent) and _end(e) <= bell.start_ms]
    after = [e for e in events if isinstance(e, SpeechEvent) and e.start_ms >= _end(bell)]
    assert bell.start_ms - _end(before[-1]) == 1100
    assert after[0].start_ms - _end(bell) == 1100
    breath_end = max(_end(e) for e in events if isinstance(e, BreathEvent))
    next_say = next(e for e in events if isinstance(e, SpeechEvent) and not e.cue
                    and e.start_ms >= breath_end)
    assert next_say.start_ms - breath_end == 1100


def test_lead_in_and_tail_are_fixed_time_for_the_fitting(write_script):
    path = write_script("title: T\nlead_in: 4s\ntail: 6s\n"
                        "steps:\n  - say: Hello.\n  - pause: {min: 1s, max: 10s}\n")
    timeline = plan_script(load_script(path))
    first, last = timeline.events[0], timeline.events[-1]
    assert isinstance(first, SilenceEvent) and first.reason == "lead_in"
    assert first.duration_ms == 4000
    assert isinstance(last, SilenceEvent) and last.reason == "tail" and last.duration_ms == 6000
    speech = timeline.speech[0].duration_ms
    assert timeline.min_total_ms == 4000 + speech + 1000 + 6000


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    base = tmp_path_factory.mktemp("spacing")
    script = base / "lead.yaml"
    script.write_text("title: Lead\nbackground: {sound: brown-noise, fade_in: 0.5s}\n"
                      "voice: {engine: piper, rate: 1.0}\n"
                      "steps:\n  - say: You are safe here.\n"
                      "  - breathe: {in: 2s, out: 2s, cycles: 1, cues: tone}\n",
                      encoding="utf-8")
    result = render_script(script, RenderOptions(warnings=False),
                           RunSettings(out_dir=base / "out", cache_dir=base / "cache"))
    audio = decode_mp3(result.mp3_path)
    return result, (audio if audio.ndim == 1 else audio[:, 0])


def _voice_onset(audio: np.ndarray) -> float:
    """Seconds to the first 10 ms well above the bed (the bed is 20 dB under the voice)."""
    frames = audio[: len(audio) // 441 * 441].reshape(-1, 441)
    level = 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-12)
    loud = np.flatnonzero(level > level.max() - 15)
    return loud[0] / 100, loud[-1] / 100


def test_lead_in_and_tail_measured_in_the_decoded_mp3(session):
    result, audio = session
    first, last = _voice_onset(audio)
    assert 1.9 <= first <= 2.3  # 2 s of bed before the first word
    assert len(audio) / RATE - last >= 2.9  # and 3 s after the last sound
    bed = audio[int(0.6 * RATE):int(1.8 * RATE)]
    assert 20 * np.log10(np.sqrt(np.mean(bed ** 2))) > -60  # the lead-in is bed, not silence


def test_the_first_tone_breathing_says_what_the_tones_mean(session, write_script):
    result, _ = session
    spoken = [e.request.text for e in result.timeline.speech]
    assert spoken == ["You are safe here.", TONE_EXPLANATION]
    vtt = next(p for p in result.files if p.suffix == ".vtt").read_text(encoding="utf-8")
    assert "rising tone" in " ".join(vtt.split())
    twice = write_script("title: T\nsteps:\n  - say: Hi.\n"
                         "  - breathe: {in: 2s, out: 2s, cues: tone, explain: Follow me.}\n"
                         "  - breathe: {in: 2s, out: 2s, cues: tone}\n"
                         "  - breathe: {in: 2s, out: 2s, cues: tone, explain: false}\n")
    texts = [r.text for r in lay_out(load_script(twice)).requests()]
    assert texts == ["Hi.", "Follow me."]  # only the first is explained
    silent = write_script("title: T\nsteps:\n  - say: Hi.\n"
                          "  - breathe: {in: 2s, out: 2s, cues: tone, explain: false}\n",
                          name="quiet.yaml")
    assert [r.text for r in lay_out(load_script(silent)).requests()] == ["Hi."]


def test_explain_without_tone_cues_is_refused(write_script):
    from innerchild_audio.errors import ScriptError

    path = write_script("title: T\nsteps:\n  - say: Hi.\n"
                        "  - breathe: {in: 2s, out: 2s, explain: true}\n")
    with pytest.raises(ScriptError, match="explain goes with cues: tone"):
        load_script(path)


def test_the_schema_knows_the_voice_and_pacing_keys(write_script):
    import jsonschema
    import yaml

    from innerchild_audio.schema import schema

    text = ("title: T\nlead_in: 1s\ntail: 4s\noffline_voice: hibari:heart\n"
            "pronounce: {Hafiz: hah-feez}\n"
            "voice: {engine: hibari, model: heart, phrase_pause: 300ms}\n"
            "steps:\n  - say: Hi, Hafiz.\n"
            "  - breathe: {in: 2s, out: 2s, cues: tone, explain: Follow the tones.}\n")
    jsonschema.validate(yaml.safe_load(text), schema())
    script = load_script(write_script(text))
    assert (script.lead_in_ms, script.tail_ms) == (1000, 4000)
    assert script.voice.phrase_pause_ms == 300 and script.voice.offline == "hibari:heart"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "T", "steps": [], "offline_voice": "espeak"}, schema())
