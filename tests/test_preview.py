"""`preview`: one part of a session, with the whole session's timing, bed and gain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from innerchild_audio.audio_io import MP3_SAMPLE_RATE, decode_mp3, to_frames
from innerchild_audio.cli import main
from innerchild_audio.errors import UsageError
from innerchild_audio.mix.fades import ms_to_frames
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.preview import preview_script
from innerchild_audio.render import render_script, session_audio

SCRIPT = """\
title: Preview Test
content_warning: A short warning.
voice: {engine: piper, rate: 1.0}
background: {sound: pink-noise, volume: -18 dB, duck: 6 dB, fade_in: 2s, fade_out: 3s}
steps:
  - chapter: One
  - say: Hello there. This is the first part of the session.
  - pause: {min: 2s, max: 6s}
  - bell: {strikes: 1}
  - chapter: Two
  - say: Now the second part begins. Breathe gently.
  - breathe: {in: 2s, out: 2s, cycles: 2, cues: voice}
  - say: And a last sentence for the second chapter.
  - chapter: Three
  - say: The end is here. Thank you for listening today.
  - pause: 2s
"""


# A high bitrate, so that MP3 coding stands little between the part and the whole.
OPTIONS = RenderOptions(bitrate_kbps=320)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("preview")
    script = root / "lib" / "preview-test.yaml"
    script.parent.mkdir()
    script.write_text(SCRIPT, encoding="utf-8")
    settings = RunSettings(out_dir=root / "out", cache_dir=root / "cache")
    return script, settings, render_script(script, OPTIONS, settings)


def _relative_error(part: np.ndarray, whole: np.ndarray) -> float:
    return float(np.sqrt(np.mean((part - whole) ** 2)) / np.sqrt(np.mean(whole ** 2)))


def test_chapter_preview_matches_the_same_span_of_the_full_render(rendered) -> None:
    script, settings, full = rendered
    result = preview_script(script, OPTIONS, settings, chapter="two")
    assert result.chapter == "Two" and result.synthesized == 0 and result.estimated == 0
    marks = {m.title: m.start_ms for m in full.timeline.chapters}
    assert (result.start_ms, result.end_ms) == (marks["Two"], marks["Three"])
    assert result.timeline == full.timeline  # the same timing as the whole session
    part = decode_mp3(result.path)[:, 0]
    first = ms_to_frames(result.start_ms, MP3_SAMPLE_RATE)
    assert len(part) == ms_to_frames(result.end_ms, MP3_SAMPLE_RATE) - first
    whole = decode_mp3(full.mp3_path)[:, 0]
    errors = {lag: _relative_error(part, whole[first + lag: first + lag + len(part)])
              for lag in (-2, -1, 0, 1, 2)}
    assert min(errors, key=errors.get) == 0  # aligned to the frame
    assert errors[0] < 0.05  # about what two MP3 encodings of the same samples differ by
    assert result.gain_db == pytest.approx(full.gain_db, abs=0.01)  # the render's own gain
    assert "starts at 0:" in result.summary()


def test_a_wav_part_by_time_is_the_full_render_there(rendered, tmp_path: Path) -> None:
    script, settings, full = rendered
    result = preview_script(script, OPTIONS, settings, from_ms=3_000, to_ms=12_500,
                            out=tmp_path / "part.wav")
    from scipy.io import wavfile

    rate, part = wavfile.read(result.path)
    assert rate == MP3_SAMPLE_RATE and part.shape == (ms_to_frames(9_500, rate),)  # mono
    first = ms_to_frames(3_000, rate)
    # the session as the render masters it, before MP3 coding: the same samples
    # (to 16 bits), its voice levelled over the whole session, not over the part
    unencoded = to_frames(session_audio(script, OPTIONS, settings).audio, rate).reshape(-1)
    assert _relative_error(part, unencoded[first: first + len(part)]) < 0.002
    whole = decode_mp3(full.mp3_path)[:, 0]
    # and only the full render's MP3 coding stands between the part and the MP3
    assert _relative_error(part, whole[first: first + len(part)]) < 0.05


def test_a_cold_cache_synthesizes_only_the_speech_near_the_part(rendered, tmp_path: Path
                                                                ) -> None:
    script, settings, full = rendered
    cold = RunSettings(out_dir=tmp_path, cache_dir=tmp_path / "cache")
    result = preview_script(script, RenderOptions(), cold, chapter="Three")
    near = {e.request for e in result.timeline.speech
            if e.start_ms + e.duration_ms > result.start_ms - 3000}
    assert result.synthesized == len(near) < len(full.timeline.requests())
    assert result.estimated == len(full.timeline.requests()) - len(near)
    assert "not synthesized yet" in result.summary()


def test_parts_that_do_not_exist_are_usage_errors(rendered) -> None:
    script, settings, _ = rendered
    with pytest.raises(UsageError, match="the chapters are 'One', 'Two', 'Three'"):
        preview_script(script, RenderOptions(), settings, chapter="Four")
    with pytest.raises(UsageError, match="past the end"):
        preview_script(script, RenderOptions(), settings, from_ms=3_600_000)
    with pytest.raises(UsageError, match="--chapter NAME"):
        preview_script(script, RenderOptions(), settings)


def test_preview_command_prints_where_the_part_starts(rendered, tmp_path: Path) -> None:
    script, settings, full = rendered
    out = tmp_path / "two.mp3"
    result = CliRunner().invoke(main, ["preview", str(script), "--chapter", "2", "-o", str(out),
                                       "--cache-dir", str(settings.cache_dir),
                                       "--bitrate", "320"])
    assert result.exit_code == 0, result.output
    start = next(m.start_ms for m in full.timeline.chapters if m.title == "Two")
    assert f"chapter 'Two', starts at 0:{start / 1000:04.1f}" in result.output
    assert out.is_file()
    bad = CliRunner().invoke(main, ["preview", str(script), "--from", "soon",
                                    "--cache-dir", str(settings.cache_dir)])
    assert bad.exit_code == 2 and "--from" in bad.output
