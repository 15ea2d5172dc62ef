"""The session manifest (what `publish` reads) and the inputs hash (what `build` compares).

The inputs hash covers everything that determines a render: the script, its
parts and assets (by content), the resolved options and the project version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from innerchild_audio.digests import file_sha256
from innerchild_audio.model import Script
from innerchild_audio.timeline import Timeline

log = logging.getLogger(__name__)

MANIFEST_VERSION: Final = 1
MANIFEST_SUFFIX: Final = ".manifest.json"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def inputs_digest(inputs: Mapping[str, str], options: Mapping[str, Any], generator: str) -> str:
    """One sha256 over the input files' hashes, the options and the generator's version."""
    document = {"inputs": dict(inputs), "options": dict(options), "generator": generator}
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AudioInfo:
    bytes: int
    duration_s: float
    sample_rate: int
    channels: int
    bitrate_kbps: int
    loudness_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class SessionFiles:
    """File names (not paths) of one session's outputs, relative to the output folder."""

    audio: str
    vtt: str
    srt: str
    chapters: str
    cover: str | None = None

    @classmethod
    def for_slug(cls, slug: str, cover_suffix: str | None = None) -> SessionFiles:
        return cls(
            audio=f"{slug}.mp3",
            vtt=f"{slug}.vtt",
            srt=f"{slug}.srt",
            chapters=f"{slug}.chapters.json",
            cover=f"{slug}.cover{cover_suffix}" if cover_suffix else None,
        )

    def names(self) -> list[str]:
        return [name for name in asdict(self).values() if name]


def manifest_name(slug: str) -> str:
    return f"{slug}{MANIFEST_SUFFIX}"


def build_manifest(
    script: Script,
    timeline: Timeline,
    *,
    files: SessionFiles,
    audio: AudioInfo,
    engine: str,
    voice: Mapping[str, Any],
    inputs_hash: str,
    inputs: Mapping[str, str],
    options: Mapping[str, Any],
    rendered_at: datetime,
    generator: str,
    file_sha256: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "slug": script.slug,
        "title": script.title,
        "description": script.description,
        "author": script.author,
        "language": script.language,
        "content_warning": script.content_warning,
        "tags": list(script.tags),
        "episode": script.episode,
        "season": script.season,
        "explicit": script.explicit,
        "files": asdict(files),
        # the manifest is renamed into place last: these say which files it belongs with
        "file_sha256": dict(sorted((file_sha256 or {}).items())),
        "audio": {
            **asdict(audio),
            "duration_s": round(audio.duration_s, 3),
            "loudness_lufs": round(audio.loudness_lufs, 2),
            "true_peak_dbtp": round(audio.true_peak_dbtp, 2),
        },
        "engine": engine,
        "voice": dict(voice),
        "chapters": [
            {"start_s": round(mark.start_ms / 1000, 3), "title": mark.title}
            for mark in sorted(timeline.chapters, key=lambda m: m.start_ms)
        ],
        "inputs_hash": inputs_hash,
        "inputs": dict(sorted(inputs.items())),
        "options": dict(options),
        "rendered_at": rendered_at.isoformat(timespec="seconds"),
        "generator": generator,
    }


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n"


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at `path`, or None when it is missing or unreadable (then: render again)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable manifest %s: %s", path, error)
        return None
    if not isinstance(document, dict) or document.get("manifest_version") != MANIFEST_VERSION:
        return None
    return document


def outputs_present(manifest: Mapping[str, Any], folder: Path) -> bool:
    """Whether every file the manifest names is in `folder`, and is the very file the
    manifest was written with (a render stopped between its renames is caught here)."""
    files = manifest.get("files")
    hashes = manifest.get("file_sha256")
    if not isinstance(files, dict) or not isinstance(hashes, dict):
        return False
    names = [name for name in files.values() if name]
    if not all(isinstance(n, str) and Path(n).name == n and (folder / n).is_file()
               for n in names):
        return False
    try:
        return all(hashes.get(n) == file_sha256(folder / n) for n in names)
    except OSError:
        return False


def remove_stale_cover(previous: Mapping[str, Any] | None, names: Collection[str],
                       folder: Path) -> None:
    """Delete the cover the `previous` manifest names when this render's `names` lack it
    (the cover was dropped or renamed since)."""
    if not previous or not isinstance(previous.get("files"), dict):
        return
    old_cover = previous["files"].get("cover")
    if (isinstance(old_cover, str) and old_cover not in names
            and Path(old_cover).name == old_cover):  # a bare name, never a path elsewhere
        (folder / old_cover).unlink(missing_ok=True)
