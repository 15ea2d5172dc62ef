"""Export: a mastered session to its files, all or nothing.

    {slug}.mp3, {slug}.vtt, {slug}.srt, {slug}.chapters.json, [{slug}.cover.jpg|png],
    {slug}.manifest.json (last)

Every file is written under a temporary name beside its destination and the
set is renamed into place only once all of them are complete, the manifest
last: a failure on the way leaves the folder exactly as it was.

The audio is a stream (`AudioStream`, e.g. a `master.MasteredStream`) that is
made block by block while it is encoded and measures its own loudness and
true peak on the way.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from innerchild_audio import __version__
from innerchild_audio.atomic import Staging, sweep_stale
from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.export import chapters, manifest, mp3, tags, transcripts
from innerchild_audio.export.manifest import AudioInfo, SessionFiles
from innerchild_audio.model import Script
from innerchild_audio.timeline import Timeline

log = logging.getLogger(__name__)

GENERATOR = f"innerchild-audio {__version__}"


@dataclass(frozen=True)
class ExportMeta:
    """What the files say besides the audio and the script."""

    album: str  # the podcast's title
    engine: str  # the engine that spoke (auto resolved)
    voice: Mapping[str, Any]
    inputs_hash: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    fallback_cover: tags.Cover | None = None  # embedded when the script names no cover


class AudioStream(Protocol):
    """Audio made block by block; its loudness and true peak are known once it has run."""

    sample_rate: int
    channels: int
    frames: int
    loudness_lufs: float | None
    true_peak_dbtp: float | None

    def blocks(self) -> Iterator[np.ndarray]:
        """float32 blocks shaped (frames, channels), front to back."""
        ...


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: SessionFiles
    manifest_path: Path
    manifest: dict[str, Any]
    loudness_lufs: float  # of the audio as encoded (before MP3 coding)
    true_peak_dbtp: float

    @property
    def mp3_path(self) -> Path:
        return self.folder / self.files.audio

    def paths(self) -> list[Path]:
        return [self.folder / name for name in self.files.names()] + [self.manifest_path]


def load_cover(path: Path) -> tuple[tags.Cover, str]:
    """The cover as embedded bytes and its file suffix; JPEG and PNG kept as they are."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            if image_format == "JPEG":
                return tags.Cover(data, "image/jpeg"), ".jpg"
            if image_format == "PNG":
                return tags.Cover(data, "image/png"), ".png"
            converted = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(converted, "PNG")
            return tags.Cover(converted.getvalue(), "image/png"), ".png"
    except (OSError, UnidentifiedImageError) as error:
        raise UsageError(f"cover {path} cannot be read as an image: {error}") from error


def export_session(
    audio: AudioStream,
    *,
    script: Script,
    timeline: Timeline,
    out_dir: Path,
    bitrate_kbps: int,
    meta: ExportMeta,
    rendered_at: datetime | None = None,
) -> ExportResult:
    """Write one session's files into `out_dir`; all of them appear, or none changes.

    The stream is encoded as it is made; its own measurements of loudness and
    true peak go into the manifest.
    """
    rendered_at = rendered_at or datetime.now(timezone.utc)
    sample_rate, frames, channels = audio.sample_rate, audio.frames, audio.channels
    cover_path = script.cover
    cover, cover_suffix = load_cover(cover_path) if cover_path else (None, None)
    if cover is None:
        cover = meta.fallback_cover
    files = SessionFiles.for_slug(script.slug, cover_suffix)
    manifest_path = out_dir / manifest.manifest_name(script.slug)
    previous = manifest.read_manifest(manifest_path)
    sweep_stale(out_dir)

    with Staging() as staging:
        mp3_tmp = staging.temp_for(out_dir / files.audio)
        mp3.encode_blocks(audio.blocks(), sample_rate, channels, mp3_tmp,
                          bitrate_kbps=bitrate_kbps)
        loudness, true_peak = audio.loudness_lufs, audio.true_peak_dbtp
        if loudness is None or true_peak is None:
            raise RenderError("the audio's loudness and true peak are unknown")
        spans = tags.chapter_spans(
            [(m.start_ms, m.title) for m in sorted(timeline.chapters, key=lambda m: m.start_ms)],
            timeline.total_ms,
        )
        tags.write_tags(mp3_tmp, tags.Tags(
            title=script.title, artist=script.author, album=meta.album,
            year=rendered_at.year, comment=script.description.strip(),
            language=script.language, track=script.episode, disc=script.season,
            encoder=GENERATOR, cover=cover, chapters=spans,
        ))
        staging.write_text(out_dir / files.vtt, transcripts.webvtt(timeline))
        staging.write_text(out_dir / files.srt, transcripts.srt(timeline))
        staging.write_text(out_dir / files.chapters, chapters.chapters_json(timeline))
        if cover is not None and files.cover is not None:
            staging.write_bytes(out_dir / files.cover, cover.data)
        document = manifest.build_manifest(
            script, timeline, files=files,
            audio=AudioInfo(
                bytes=mp3_tmp.stat().st_size, duration_s=frames / sample_rate,
                sample_rate=mp3.MP3_SAMPLE_RATE, channels=channels, bitrate_kbps=bitrate_kbps,
                loudness_lufs=loudness, true_peak_dbtp=true_peak,
            ),
            engine=meta.engine, voice=meta.voice, inputs_hash=meta.inputs_hash,
            inputs=meta.inputs, options=meta.options, rendered_at=rendered_at,
            generator=GENERATOR, file_sha256=staging.digests(),
        )
        staging.write_text(manifest_path, manifest.manifest_text(document))
        staging.commit()

    manifest.remove_stale_cover(previous, files.names(), out_dir)
    log.info("exported %s", out_dir / files.audio)
    return ExportResult(out_dir, files, manifest_path, document, loudness, true_peak)


__all__ = [
    "AudioStream", "ExportMeta", "ExportResult", "export_session", "load_cover", "GENERATOR",
    "SessionFiles", "AudioInfo",
]
