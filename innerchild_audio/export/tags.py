"""ID3v2.4 tags: title, artist, album, genre, year, comment, language, cover, chapters.

Chapters are `CHAP` frames (each with a `TIT2` title) listed in order by one
top-level `CTOC` frame; podcast apps such as Overcast ignore CHAPs without it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TPOS,
    TRCK,
    TSSE,
    CTOCFlags,
    Encoding,
    PictureType,
)

from innerchild_audio.errors import RenderError

log = logging.getLogger(__name__)

GENRE: Final = "Podcast"
TOC_ID: Final = "toc"

# ISO 639-1 to ISO 639-2/B, which ID3's TLAN and COMM use.
_ISO_639_2: Final = {
    "ar": "ara", "bg": "bul", "ca": "cat", "cs": "cze", "cy": "wel", "da": "dan", "de": "ger",
    "el": "gre", "en": "eng", "es": "spa", "et": "est", "eu": "baq", "fa": "per", "fi": "fin",
    "fr": "fre", "ga": "gle", "gl": "glg", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun",
    "id": "ind", "is": "ice", "it": "ita", "ja": "jpn", "ko": "kor", "lt": "lit", "lv": "lav",
    "ms": "may", "nb": "nob", "nl": "dut", "nn": "nno", "no": "nor", "pl": "pol", "pt": "por",
    "ro": "rum", "ru": "rus", "sk": "slo", "sl": "slv", "sr": "srp", "sv": "swe", "sw": "swa",
    "ta": "tam", "th": "tha", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "chi",
}


def id3_language(bcp47: str) -> str:
    """`en-GB` -> `eng`; a three-letter primary subtag is kept; `und` when unknown."""
    primary = bcp47.strip().split("-")[0].split("_")[0].lower()
    if primary in _ISO_639_2:
        return _ISO_639_2[primary]
    if len(primary) == 3 and primary.isascii() and primary.isalpha():
        return primary
    return "und"


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime: str  # image/jpeg | image/png


@dataclass(frozen=True)
class ChapterSpan:
    start_ms: int
    end_ms: int
    title: str


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str
    album: str
    year: int
    comment: str = ""
    language: str = "en"  # BCP 47, as scripts write it
    genre: str = GENRE
    track: int | None = None  # the episode number
    disc: int | None = None  # the season
    encoder: str = ""
    cover: Cover | None = None
    chapters: tuple[ChapterSpan, ...] = ()


def chapter_spans(starts: Sequence[tuple[int, str]], total_ms: int) -> tuple[ChapterSpan, ...]:
    """Each chapter runs until the next one starts; the last until the end."""
    spans = []
    for index, (start_ms, title) in enumerate(starts):
        end_ms = starts[index + 1][0] if index + 1 < len(starts) else total_ms
        spans.append(ChapterSpan(start_ms, max(end_ms, start_ms), title))
    return tuple(spans)


def build_id3(tags: Tags) -> ID3:
    lang = id3_language(tags.language)
    id3 = ID3()
    id3.add(TIT2(encoding=Encoding.UTF8, text=[tags.title]))
    if tags.artist:
        id3.add(TPE1(encoding=Encoding.UTF8, text=[tags.artist]))
    id3.add(TALB(encoding=Encoding.UTF8, text=[tags.album]))
    id3.add(TCON(encoding=Encoding.UTF8, text=[tags.genre]))
    id3.add(TDRC(encoding=Encoding.UTF8, text=[str(tags.year)]))
    id3.add(TLAN(encoding=Encoding.UTF8, text=[lang]))
    if tags.comment:
        id3.add(COMM(encoding=Encoding.UTF8, lang=lang, desc="", text=[tags.comment]))
    if tags.track is not None:
        id3.add(TRCK(encoding=Encoding.UTF8, text=[str(tags.track)]))
    if tags.disc is not None:
        id3.add(TPOS(encoding=Encoding.UTF8, text=[str(tags.disc)]))
    if tags.encoder:
        id3.add(TSSE(encoding=Encoding.UTF8, text=[tags.encoder]))
    if tags.cover is not None:
        id3.add(APIC(encoding=Encoding.UTF8, mime=tags.cover.mime, type=PictureType.COVER_FRONT,
                     desc="Cover", data=tags.cover.data))
    if tags.chapters:
        ids = [f"chp{index}" for index in range(len(tags.chapters))]
        for element_id, chapter in zip(ids, tags.chapters, strict=True):
            id3.add(CHAP(element_id=element_id, start_time=chapter.start_ms,
                         end_time=chapter.end_ms,
                         sub_frames=[TIT2(encoding=Encoding.UTF8, text=[chapter.title])]))
        id3.add(CTOC(element_id=TOC_ID, flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                     child_element_ids=ids,
                     sub_frames=[TIT2(encoding=Encoding.UTF8, text=["Chapters"])]))
    return id3


def write_tags(mp3_path: Path, tags: Tags) -> None:
    """Write ID3v2.4 tags to an MP3 (in place: callers pass a temporary path)."""
    try:
        build_id3(tags).save(mp3_path, v2_version=4, v1=0)
    except Exception as error:  # mutagen raises several unrelated types
        raise RenderError(f"could not write ID3 tags to {mp3_path.name}: {error}") from error
