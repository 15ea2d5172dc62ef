"""A whole session's export: the set of files, the manifest, and all-or-nothing writes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import ArrayStream
from mutagen.id3 import ID3
from PIL import Image

from innerchild_audio.atomic import Staging, atomic_write_text
from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.export import ExportMeta, export_session, manifest, tags
from innerchild_audio.model import Say, Script, Source, Voice
from innerchild_audio.timeline import (
    ChapterMark,
    SilenceEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
)

RATE = 44100
WHEN = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)


def make_script(tmp_path: Path, cover: Path | None = None, slug: str = "safe-place") -> Script:
    path = tmp_path / f"{slug}.yaml"
    path.write_text("title: A Safe Place\n", encoding="utf-8")
    src = Source(path, 1, 1)
    return Script(path=path, title="A Safe Place", slug=slug,
                  steps=(Say("Hello there.", Voice(), src),), description="Somewhere calm.",
                  author="Inner Child Audio", language="en", tags=("calm",), cover=cover,
                  episode=2, season=1, files=(path,))


def make_timeline() -> Timeline:
    src = Source(Path("s.yaml"), 1, 1)
    request = SpeechRequest("Hello there.", Voice())
    events = (SilenceEvent(0, 1000, "pause", src), SpeechEvent(1000, 1500, request, src),
              SilenceEvent(2500, 2500, "pause", src))
    return Timeline(events=events, chapters=(ChapterMark(0, "Start"), ChapterMark(2500, "End")),
                    beds=(), total_ms=5000, min_total_ms=5000, max_total_ms=5000)


def audio_5s() -> np.ndarray:
    t = np.arange(5 * RATE) / RATE
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[:, None]


META = ExportMeta(album="Inner Child Audio", engine="piper", voice={"model": "joe"},
                  inputs_hash="ab" * 32,
                  inputs={"safe-place.yaml": "cd" * 32}, options={"stereo": False})


def stream(audio: np.ndarray) -> ArrayStream:
    return ArrayStream(audio, RATE, loudness_lufs=-19.012, true_peak_dbtp=-1.234)


def export(tmp_path: Path, out: Path, script: Script | None = None) -> object:
    return export_session(stream(audio_5s()), script=script or make_script(tmp_path),
                          timeline=make_timeline(), out_dir=out, bitrate_kbps=96, meta=META,
                          rendered_at=WHEN)


def test_every_file_and_the_manifest(tmp_path: Path) -> None:
    cover = tmp_path / "cover.jpg"
    Image.new("RGB", (100, 100), (10, 20, 30)).save(cover, "JPEG")
    out = tmp_path / "out"
    result = export(tmp_path, out, make_script(tmp_path, cover=cover))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["safe-place.chapters.json", "safe-place.cover.jpg",
                     "safe-place.manifest.json", "safe-place.mp3", "safe-place.srt",
                     "safe-place.vtt"]
    doc = json.loads((out / "safe-place.manifest.json").read_text())
    assert doc == result.manifest  # type: ignore[attr-defined]
    assert doc["files"] == {"audio": "safe-place.mp3", "vtt": "safe-place.vtt",
                            "srt": "safe-place.srt", "chapters": "safe-place.chapters.json",
                            "cover": "safe-place.cover.jpg"}
    assert doc["audio"] == {"bytes": (out / "safe-place.mp3").stat().st_size,
                            "duration_s": 5.0, "sample_rate": 44100, "channels": 1,
                            "bitrate_kbps": 96, "loudness_lufs": -19.01, "true_peak_dbtp": -1.23}
    assert doc["chapters"] == [{"start_s": 0.0, "title": "Start"}, {"start_s": 2.5, "title": "End"}]
    assert doc["manifest_version"] == 1 and doc["slug"] == "safe-place"
    assert doc["episode"] == 2 and doc["season"] == 1 and doc["tags"] == ["calm"]
    assert doc["engine"] == "piper" and doc["voice"] == {"model": "joe"}
    assert doc["inputs_hash"] == "ab" * 32 and doc["rendered_at"] == "2026-11-27T13:00:00+00:00"
    assert doc["generator"] == "innerchild-audio 0.1.0"
    assert (out / "safe-place.cover.jpg").read_bytes() == cover.read_bytes()
    id3 = ID3(out / "safe-place.mp3")
    assert id3.getall("APIC")[0].data == cover.read_bytes()
    assert id3.getall("APIC")[0].mime == "image/jpeg"
    assert str(id3["TDRC"].text[0]) == "2026" and id3["TALB"].text == ["Inner Child Audio"]
    assert len(decode_mp3(out / "safe-place.mp3")) == 5 * RATE
    assert "00:00:01.000 --> 00:00:02.500" in (out / "safe-place.vtt").read_text()
    assert not list(out.glob(".*"))  # no temporary files left


def test_without_cover_the_manifest_says_null(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(tmp_path, out)
    doc = manifest.read_manifest(out / "safe-place.manifest.json")
    assert doc is not None and doc["files"]["cover"] is None
    assert manifest.outputs_present(doc, out)
    (out / "safe-place.srt").unlink()
    assert not manifest.outputs_present(doc, out)


def test_a_non_image_cover_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "cover.png"
    bad.write_text("not an image")
    with pytest.raises(UsageError, match="cannot be read as an image"):
        export(tmp_path, tmp_path / "out", make_script(tmp_path, cover=bad))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_other_image_formats_become_png(tmp_path: Path) -> None:
    cover = tmp_path / "cover.bmp"
    Image.new("RGB", (50, 50), (1, 2, 3)).save(cover, "BMP")
    out = tmp_path / "out"
    export(tmp_path, out, make_script(tmp_path, cover=cover))
    with Image.open(out / "safe-place.cover.png") as image:
        assert image.format == "PNG" and image.size == (50, 50)


def fail_tagging(path: Path, _tags: tags.Tags) -> None:
    assert path.stat().st_size > 10_000  # the MP3 was encoded: we fail in the middle
    raise RenderError("injected failure while tagging")


def test_failure_mid_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(tags, "write_tags", fail_tagging)
    with pytest.raises(RenderError, match="injected"):
        export(tmp_path, out)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("stage", ["webvtt", "srt", "chapters_json", "manifest_text"])
def test_failure_at_any_later_stage_keeps_the_older_render(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    out = tmp_path / "out"
    export(tmp_path, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from innerchild_audio.export import chapters, transcripts

    module = {"webvtt": transcripts, "srt": transcripts, "chapters_json": chapters,
              "manifest_text": manifest}[stage]

    def boom(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt  # even an interrupt cleans up

    monkeypatch.setattr(module, stage, boom)
    with pytest.raises(KeyboardInterrupt):
        export_session(stream(np.zeros((RATE * 5, 1), np.float32)), script=make_script(tmp_path),
                       timeline=make_timeline(), out_dir=out, bitrate_kbps=128, meta=META)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_dropped_cover_is_removed_on_the_next_render(tmp_path: Path) -> None:
    cover = tmp_path / "c.png"
    Image.new("RGB", (20, 20)).save(cover, "PNG")
    out = tmp_path / "out"
    export(tmp_path, out, make_script(tmp_path, cover=cover))
    assert (out / "safe-place.cover.png").exists()
    export(tmp_path, out)
    assert not (out / "safe-place.cover.png").exists()


def test_staging_commits_in_order_and_discards_the_rest(tmp_path: Path) -> None:
    with Staging() as staging:
        a = staging.write_text(tmp_path / "a.txt", "A")
        staging.write_bytes(tmp_path / "b.bin", b"B")
        assert a.exists() and a.name.startswith(".a.txt.") and not (tmp_path / "a.txt").exists()
        staging.commit()
    assert (tmp_path / "a.txt").read_text() == "A" and (tmp_path / "b.bin").read_bytes() == b"B"
    with Staging() as staging:
        staging.write_text(tmp_path / "a.txt", "new")
    assert (tmp_path / "a.txt").read_text() == "A"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]
    atomic_write_text(tmp_path / "a.txt", "newer")
    assert (tmp_path / "a.txt").read_text() == "newer"
    with Staging() as staging, pytest.raises(ValueError, match="twice"):
        staging.temp_for(tmp_path / "x")
        staging.temp_for(tmp_path / "x")


def test_inputs_digest_changes_with_any_input() -> None:
    base = manifest.inputs_digest({"a.yaml": "1"}, {"stereo": False}, "v1")
    assert base == manifest.inputs_digest({"a.yaml": "1"}, {"stereo": False}, "v1")
    assert base != manifest.inputs_digest({"a.yaml": "2"}, {"stereo": False}, "v1")
    assert base != manifest.inputs_digest({"a.yaml": "1"}, {"stereo": True}, "v1")
    assert base != manifest.inputs_digest({"a.yaml": "1"}, {"stereo": False}, "v2")
