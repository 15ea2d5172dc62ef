"""mix_session: frame counts, speech where speech goes, silence where pauses go, clean edges."""

from __future__ import annotations

import numpy as np
import pytest
from audio_helpers import (
    TimelineBuilder,
    max_jump,
    mono,
    rms_db,
    sine,
    speech_clip,
    window,
)

from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.mix import mix_session
from innerchild_audio.mix.levels import NOMINAL_SPEECH_DB
from innerchild_audio.model import Background, Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import SilenceEvent, SpeechEvent


def spoken_session() -> TimelineBuilder:
    """Sentences with sentence, paragraph, fixed and elastic pauses between them."""
    b = TimelineBuilder()
    b.say("Welcome.", duration_ms=1800)
    b.pause(1200, "sentence")
    b.say("Let your eyes close.", speech_clip(2500, 24000, seed=7))  # gTTS's rate
    b.pause(3000, "paragraph")
    b.say("Notice your breath.", duration_ms=2200)
    b.pause(4000, "pause")
    b.say("Welcome.")  # the same sentence again shares its clip
    b.pause(6500, "elastic")
    return b


@pytest.mark.parametrize("sample_rate", [44100, 48000, 22050])
@pytest.mark.parametrize("channels", [1, 2])
def test_frame_count_is_the_timeline_length(sample_rate: int, channels: int) -> None:
    b = spoken_session()
    b.pause(333)  # a length that does not divide evenly into frames
    timeline = b.timeline()
    audio = mix_session(timeline, b.clips, sample_rate=sample_rate, channels=channels)
    assert audio.dtype == np.float32
    assert audio.shape == (round(timeline.total_ms * sample_rate / 1000), channels)


def test_speech_in_every_speech_window_and_exact_silence_in_every_pause() -> None:
    b = spoken_session()
    timeline = b.timeline()
    audio = mono(mix_session(timeline, b.clips))
    sr = 44100
    speech = [e for e in timeline.events if isinstance(e, SpeechEvent)]
    pauses = [e for e in timeline.events if isinstance(e, SilenceEvent)]
    assert len(speech) == 4 and len(pauses) == 4
    for event in speech:
        inner = window(audio, sr, event.start_ms + 100, event.start_ms + event.duration_ms - 100)
        assert rms_db(inner) > NOMINAL_SPEECH_DB - 8
    for event in pauses:
        gap = window(audio, sr, event.start_ms, event.start_ms + event.duration_ms)
        assert np.count_nonzero(gap) == 0, event


def test_each_clip_starts_where_its_event_starts() -> None:
    b = TimelineBuilder()
    b.pause(700)
    event = b.say("One.", speech_clip(1500, 22050))
    b.pause(500)
    audio = mono(mix_session(b.timeline(), b.clips))
    clip = b.clips[event.request]
    clip_onset_ms = np.flatnonzero(clip.samples)[0] * 1000 / clip.sample_rate
    mix_onset_ms = np.flatnonzero(np.abs(audio) > 1e-4)[0] * 1000 / 44100
    assert mix_onset_ms == pytest.approx(event.start_ms + clip_onset_ms, abs=1.0)


def test_clip_edges_are_faded_so_nothing_clicks() -> None:
    # a clip that starts and stops at full swing, as a badly trimmed file would
    sr = 22050
    abrupt = Clip(sine(1000, 440.0, sr, level=0.5) + np.float32(0.2), sr)  # offset too
    b = TimelineBuilder()
    b.pause(500)
    event = b.say("Abrupt.", abrupt)
    b.pause(500)
    audio = mono(mix_session(b.timeline(), b.clips))
    clip_window = window(audio, 44100, event.start_ms, event.start_ms + event.duration_ms)
    peak = np.max(np.abs(clip_window))
    assert abs(clip_window[0]) < 1e-3 * peak
    assert abs(clip_window[-1]) < 2e-2 * peak
    # no step anywhere: nothing jumps more than the sine's own steepest slope allows
    natural = 2 * np.pi * 440 / 44100 * peak
    assert max_jump(audio) < 1.1 * natural


