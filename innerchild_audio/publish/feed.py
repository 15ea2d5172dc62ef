"""feed.xml: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, deterministic bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Final

from innerchild_audio.publish.channel import Channel
from innerchild_audio.publish.published import PublishedEpisode, clean_text, notes_html
from innerchild_audio.publish.urls import feed_url, podcast_guid, site_url

ITUNES_NS: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS: Final = "https://podcastindex.org/namespace/1.0"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
AUDIO_TYPE: Final = "audio/mpeg"
VTT_TYPE: Final = "text/vtt"
SRT_TYPE: Final = "application/x-subrip"
CHAPTERS_TYPE: Final = "application/json+chapters"
GENERATOR: Final = "innerchild-audio"


def rfc2822(moment: datetime) -> str:
    """`Fri, 27 Nov 2026 13:00:00 +0000`: always UTC, so a published date never shifts zone."""
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0))


def _add(parent: ET.Element, tag: str, content: str | None = None, /, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: clean_text(value) for key, value in attrs.items()})
    if content is not None:
        element.text = clean_text(content)
    return element


def _yes_no(flag: bool) -> str:
    return "true" if flag else "false"


def build_feed(
    channel: Channel,
    episodes: Sequence[PublishedEpisode],
    *,
    base_url: str,
    cover: str,
    build_date: datetime,
) -> bytes:
    """The RSS document; `episodes` newest first, `cover` the cover's path in the site."""
    self_url = feed_url(base_url)
    link = channel.link or f"{base_url}/"
    cover_url = site_url(base_url, cover)
    rss = ET.Element("rss", {
        "version": "2.0",
        "xmlns:itunes": ITUNES_NS,
        "xmlns:podcast": PODCAST_NS,
        "xmlns:atom": ATOM_NS,
    })
    ch = _add(rss, "channel")
    _add(ch, "title", channel.title)
    _add(ch, "link", link)
    _add(ch, "description", notes_html(channel.description))
    _add(ch, "language", channel.language)
    _add(ch, "atom:link", href=self_url, rel="self", type="application/rss+xml")
    _add(ch, "generator", GENERATOR)
    _add(ch, "lastBuildDate", rfc2822(build_date))
    image = _add(ch, "image")
    _add(image, "url", cover_url)
    _add(image, "title", channel.title)
    _add(image, "link", link)
    _add(ch, "itunes:image", href=cover_url)
    category = _add(ch, "itunes:category", text=channel.category)
    if channel.subcategory:
        _add(category, "itunes:category", text=channel.subcategory)
    _add(ch, "itunes:explicit", _yes_no(channel.explicit))
    _add(ch, "itunes:author", channel.author)
    if channel.owner_email:
        owner = _add(ch, "itunes:owner")
        _add(owner, "itunes:name", channel.author)
        _add(owner, "itunes:email", channel.owner_email)
    _add(ch, "itunes:type", "episodic")
    _add(ch, "podcast:guid", podcast_guid(self_url))
    if channel.owner_email:
        _add(ch, "podcast:locked", "no", owner=channel.owner_email)
    else:
        _add(ch, "podcast:locked", "no")

    for item in episodes:
        ep = item.episode
        node = _add(ch, "item")
        _add(node, "title", ep.title)
        _add(node, "description", item.show_notes)
        _add(node, "link", f"{base_url}/#{ep.slug}")
        _add(node, "guid", item.guid, isPermaLink="false")
        _add(node, "pubDate", rfc2822(item.pub_date))
        _add(node, "enclosure", url=site_url(base_url, item.audio),
             length=str(ep.audio_bytes), type=AUDIO_TYPE)
        _add(node, "itunes:duration", str(item.duration_whole_s))
        if ep.season is not None:
            _add(node, "itunes:season", str(ep.season))
        if ep.episode is not None:
            _add(node, "itunes:episode", str(ep.episode))
        _add(node, "itunes:episodeType", "full")
        _add(node, "itunes:explicit", _yes_no(ep.explicit))
        if ep.author:
            _add(node, "itunes:author", ep.author)
        if item.cover:
            _add(node, "itunes:image", href=site_url(base_url, item.cover))
        if item.vtt:
            _add(node, "podcast:transcript", url=site_url(base_url, item.vtt),
                 type=VTT_TYPE, language=ep.language)
        if item.srt:
            _add(node, "podcast:transcript", url=site_url(base_url, item.srt),
                 type=SRT_TYPE, language=ep.language)
        if item.chapters:
            _add(node, "podcast:chapters", url=site_url(base_url, item.chapters),
                 type=CHAPTERS_TYPE)

    ET.indent(rss, space="  ")
    body = ET.tostring(rss, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
