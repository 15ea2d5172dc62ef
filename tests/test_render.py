"""A real render (offline Piper voice), decoded and measured.

One short session is rendered once per module; the tests decode its MP3 and
hold it against the timeline the render used. How the bed and the ducking are
checked:

- The bed alone: the same timeline mixed with silent clips of the same lengths
  (`mix_session` draws the bed and its ducking from the timeline, never from
  the audio, and its noise is seeded), times the render's mastering gain. In
  every pause window the decoded MP3 must be that signal (correlation, level).
- Ducking, measured on the MP3 itself: brown noise has its energy at the bottom
  of the spectrum, where the voice has next to none, so the 30-70 Hz band of
  the decoded MP3 shows the bed even while the voice speaks. Its level in
  speech windows against pause windows is the ducking; the bed-alone mix in
  the same windows confirms that the band holds the bed and not the voice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from mutagen.id3 import ID3, CTOCFlags
from PIL import Image
from scipy.signal import butter, resample_poly, sosfilt

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.errors import RenderError
from innerchild_audio.export import tags
from innerchild_audio.mix import mix_session
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.render import RenderResult, render_script
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import BellEvent, SilenceEvent, SpeechEvent, Timeline

RATE = 44100
DUCK_DB = 6.0
FADE_MS = 1000
EDGE_MS = 150  # clip-edge fades and MP3 frames blur window edges this much at most
RELEASE_MS = 600  # the bed is back up this long after speech (ducking release and margin)

SCRIPT = """\
title: Test Session
author: Test Author
description: A short session for the tests.
content_warning: This is only a test.
cover: cover.png
episode: 3
season: 1
language: en-GB
voice:
  engine: piper
  rate: 1.0
  sentence_pause: 0.8s
background:
  sound: brown-noise
  volume: -20 dB
  duck: {duck} dB
  fade_in: 1s
  fade_out: 1s
