"""feed.xml: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, deterministic bytes.

Plain-text elements hold plain text (the channel description too); show-notes HTML goes
only in an item's `description` and `content:encoded`, where apps expect markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Final

from innerchild_audio.publish.channel import Channel
from innerchild_audio.publish.published import PublishedEpisode, plain_paragraphs
from innerchild_audio.publish.urls import feed_url, podcast_guid, site_url
from innerchild_audio.publish.xml_writer import Element, document

ITUNES_NS: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS: Final = "https://podcastindex.org/namespace/1.0"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
CONTENT_NS: Final = "http://purl.org/rss/1.0/modules/content/"
AUDIO_TYPE: Final = "audio/mpeg"
VTT_TYPE: Final = "text/vtt"
SRT_TYPE: Final = "application/x-subrip"
CHAPTERS_TYPE: Final = "application/json+chapters"
GENERATOR: Final = "innerchild-audio"


def rfc2822(moment: datetime) -> str:
    """`Fri, 27 Nov 2026 13:00:00 +0000`: always UTC, so a published date never shifts zone."""
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0))


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
    """The RSS document; `episodes` in the feed's order, `cover` the cover's path in the site."""
    self_url = feed_url(base_url)
    rss = Element("rss", {
        "version": "2.0",
        "xmlns:itunes": ITUNES_NS,
        "xmlns:podcast": PODCAST_NS,
        "xmlns:atom": ATOM_NS,
        "xmlns:content": CONTENT_NS,
    })
    ch = rss.add("channel")
    _add_channel_basics(ch, channel, self_url=self_url, link=channel.link or f"{base_url}/",
                        cover_url=site_url(base_url, cover), build_date=build_date)
    _add_channel_owner(ch, channel, self_url)
    _add_channel_extras(ch, channel)
    for item in episodes:
        _add_item(ch, item, base_url)
    return document(rss)


def _add_channel_basics(ch: Element, channel: Channel, *, self_url: str, link: str,
                        cover_url: str, build_date: datetime) -> None:
    """Title, links, cover and category: what every directory reads first."""
    ch.add("title", channel.title)
    ch.add("link", link)
    ch.add("description", plain_paragraphs(channel.description))
    ch.add("language", channel.language)
    ch.add("atom:link", href=self_url, rel="self", type="application/rss+xml")
    ch.add("generator", GENERATOR)
    ch.add("lastBuildDate", rfc2822(build_date))
    image = ch.add("image")
    image.add("url", cover_url)
    image.add("title", channel.title)
    image.add("link", link)
    ch.add("itunes:image", href=cover_url)
    category = ch.add("itunes:category", text=channel.category)
    if channel.subcategory:
        category.add("itunes:category", text=channel.subcategory)
    ch.add("itunes:explicit", _yes_no(channel.explicit))
    ch.add("itunes:author", channel.author)


def _add_channel_owner(ch: Element, channel: Channel, self_url: str) -> None:
    """Owner, show type, the podcast GUID and the lock, which names the owner when known."""
    if channel.owner_email:  # an owner without an e-mail fails validation: publish warns
        owner = ch.add("itunes:owner")
        owner.add("itunes:name", channel.author)
        owner.add("itunes:email", channel.owner_email)
    ch.add("itunes:type", channel.show_type)
    ch.add("podcast:guid", podcast_guid(self_url))
    if channel.owner_email:
        ch.add("podcast:locked", "no", owner=channel.owner_email)
    else:
        ch.add("podcast:locked", "no")


def _add_channel_extras(ch: Element, channel: Channel) -> None:
    """The optional Podcasting 2.0 tags: license, funding, people."""
    if channel.license:
        if channel.license.url:
            ch.add("podcast:license", channel.license.name, url=channel.license.url)
        else:
            ch.add("podcast:license", channel.license.name)
    if channel.funding:
        ch.add("podcast:funding", channel.funding.text, url=channel.funding.url)
    for person in channel.people:
        node = ch.add("podcast:person", person.name, role=person.role)
        for key, value in (("href", person.href), ("img", person.img)):
            if value:
                node.attrs[key] = value


def _add_item(ch: Element, item: PublishedEpisode, base_url: str) -> None:
    """One episode's `item`, its optional tags only where the episode has them."""
    ep = item.episode
    node = ch.add("item")
    node.add("title", ep.title)
    node.add("description", item.show_notes, html=True)
    node.add("content:encoded", item.show_notes, html=True)
    node.add("link", f"{base_url}/#{ep.slug}")
    node.add("guid", item.guid, isPermaLink="false")
    node.add("pubDate", rfc2822(item.pub_date))
    node.add("enclosure", url=site_url(base_url, item.audio),
             length=str(ep.audio_bytes), type=AUDIO_TYPE)
    node.add("itunes:duration", str(item.duration_whole_s))
    if ep.season is not None:
        node.add("itunes:season", str(ep.season))
    if ep.episode is not None:
        node.add("itunes:episode", str(ep.episode))
    node.add("itunes:episodeType", "full")
    node.add("itunes:explicit", _yes_no(ep.explicit))
    if ep.author:
        node.add("itunes:author", ep.author)
    if item.cover:
        node.add("itunes:image", href=site_url(base_url, item.cover))
    if item.vtt:
        node.add("podcast:transcript", url=site_url(base_url, item.vtt),
                 type=VTT_TYPE, language=ep.language)
    if item.srt:
        node.add("podcast:transcript", url=site_url(base_url, item.srt),
                 type=SRT_TYPE, language=ep.language)
    if item.chapters:
        node.add("podcast:chapters", url=site_url(base_url, item.chapters),
                 type=CHAPTERS_TYPE)
