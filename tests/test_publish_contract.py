"""Publish reads what the export stage really writes (the manifest contract of interfaces.md)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import podcastparser
from audio_helpers import ArrayStream
from publish_helpers import write_podcast_yaml

from innerchild_audio.export import ExportMeta, export_session
from innerchild_audio.model import Say, Script, Source, Voice
from innerchild_audio.publish import generate_cover, publish_site
from innerchild_audio.timeline import (
    ChapterMark,
    SilenceEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
)

RATE = 44100
WHEN = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)
BASE = "https://podcast.example.org/inner-child"


def _export(tmp_path: Path, out: Path) -> None:
    script_path = tmp_path / "a-safe-place.yaml"
    script_path.write_text("title: A Safe Place\n", encoding="utf-8")
    cover = tmp_path / "art.jpg"
    cover.write_bytes(generate_cover("A Safe Place"))
    src = Source(script_path, 1, 1)
    script = Script(path=script_path, title="A Safe Place & more", slug="a-safe-place",
                    steps=(Say("Hello there.", Voice(), src),), description="Somewhere calm.",
                    author="Inner Child Audio", language="en", tags=("calm",), cover=cover,
                    episode=2, season=1, content_warning="Old memories may surface.",
                    files=(script_path,))
    request = SpeechRequest("Hello there.", Voice())
    timeline = Timeline(
        events=(SilenceEvent(0, 1000, "pause", src), SpeechEvent(1000, 1500, request, src),
                SilenceEvent(2500, 500, "pause", src)),
        chapters=(ChapterMark(0, "Arriving"), ChapterMark(2000, "Resting")),
        beds=(), total_ms=3000, min_total_ms=3000, max_total_ms=3000,
    )
    t = np.arange(3 * RATE) / RATE
    audio = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[:, None]
    meta = ExportMeta(album="Inner Child Sessions", engine="piper", voice={"model": "joe"},
                      inputs_hash="ab" * 32)
    stream = ArrayStream(audio, RATE, loudness_lufs=-19.0, true_peak_dbtp=-1.5)
    export_session(stream, script=script, timeline=timeline, out_dir=out,
                   bitrate_kbps=96, meta=meta, rendered_at=WHEN)


def test_an_exported_session_publishes(tmp_path: Path):
    rendered = tmp_path / "output"
    rendered.mkdir()
    _export(tmp_path, rendered)
    podcast = write_podcast_yaml(tmp_path / "meditations")
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=WHEN)
    manifest = json.loads((rendered / "a-safe-place.manifest.json").read_text(encoding="utf-8"))
    feed = podcastparser.parse(result.feed_url, io.BytesIO(result.feed_path.read_bytes()))
    [entry] = feed["episodes"]
    assert entry["title"] == "A Safe Place & more"
    assert entry["enclosures"][0]["file_size"] == (rendered / "a-safe-place.mp3").stat().st_size
    assert entry["total_time"] == round(manifest["audio"]["duration_s"]) == 3
    assert "Content warning: Old memories may surface." in entry["description"]
    [item] = result.episodes
    assert item.cover == "episodes/a-safe-place.cover.jpg"
    assert [c.title for c in item.episode.chapters] == ["Arriving", "Resting"]
    chapters = json.loads((result.out_dir / item.chapters).read_text(encoding="utf-8"))
    assert [c["startTime"] for c in chapters["chapters"]] == [0, 2]