steps:
  - chapter: Arriving
  - say: Welcome. Let your shoulders soften, and let your breath slow down by itself.
  - pause: 3s
  - bell: {{strikes: 1}}
  - chapter: Resting
  - say: You are safe here.
  - pause: {{min: 2s, max: 6s}}
  - say: Thank you for being here with me today.
  - pause: 2.5s
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library")
    (root / "session.yaml").write_text(SCRIPT.format(duck=DUCK_DB), encoding="utf-8")
    Image.new("RGB", (300, 300), (90, 120, 200)).save(root / "cover.png")
    (root / "podcast.yaml").write_text("title: The Test Podcast\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def rendered(library: Path, cache: Path) -> RenderResult:
    return render_script(library / "session.yaml", RenderOptions(engine="piper"),
                         RunSettings(out_dir=library / "out", cache_dir=cache))


@pytest.fixture(scope="module")
def decoded(rendered: RenderResult) -> np.ndarray:
    return decode_mp3(rendered.mp3_path)[:, 0]


@pytest.fixture(scope="module")
def bed_alone(rendered: RenderResult) -> np.ndarray:
    """The render's bed by itself: the timeline mixed with silent clips, mastered alike."""
    timeline = rendered.timeline
    silent = {e.request: Clip(np.zeros(round(e.duration_ms * 22050 / 1000), np.float32), 22050)
              for e in timeline.speech}
    bed = mix_session(timeline, silent, sample_rate=RATE, channels=1)[:, 0]
    return bed * np.float32(10 ** (rendered.gain_db / 20))


@pytest.fixture(scope="module")
def bed_unducked(rendered: RenderResult) -> np.ndarray:
    """The same bed with ducking off: the reference the ducking is measured against."""
    timeline = rendered.timeline
    beds = tuple(replace(span, background=replace(span.background, duck_db=0.0))
                 for span in timeline.beds)
    silent = {e.request: Clip(np.zeros(round(e.duration_ms * 22050 / 1000), np.float32), 22050)
              for e in timeline.speech}
    bed = mix_session(replace(timeline, beds=beds), silent, sample_rate=RATE, channels=1)[:, 0]
    return bed * np.float32(10 ** (rendered.gain_db / 20))


def window(event: SpeechEvent | SilenceEvent | BellEvent, trim_ms: int = EDGE_MS) -> slice:
    start = round((event.start_ms + trim_ms) * RATE / 1000)
    stop = round((event.start_ms + event.duration_ms - trim_ms) * RATE / 1000)
    return slice(start, max(start, stop))


def level_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def band(samples: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    return sosfilt(butter(4, [low_hz, high_hz], btype="band", fs=RATE, output="sos"), samples)


def inside_bed(timeline: Timeline, event: SpeechEvent | SilenceEvent) -> bool:
    """Away from the bed's fades at both ends of the session."""
    return event.start_ms >= FADE_MS + 300 and (
        event.start_ms + event.duration_ms <= timeline.total_ms - FADE_MS)


def test_duration_equals_the_timeline(rendered: RenderResult, decoded: np.ndarray) -> None:
    expected = rendered.timeline.total_ms * RATE / 1000
    assert abs(len(decoded) - expected) <= RATE * 0.050
    assert rendered.duration_ms == rendered.timeline.total_ms
    doc = json.loads(rendered.manifest_path.read_text())
    assert doc["audio"]["duration_s"] == pytest.approx(rendered.timeline.total_ms / 1000,
                                                       abs=0.001)


def test_pause_windows_hold_the_bed_alone(rendered: RenderResult, decoded: np.ndarray,
                                          bed_alone: np.ndarray) -> None:
    pauses = [e for e in rendered.timeline.events if isinstance(e, SilenceEvent)]
    assert len(pauses) >= 5
    for pause in pauses:
        span = window(pause)
        got, bed = decoded[span], bed_alone[span]
        assert np.corrcoef(got, bed)[0, 1] > 0.95, pause
        assert level_db(got) == pytest.approx(level_db(bed), abs=1.0), pause
        assert level_db(got) < -30  # a quiet bed, nothing more


def test_speech_in_every_speech_window(rendered: RenderResult, decoded: np.ndarray,
                                       bed_alone: np.ndarray) -> None:
    speech = rendered.timeline.speech
    assert [e.request.text for e in speech][:2] == ["This is only a test.", "Welcome."]
    for event in speech:
        span = window(event)
        voice = level_db(band(decoded, 300, 3000)[span])
        bed = level_db(band(bed_alone, 300, 3000)[span])
        assert voice > bed + 20, event.request.text
        assert level_db(decoded[span]) > -30, event.request.text


def test_bed_is_ducked_under_the_voice(rendered: RenderResult, decoded: np.ndarray,
                                       bed_alone: np.ndarray,
                                       bed_unducked: np.ndarray) -> None:
    timeline = rendered.timeline
    low_mp3, low_bed = band(decoded, 30, 70), band(bed_alone, 30, 70)
    speech = [e for e in timeline.speech if inside_bed(timeline, e)]
    # pauses long enough for the bed to come back up (sentence gaps stay ducked)
    # (the lead-in and tail sit under the bed's fades)
    pauses = [e for e in timeline.events if isinstance(e, SilenceEvent)
              and e.duration_ms >= 2000 and inside_bed(timeline, e)
              and e.reason not in ("lead_in", "tail")]
    assert len(speech) >= 3 and len(pauses) >= 2
    during = [level_db(low_mp3[window(e)]) for e in speech]
    bed_during = [level_db(low_bed[window(e)]) for e in speech]
    between = [level_db(low_mp3[window(e, RELEASE_MS)]) for e in pauses]
    # the MP3's bed in the pauses stands `duck` dB over the ducked bed under the voice
    assert np.mean(between) - np.mean(bed_during) == pytest.approx(DUCK_DB, abs=1.5)
    # the band carries the bed, not the voice: the MP3 matches the bed alone there, less
    # what the limiter takes at the voice's peaks (it lowers the bed with them: up to 1.5 dB
    # seen over Piper's varying takes); a voice leaking into the band would raise it
    for measured, bed in zip(during, bed_during, strict=True):
        assert bed - 3.0 <= measured <= bed + 1.0
    # and the bed alone, full band, sits `duck` dB under the same bed unducked while the voice
    # speaks and level with it in pauses (the same noise both ways, so its own swings cancel)
    for event in speech:
        w = window(event)
        drop = level_db(bed_alone[w]) - level_db(bed_unducked[w])
        assert drop == pytest.approx(-DUCK_DB, abs=0.3)
    for event in pauses:
        w = window(event, RELEASE_MS)
        assert level_db(bed_alone[w]) - level_db(bed_unducked[w]) == pytest.approx(0, abs=0.3)


def test_loudness_and_true_peak(decoded: np.ndarray, rendered: RenderResult) -> None:
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(decoded.astype(np.float64))
    assert loudness == pytest.approx(-19.0, abs=0.5)
    true_peak = 20 * np.log10(np.abs(resample_poly(decoded, 4, 1)).max())
    assert true_peak <= -1.0
    assert rendered.loudness_lufs == pytest.approx(-19.0, abs=0.5)


def test_tags_cover_and_chapters_read_back(rendered: RenderResult, library: Path) -> None:
    id3 = ID3(rendered.mp3_path)
    assert id3["TIT2"].text == ["Test Session"]
    assert id3["TPE1"].text == ["Test Author"]
    assert id3["TALB"].text == ["The Test Podcast"]  # from podcast.yaml beside the script
    assert id3["TCON"].text == ["Podcast"]
    assert id3["TLAN"].text == ["eng"]
    assert id3.getall("COMM")[0].text == ["A short session for the tests."]
    assert re.fullmatch(r"20\d\d", str(id3["TDRC"].text[0]))
    assert id3.getall("APIC")[0].data == (library / "cover.png").read_bytes()
    toc = id3.getall("CTOC")[0]
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    chapters = [id3[f"CHAP:{element}"] for element in toc.child_element_ids]
    marks = rendered.timeline.chapters
    assert [(c.start_time, c.sub_frames["TIT2"].text[0]) for c in chapters] == [
        (m.start_ms, m.title) for m in marks]
    assert chapters[-1].end_time == rendered.timeline.total_ms
    assert [m.title for m in marks] == ["Arriving", "Resting"]
    doc = json.loads((library / "out" / "session.chapters.json").read_text())
    assert doc == {"version": "1.2.0", "chapters": [
        {"startTime": round(m.start_ms / 1000, 3) if m.start_ms % 1000 else m.start_ms // 1000,
         "title": m.title} for m in marks]}


def cue_times(text: str) -> list[tuple[int, int]]:
    times = []
    for match in re.finditer(r"(\d\d):(\d\d):(\d\d)[.,](\d{3}) --> (\d\d):(\d\d):(\d\d)[.,](\d{3})",
                             text):
        h1, m1, s1, f1, h2, m2, s2, f2 = (int(g) for g in match.groups())
        times.append((((h1 * 60 + m1) * 60 + s1) * 1000 + f1,
                      ((h2 * 60 + m2) * 60 + s2) * 1000 + f2))
    return times


def test_transcript_cues_are_the_speech_times(rendered: RenderResult, library: Path) -> None:
    speech = [(e.start_ms, e.start_ms + e.duration_ms) for e in rendered.timeline.speech]
    assert cue_times((library / "out" / "session.vtt").read_text()) == speech
    srt = cue_times((library / "out" / "session.srt").read_text())
    # SRT cues of one sentence tile its time; their union is the speech times
    merged: list[tuple[int, int]] = []
    for start, end in srt:
        if merged and merged[-1][1] == start and not any(s == start for s, _ in speech):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    assert merged == speech
    assert len(srt) > len(speech)  # the long sentence was split


def test_manifest(rendered: RenderResult, library: Path) -> None:
    doc = json.loads(rendered.manifest_path.read_text())
    assert doc["engine"] == "piper" and doc["voice"]["engine"] == "piper"
    assert doc["files"]["cover"] == "session.cover.png"
    assert set(doc["inputs"]) == {"session.yaml", "cover.png"}
    assert doc["options"]["engine"] == "piper" and doc["options"]["bitrate_kbps"] == 96
    assert doc["audio"]["loudness_lufs"] == round(rendered.loudness_lufs, 2)
    assert doc["audio"]["bytes"] == rendered.mp3_path.stat().st_size
    assert doc["chapters"][1]["title"] == "Resting"
    assert sorted(p.name for p in (library / "out").iterdir()) == sorted(
        p.name for p in rendered.files)


def test_without_a_bed_pauses_are_silent(library: Path, cache: Path, tmp_path: Path) -> None:
    result = render_script(library / "session.yaml",
                           RenderOptions(engine="piper", background="none", warnings=False),
                           RunSettings(out_dir=tmp_path, cache_dir=cache))
    assert result.speech_synthesized == 0  # every sentence came from the cache
    assert result.timeline.speech[0].request.text == "Welcome."
    decoded = decode_mp3(result.mp3_path)[:, 0]
    for event in result.timeline.events:
        if isinstance(event, SilenceEvent):
            assert level_db(decoded[window(event)]) < -70, event
        elif isinstance(event, SpeechEvent):
            assert level_db(decoded[window(event)]) > -30, event


def test_stereo_bitrate_and_length(library: Path, cache: Path, tmp_path: Path) -> None:
    result = render_script(library / "session.yaml",
                           RenderOptions(engine="piper", stereo=True, bitrate_kbps=160,
                                         length_ms=38_000),
                           RunSettings(out_dir=tmp_path, cache_dir=cache))
    assert result.duration_ms == 38_000  # the elastic pause took up the difference
    decoded = decode_mp3(result.mp3_path)
    assert decoded.shape[1] == 2 and abs(len(decoded) - 38 * RATE) <= RATE * 0.05
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(decoded.astype(np.float64))
    assert loudness == pytest.approx(-16.0, abs=0.5)  # the stereo target
    assert 20 * np.log10(np.abs(resample_poly(decoded, 4, 1, axis=0)).max()) <= -1.0
    doc = json.loads(result.manifest_path.read_text())
    assert doc["audio"]["channels"] == 2 and doc["audio"]["bitrate_kbps"] == 160


@pytest.fixture()
def failing_tagger(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    seen: list[Path] = []

    def fail(path: Path, _tags: tags.Tags) -> None:
        seen.append(path)
        assert path.stat().st_size > 50_000  # the MP3 is encoded: this is mid-export
        raise RenderError("injected failure while tagging")

    monkeypatch.setattr(tags, "write_tags", fail)
    yield seen


def test_failure_mid_export_leaves_nothing(library: Path, cache: Path, tmp_path: Path,
                                           failing_tagger: list[Path]) -> None:
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="injected"):
        render_script(library / "session.yaml", RenderOptions(engine="piper"),
                      RunSettings(out_dir=out, cache_dir=cache))
    assert failing_tagger and not failing_tagger[0].exists()
    assert list(out.iterdir()) == []


def test_failure_keeps_the_older_render(rendered: RenderResult, library: Path, cache: Path,
                                        failing_tagger: list[Path]) -> None:
    out = library / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RenderError, match="injected"):
        render_script(library / "session.yaml", RenderOptions(engine="piper", stereo=True),
                      RunSettings(out_dir=out, cache_dir=cache))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_session_without_a_cover_carries_the_podcasts_drawn_cover(cache: Path,
                                                                    tmp_path: Path) -> None:
    from innerchild_audio.publish import generate_cover

    root = tmp_path / "lib"
    root.mkdir()
    (root / "plain.yaml").write_text(
        "title: Plain\nvoice: {engine: piper, rate: 1.0}\nsteps:\n  - say: Hello.\n",
        encoding="utf-8")
    (root / "podcast.yaml").write_text("title: Drawn Podcast\nauthor: Someone\n",
                                       encoding="utf-8")
    settings = RunSettings(out_dir=tmp_path / "out", cache_dir=cache)
    result = render_script(root / "plain.yaml", RenderOptions(warnings=False), settings)
    [picture] = ID3(result.mp3_path).getall("APIC")
    assert picture.mime == "image/jpeg"
    assert picture.data == generate_cover("Drawn Podcast", "Someone")  # the site's cover.jpg
    assert not (tmp_path / "out" / "plain.cover.jpg").exists()
    # the podcast's own cover, once it has one, replaces the drawn one (a new inputs hash)
    Image.new("RGB", (1400, 1400), (20, 60, 90)).save(root / "art.png")
    (root / "podcast.yaml").write_text("title: Drawn Podcast\ncover: art.png\n", encoding="utf-8")
    again = render_script(root / "plain.yaml", RenderOptions(warnings=False), settings)
    assert ID3(again.mp3_path).getall("APIC")[0].data == (root / "art.png").read_bytes()
