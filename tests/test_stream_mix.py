"""The block mixer: any block size gives the very samples mix_session gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_helpers import TimelineBuilder, rms_db, sine, speech_clip, write_audio

from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.mix import Mixer, mix_session
from innerchild_audio.mix.bed import BED_BLOCK_FRAMES
from innerchild_audio.mix.levels import NOMINAL_SPEECH_DB
from innerchild_audio.model import Background

SR = 44100


def busy_session(tmp_path: Path, second_bed: str = "drone") -> TimelineBuilder:
    """Speech, bells (bowl and file), breathing tones with spoken cues, a sound file,
    a bed that changes mid-session, ducking; events cross every block boundary."""
    chime = write_audio(tmp_path / "chime.wav", sine(1500, 880.0, SR, 0.4), SR)
    rain = write_audio(tmp_path / "rain.wav",
                       (0.1 * np.random.default_rng(3).standard_normal(2 * SR)).astype(np.float32),
                       SR)
    b = TimelineBuilder()
    b.pause(1500)
    b.say("Welcome.", speech_clip(2300, 22050, seed=1))
    b.pause(700, "sentence")  # short: stays ducked
    b.say("Settle in.", speech_clip(1900, 24000, seed=2))  # another clip rate
    b.bell(strikes=3, gap_ms=1500, duration_ms=9000)  # strikes ring over each other
    for phase, ms in (("in", 4000), ("hold", 2000), ("out", 5000)):
        b.breath(phase, ms, tone=phase != "hold", cue=f"Breathe {phase}.")
    b.sound(rain, 3000, gain_db=-6.0)
    b.say("Welcome.")  # the same sentence again: prepared once, placed twice
    b.pause(2500)
    b.bell(strikes=1, duration_ms=4000, sound=chime)
    b.say("Rest now.", speech_clip(3100, 22050, seed=4))
    b.pause(4000)
    half = b.now_ms // 2
    b.bed(0, half, Background("brown-noise", volume_db=-18.0, duck_db=8.0, fade_in_ms=1200))
    b.bed(half, b.now_ms, Background(second_bed, volume_db=-24.0, fade_in_ms=2500,
                                     fade_out_ms=1500))
    return b


def concatenated(mixer: Mixer, block_frames: int) -> np.ndarray:
    blocks = list(mixer.blocks(block_frames))
    assert all(len(x) == block_frames for x in blocks[:-1])
    assert all(x.dtype == np.float32 and x.ndim == 1 for x in blocks)
    return np.concatenate(blocks)


@pytest.mark.parametrize("second_bed", ["drone", "pink-noise", "brown-noise"])
@pytest.mark.parametrize("block_frames", [997, 4096 * 3 + 7, BED_BLOCK_FRAMES + 1, 10 * SR])
def test_blocks_equal_mix_session_sample_for_sample(tmp_path: Path, block_frames: int,
                                                    second_bed: str) -> None:
    b = busy_session(tmp_path, second_bed)
    whole = mix_session(b.timeline(), b.clips)[:, 0]
    mixer = Mixer(b.timeline(), b.clips)
    assert mixer.frames == len(whole) == round(b.now_ms * SR / 1000)
    streamed = concatenated(mixer, block_frames)
    assert np.abs(whole).max() > 0.1  # there is something to compare
    np.testing.assert_array_equal(streamed, whole)


def test_a_looped_bed_file_is_the_same_in_any_blocks(tmp_path: Path) -> None:
    loop = write_audio(tmp_path / "loop.wav", sine(1537, 220.0, SR, 0.3), SR)
    b = TimelineBuilder()
    b.say("One.", duration_ms=2000)
    b.pause(9000)
    b.bed(0, b.now_ms, Background(str(loop), fade_in_ms=300))
    whole = mix_session(b.timeline(), b.clips)[:, 0]
    np.testing.assert_array_equal(concatenated(Mixer(b.timeline(), b.clips), 12345), whole)


def test_a_bed_file_longer_than_the_session_plays_once_at_the_bed_level(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    rain = write_audio(tmp_path / "rain.wav",
                       (0.05 * rng.standard_normal(12 * SR)).astype(np.float32), SR)
    b = TimelineBuilder()
    b.pause(8000)
    b.bed(0, b.now_ms, Background(str(rain), volume_db=-20.0, fade_in_ms=500, fade_out_ms=500))
    whole = mix_session(b.timeline(), {})[:, 0]
    np.testing.assert_array_equal(concatenated(Mixer(b.timeline(), {}), 5000), whole)
    assert rms_db(whole[SR: 7 * SR]) == pytest.approx(NOMINAL_SPEECH_DB - 20.0, abs=0.5)


def test_every_pass_mixes_the_same_session(tmp_path: Path) -> None:
    b = busy_session(tmp_path)
    mixer = Mixer(b.timeline(), b.clips, channels=2)
    first = concatenated(mixer, 50_000)
    np.testing.assert_array_equal(concatenated(mixer, 77_777), first)
    stereo = mix_session(b.timeline(), b.clips, channels=2)
    np.testing.assert_array_equal(stereo[:, 0], first)
    np.testing.assert_array_equal(stereo[:, 1], first)


def test_a_pass_stopped_early_leaves_nothing_running(tmp_path: Path) -> None:
    b = busy_session(tmp_path)
    blocks = Mixer(b.timeline(), b.clips).blocks(SR)
    next(blocks)
    blocks.close()  # the worker thread is shut down with the generator
    with pytest.raises(StopIteration):
        next(blocks)


def test_inputs_are_checked_before_any_audio_is_made(tmp_path: Path) -> None:
    b = busy_session(tmp_path)
    with pytest.raises(RenderError, match="no speech clip"):
        Mixer(b.timeline(), {})
    with pytest.raises(UsageError, match="channels"):
        Mixer(b.timeline(), b.clips, channels=3)
    with pytest.raises(UsageError, match="sample rate"):
        Mixer(b.timeline(), b.clips, sample_rate=1000)
