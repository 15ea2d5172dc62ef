"""An episode as it appears in the site: identity, dates and its files' paths in the site."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Final

from innerchild_audio.publish.episodes import Episode

EPISODES_DIR: Final = "episodes"
# Characters XML 1.0 cannot carry (C0 controls but tab/newline/CR, surrogates, U+FFFE/F).
_XML_INVALID_RE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Text with characters that XML cannot hold removed (they would make the feed unreadable)."""
    return _XML_INVALID_RE.sub("", text)


def paragraphs(text: str) -> list[str]:
    """Blocks of text separated by blank lines, stripped."""
    blocks = clean_text(text).replace("\r\n", "\n").split("\n\n")
    return [block.strip() for block in blocks if block.strip()]


def plain_paragraphs(text: str) -> str:
    """Text for a plain-text element: the wrapping undone, paragraphs a blank line apart."""
    return "\n\n".join(" ".join(block.split()) for block in paragraphs(text))


def own_paragraphs(text: str, shared: str) -> tuple[str, ...]:
    """The paragraphs of `text` that do not repeat one of `shared` (the channel's care text)."""
    seen = {" ".join(block.split()).casefold() for block in paragraphs(shared)}
    return tuple(" ".join(block.split()) for block in paragraphs(text)
                 if " ".join(block.split()).casefold() not in seen)


def notes_html(*texts: str) -> str:
    """Plain text as the small HTML podcast apps expect in a description: one <p> a paragraph.

    Apps and parsers read a description as HTML, so a bare `<` in plain notes would be
    taken for a tag and lost; escaping first keeps every character. Single line breaks
    are the YAML's wrapping, not the author's meaning, so they become spaces.
    """
    return "".join(
        "<p>" + escape(" ".join(block.split()), quote=False) + "</p>"
        for text in texts
        for block in paragraphs(text)
    )


@dataclass(frozen=True)
class PublishedEpisode:
    episode: Episode
    guid: str
    pub_date: datetime  # UTC, first publication
    updated: datetime
    audio: str  # paths inside the site, forward slashes
    vtt: str | None
    srt: str | None
    chapters: str | None
    cover: str | None
    is_new: bool
    notes: tuple[str, ...] = ()  # the episode's own paragraphs, none repeating the channel's
    care_note: str | None = None  # the channel's short line for every episode

    @property
    def slug(self) -> str:
        return self.episode.slug

    @property
    def duration_whole_s(self) -> int:
        """`itunes:duration`: whole seconds, at least 1."""
        return max(1, round(self.episode.duration_s))

    @property
    def show_notes(self) -> str:
        """The feed's description (HTML): the notes, the content warning, the care line."""
        parts = list(self.notes or (self.episode.title,))
        if self.episode.content_warning:
            parts.append(f"Content warning: {self.episode.content_warning}")
        if self.care_note:
            parts.append(self.care_note)
        return notes_html(*parts)


def site_path(slug: str, suffix: str) -> str:
    return f"{EPISODES_DIR}/{slug}{suffix}"