def test_speech_is_levelled_to_the_nominal_voice_level() -> None:
    sr = 22050
    quiet = Clip(sine(3000, 200.0, sr, level=0.05), sr)  # about -29 dBFS RMS
    b = TimelineBuilder()
    event = b.say("Quiet engine.", quiet)
    audio = mono(mix_session(b.timeline(), b.clips))
    inner = window(audio, 44100, event.start_ms + 50, event.start_ms + event.duration_ms - 50)
    assert rms_db(inner) == pytest.approx(NOMINAL_SPEECH_DB, abs=0.2)


def test_one_gain_per_voice_keeps_sentence_dynamics_and_levels_voices() -> None:
    sr = 22050
    soft_voice = Voice(engine="gtts")
    b = TimelineBuilder()
    loud = b.say("Loud.", Clip(sine(2000, 200.0, sr, level=0.4), sr))
    soft = b.say("Soft.", Clip(sine(2000, 200.0, sr, level=0.2), sr))  # 6 dB down, same voice
    b.voice = soft_voice
    other = b.say("Other voice.", Clip(sine(2000, 200.0, sr, level=0.02), sr))
    audio = mono(mix_session(b.timeline(), b.clips))

    def level(e: SpeechEvent) -> float:
        return rms_db(window(audio, 44100, e.start_ms + 50, e.start_ms + e.duration_ms - 50))

    assert level(loud) - level(soft) == pytest.approx(6.02, abs=0.1)
    assert level(other) == pytest.approx(NOMINAL_SPEECH_DB, abs=0.2)  # alone in its voice


def test_stereo_carries_the_mono_mix_on_both_channels() -> None:
    b = spoken_session()
    b.bed(0, b.now_ms, Background("pink-noise", fade_in_ms=1000, fade_out_ms=1000))
    timeline = b.timeline()
    mono_mix = mix_session(timeline, b.clips)
    stereo = mix_session(timeline, b.clips, channels=2)
    np.testing.assert_array_equal(stereo[:, 0], mono_mix[:, 0])
    np.testing.assert_array_equal(stereo[:, 1], mono_mix[:, 0])


def test_renders_are_repeatable() -> None:
    b = spoken_session()
    b.bed(0, b.now_ms, Background("brown-noise", fade_in_ms=1000, fade_out_ms=1000))
    b.bell()
    timeline = b.timeline()
    np.testing.assert_array_equal(mix_session(timeline, b.clips), mix_session(timeline, b.clips))


def test_a_breathing_cue_is_spoken_over_its_phase() -> None:
    b = TimelineBuilder()
    b.pause(500)
    phase = b.breath("in", 4000, cue="Breathe in.")
    b.breath("out", 4000)
    audio = mono(mix_session(b.timeline(), b.clips))
    cue = window(audio, 44100, phase.start_ms + 100, phase.start_ms + 600)
    after_cue = window(audio, 44100, phase.start_ms + 800, phase.start_ms + 4000)
    assert rms_db(cue) > NOMINAL_SPEECH_DB - 8
    assert np.count_nonzero(after_cue) == 0  # the phase itself adds nothing


def test_a_missing_clip_is_a_render_error() -> None:
    b = spoken_session()
    clips = dict(b.clips)
    clips.pop(next(iter(clips)))
    with pytest.raises(RenderError, match="no speech clip for 'Welcome.'"):
        mix_session(b.timeline(), clips)


def test_a_clip_that_does_not_fit_its_event_is_a_render_error() -> None:
    b = TimelineBuilder()
    event = b.say("Hello.", duration_ms=1500)
    b.clips[event.request] = speech_clip(1800)
    with pytest.raises(RenderError, match="lasts 1800 ms but the timeline gives it 1500 ms"):
        mix_session(b.timeline(), b.clips)


@pytest.mark.parametrize("kwargs", [{"sample_rate": 1000}, {"channels": 3},
                                    {"sample_rate": 44100.0}])
def test_unsupported_rates_and_layouts_are_usage_errors(kwargs: dict) -> None:
    b = spoken_session()
    with pytest.raises(UsageError):
        mix_session(b.timeline(), b.clips, **kwargs)


def test_an_empty_session_is_an_empty_buffer() -> None:
    b = TimelineBuilder()
    audio = mix_session(b.timeline(), {})
    assert audio.shape == (0, 1)
