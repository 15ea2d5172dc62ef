"""Rendered sessions as publish sees them: `*.manifest.json` and the files each one names."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from innerchild_audio.errors import PublishError

log = logging.getLogger(__name__)

MANIFEST_SUFFIX: Final = ".manifest.json"
MANIFEST_VERSION: Final = 1
SLUG_RE: Final = re.compile(r"^[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class EpisodeChapter:
    start_s: float
    title: str


@dataclass(frozen=True)
class Episode:
    """One rendered session; paths are absolute and exist."""

    manifest: Path
    slug: str
    title: str
    description: str
    author: str | None
    language: str
    content_warning: str | None
    tags: tuple[str, ...]
    episode: int | None
    season: int | None
    explicit: bool
    audio: Path
    audio_bytes: int
    duration_s: float
    vtt: Path | None
    srt: Path | None
    chapters_file: Path | None
    cover: Path | None
    chapters: tuple[EpisodeChapter, ...]
    fingerprint: str  # changes whenever the rendered audio changes


class _Invalid(Exception):
    pass


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], *, optional: bool = False,
         where: str = "") -> Any:
    name = f"{where}{key}"
    if key not in data or data[key] is None:
        if optional:
            return None
        raise _Invalid(f"missing {name!r}")
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise _Invalid(f"{name!r} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise _Invalid(f"{name!r} has the wrong type: {value!r}")
    return value


def _file(folder: Path, files: dict[str, Any], key: str, *, optional: bool) -> Path | None:
    name = _get(files, key, str, optional=optional, where="files.")
    if name is None:
        return None
    if Path(name).name != name or name in (".", "..") or "\\" in name:
        raise _Invalid(f"files.{key} must be a file name in the same folder, got {name!r}")
    path = folder / name
    if not path.is_file():
        raise _Invalid(f"files.{key} names {name}, which does not exist; render the session again")
    return path


def _positive_int(data: dict[str, Any], key: str) -> int | None:
    value = _get(data, key, int, optional=True)
    if value is not None and value < 1:
        raise _Invalid(f"{key!r} must be a positive integer, got {value}")
    return value


def _looks_like_mp3(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(3)
    return head == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def load_episode(path: Path) -> Episode:
    """One manifest, checked against interfaces.md; raises PublishError naming the file."""
    try:
        return _read(path)
    except _Invalid as error:
        raise PublishError(f"{path}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PublishError(f"{path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        where = f"{path}:{error.lineno}:{error.colno}"
        raise PublishError(f"{where}: invalid JSON: {error.msg}") from None


def _read(path: Path) -> Episode:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise _Invalid("a manifest must be a JSON object")
    version = _get(data, "manifest_version", int)
    if version != MANIFEST_VERSION:
        raise _Invalid(f"manifest_version {version} is not supported (expected {MANIFEST_VERSION})")
    slug = _get(data, "slug", str)
    if not SLUG_RE.match(slug):
        raise _Invalid(f"slug {slug!r} must be ASCII letters, digits and '-'")
    title = _get(data, "title", str).strip()
    if not title:
        raise _Invalid("title is empty")
    folder = path.parent
    files = _get(data, "files", dict)
    audio = _file(folder, files, "audio", optional=False)
    if audio is None:  # unreachable: optional=False raises instead; keeps the type narrow
        raise _Invalid("missing 'files.audio'")
    if audio.suffix.lower() != ".mp3":
        raise _Invalid(f"files.audio must be an .mp3 file, got {audio.name}")
    if not _looks_like_mp3(audio):
        raise _Invalid(f"{audio.name} is not an MP3 file")
    info = _get(data, "audio", dict)
    audio_bytes = _get(info, "bytes", int, where="audio.")
    actual = audio.stat().st_size
    if audio_bytes != actual:
        raise _Invalid(
            f"audio.bytes says {audio_bytes} but {audio.name} has {actual} bytes; "
            "the manifest is stale, render the session again"
        )
    duration_s = float(_get(info, "duration_s", (int, float), where="audio."))
    if not duration_s > 0:
        raise _Invalid(f"audio.duration_s must be positive, got {duration_s}")

    chapters: list[EpisodeChapter] = []
    for index, item in enumerate(_get(data, "chapters", list, optional=True) or []):
        if not isinstance(item, dict):
            raise _Invalid(f"chapters[{index}] must be an object")
        start = float(_get(item, "start_s", (int, float), where=f"chapters[{index}]."))
        heading = _get(item, "title", str, where=f"chapters[{index}].")
        chapters.append(EpisodeChapter(start, heading))
    tags = _get(data, "tags", list, optional=True) or []
    if not all(isinstance(tag, str) for tag in tags):
        raise _Invalid("tags must be a list of text")
    warning = (_get(data, "content_warning", str, optional=True) or "").strip() or None
    inputs_hash = _get(data, "inputs_hash", str, optional=True) or ""
    return Episode(
        manifest=path,
        slug=slug,
        title=title,
        description=(_get(data, "description", str, optional=True) or "").strip(),
        author=(_get(data, "author", str, optional=True) or "").strip() or None,
        language=(_get(data, "language", str, optional=True) or "en").strip() or "en",
        content_warning=warning,
        tags=tuple(tags),
        episode=_positive_int(data, "episode"),
        season=_positive_int(data, "season"),
        explicit=bool(_get(data, "explicit", bool, optional=True)),
        audio=audio,
        audio_bytes=actual,
        duration_s=duration_s,
        vtt=_file(folder, files, "vtt", optional=True),
        srt=_file(folder, files, "srt", optional=True),
        chapters_file=_file(folder, files, "chapters", optional=True),
        cover=_file(folder, files, "cover", optional=True),
        chapters=tuple(chapters),
        fingerprint=f"{inputs_hash}:{actual}",
    )


def load_episodes(rendered_dir: Path) -> list[Episode]:
    """Every manifest in `rendered_dir`, sorted by slug; all problems raised together."""
    if not rendered_dir.is_dir():
        raise PublishError(f"{rendered_dir} is not a folder; render some sessions first")
    episodes: list[Episode] = []
    errors: list[str] = []
    for path in sorted(rendered_dir.glob(f"*{MANIFEST_SUFFIX}")):
        try:
            episodes.append(load_episode(path.absolute()))
        except PublishError as error:
            errors.append(str(error))
    seen: dict[str, Path] = {}
    for episode in episodes:
        if episode.slug in seen:
            errors.append(f"{episode.manifest}: slug {episode.slug!r} is also used by "
                          f"{seen[episode.slug]}")
        seen[episode.slug] = episode.manifest
    if errors:
        raise PublishError("\n".join(errors))
    if not episodes:
        raise PublishError(
            f"no rendered sessions in {rendered_dir} (no *{MANIFEST_SUFFIX}); "
            "run `innerchild render` first"
        )
    log.info("found %d rendered sessions in %s", len(episodes), rendered_dir)
    return sorted(episodes, key=lambda e: e.slug)
