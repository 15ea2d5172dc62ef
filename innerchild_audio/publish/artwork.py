"""The cover art a session's MP3 carries (ID3 APIC), the same art podcast apps show.

The script's `cover`, else the podcast's (podcast.yaml), else the one drawn for the podcast,
byte for byte the `cover.jpg` that publish puts in the site.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

from innerchild_audio.export import load_cover
from innerchild_audio.export.tags import Cover
from innerchild_audio.publish.channel import Channel, PodcastDefaults
from innerchild_audio.publish.cover import generate_cover

DEFAULT_TITLE: Final = "Inner Child Audio"  # the drawn cover's title with no podcast.yaml


@lru_cache(maxsize=4)
def drawn_cover(title: str, author: str) -> Cover:
    return Cover(generate_cover(title, author), "image/jpeg")


def podcast_cover(podcast: PodcastDefaults) -> Cover:
    """The podcast's own cover, else the one drawn for it: what a session without a cover of
    its own carries."""
    if podcast.cover is not None:
        return load_cover(podcast.cover)[0]
    return drawn_cover(podcast.album, podcast.author)


def session_cover(script_cover: Path | None, channel: Channel | None) -> Cover:
    """The cover to embed in a session's MP3; its bytes belong in the render's inputs hash."""
    if script_cover is not None:
        return load_cover(script_cover)[0]
    if channel is not None and channel.cover is not None:
        return load_cover(channel.cover.path)[0]
    if channel is not None:
        return drawn_cover(channel.title, channel.author)
    return drawn_cover(DEFAULT_TITLE, "")
