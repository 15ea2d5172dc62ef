"""The feed as real podcast clients read it: gPodder's podcastparser and feedparser."""

from __future__ import annotations

import io
import json
import logging
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
import pytest
from publish_helpers import (
    CARE,
    CARE_TEXT,
    EPISODE_SLUGS,
    FUNDING,
    LICENSE,
    PEOPLE,
    TRICKY_NOTES,
    TRICKY_TITLE,
    TRICKY_WARNING,
    build_library,
    html_text,
    mp3_duration_s,
    sine_mp3,
    write_podcast_yaml,
    write_session,
)

from innerchild_audio.publish import podcast_guid, publish_site

NOW = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)
BASE = "https://podcast.example.org/inner-child"
NS = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sine_mp3(tmp_path_factory.mktemp("audio") / "sine.mp3")


@pytest.fixture
def published(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                          base_url=BASE + "/", now=NOW)
    return result, rendered


def _manifest(rendered: Path, slug: str) -> dict:
    return json.loads((rendered / f"{slug}.manifest.json").read_text(encoding="utf-8"))


def _state(result) -> dict:
    return json.loads(result.state_path.read_text(encoding="utf-8"))["episodes"]


def test_podcastparser_reads_channel_and_every_episode(published):
    result, rendered = published
    feed = podcastparser.parse(result.feed_url, io.BytesIO(result.feed_path.read_bytes()))
    assert feed["title"] == "Inner Child Sessions"
    assert feed["itunes_categories"] == [["Health & Fitness", "Mental Health"]]
    assert feed["itunes_owner"] == {"name": "Inner Child Audio", "email": "hello@example.com"}
    assert feed["type"] == "episodic" and feed["explicit"] is False
    assert feed["cover_url"] == f"{BASE}/cover.jpg"
    assert feed["link"] == f"{BASE}/"
    state = _state(result)
    entries = {entry["guid"]: entry for entry in feed["episodes"]}
    assert len(entries) == len(EPISODE_SLUGS) == 3
    for slug in EPISODE_SLUGS:
        manifest = _manifest(rendered, slug)
        entry = entries[state[slug]["guid"]]
        assert entry["title"] == manifest["title"]
        [enclosure] = entry["enclosures"]
        served = result.out_dir / "episodes" / f"{slug}.mp3"
        assert enclosure["url"] == f"{BASE}/episodes/{slug}.mp3"
        assert enclosure["file_size"] == served.stat().st_size == manifest["audio"]["bytes"]
        assert enclosure["mime_type"] == "audio/mpeg"
        assert entry["total_time"] == round(mp3_duration_s(served)) == 2
        published_at = datetime.fromisoformat(state[slug]["published"])
        assert entry["published"] == int(published_at.timestamp())
        assert entry.get("number") == manifest["episode"]
        assert entry.get("season") == manifest["season"]


def test_new_episodes_are_dated_in_episode_order_newest_first(published):
    result, _ = published
    feed = podcastparser.parse(result.feed_url, io.BytesIO(result.feed_path.read_bytes()))
    # podcastparser sorts newest first; unnumbered episodes come after the numbered ones.
    titles = [e["title"] for e in feed["episodes"]]
    assert titles == ["Three-Minute Reset", TRICKY_TITLE, "Meeting Your Child Self"]
    times = [e["published"] for e in feed["episodes"]]
    assert times == [int(NOW.timestamp()) - k for k in range(3)]


def test_feedparser_is_not_bozo_and_sees_every_tag(published):
    result, rendered = published
    parsed = feedparser.parse(result.feed_path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Inner Child Sessions"
    assert parsed.feed.language == "en"
    assert parsed.feed.author == "Inner Child Audio"
    # (feedparser maps only the old yes/clean values of itunes:explicit; Apple wants true/false)
    assert parsed.feed.image.href == f"{BASE}/cover.jpg"
    assert [t.term for t in parsed.feed.tags] == ["Health & Fitness", "Mental Health"]
    assert parsed.feed.podcast_guid == podcast_guid(f"{BASE}/feed.xml")
    assert {"rel": "self", "href": f"{BASE}/feed.xml", "type": "application/rss+xml"} in [
        dict(link) for link in parsed.feed.links
    ]
    state = _state(result)
    by_id = {entry.id: entry for entry in parsed.entries}
    for slug in EPISODE_SLUGS:
        entry = by_id[state[slug]["guid"]]
        assert entry.guidislink is False
        [enclosure] = [link for link in entry.links if link.rel == "enclosure"]
        assert enclosure.href == f"{BASE}/episodes/{slug}.mp3"
        assert int(enclosure.length) == (result.out_dir / f"episodes/{slug}.mp3").stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert entry.itunes_duration == "2"
        published_at = datetime.fromisoformat(state[slug]["published"])
        assert datetime(*entry.published_parsed[:6], tzinfo=timezone.utc) == published_at
        assert entry.podcast_chapters == {
            "url": f"{BASE}/episodes/{slug}.chapters.json", "type": "application/json+chapters",
        }


def test_every_item_links_transcripts_and_chapters_that_exist(published):
    result, rendered = published
    root = ET.fromstring(result.feed_path.read_bytes())
    items = root.findall("channel/item")
    assert len(items) == 3
    for item in items:
        slug = item.findtext("link").rsplit("#", 1)[1]
        transcripts = {t.get("type"): t for t in item.findall("podcast:transcript", NS)}
        assert set(transcripts) == {"text/vtt", "application/x-subrip"}
        for kind, suffix in (("text/vtt", ".vtt"), ("application/x-subrip", ".srt")):
            url = transcripts[kind].get("url")
            assert url == f"{BASE}/episodes/{slug}{suffix}"
            assert transcripts[kind].get("language") == "en"
            local = result.out_dir / url.removeprefix(BASE + "/")
            assert local.read_bytes() == (rendered / f"{slug}{suffix}").read_bytes()
        chapters = item.find("podcast:chapters", NS)
        assert chapters.get("type") == "application/json+chapters"
        local = result.out_dir / chapters.get("url").removeprefix(BASE + "/")
        data = json.loads(local.read_text(encoding="utf-8"))
        assert data["version"] == "1.2.0"
        assert [c["title"] for c in data["chapters"]] == [
            c["title"] for c in _manifest(rendered, slug)["chapters"]
        ]


def test_feed_follows_the_standard_line_by_line(published):
    result, _ = published
    raw = result.feed_path.read_text(encoding="utf-8")
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"' in raw
    assert 'xmlns:podcast="https://podcastindex.org/namespace/1.0"' in raw
    root = ET.fromstring(raw.encode())
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for tag in ("title", "description", "link", "language"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert channel.find("itunes:image", NS).get("href") == f"{BASE}/cover.jpg"
    category = channel.find("itunes:category", NS)
    assert category.get("text") == "Health & Fitness"
    assert category.find("itunes:category", NS).get("text") == "Mental Health"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("itunes:author", namespaces=NS) == "Inner Child Audio"
    assert channel.findtext("itunes:type", namespaces=NS) == "episodic"
    assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "hello@example.com"
    assert channel.findtext("podcast:locked", namespaces=NS) == "no"
    expected_guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
                               "podcast.example.org/inner-child/feed.xml")
    assert channel.findtext("podcast:guid", namespaces=NS) == str(expected_guid)
    self_link = channel.find("atom:link", NS)
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{BASE}/feed.xml")
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false"
        uuid.UUID(guid.text)
        pub_date = item.findtext("pubDate")
        assert pub_date.endswith(" +0000")
        assert parsedate_to_datetime(pub_date) <= NOW
        assert NOW - parsedate_to_datetime(pub_date) < timedelta(minutes=1)
        url = item.find("enclosure").get("url")
        assert url.isascii() and " " not in url and url.endswith(".mp3")
        assert item.findtext("itunes:duration", namespaces=NS).isdigit()
        assert item.findtext("itunes:explicit", namespaces=NS) in ("true", "false")


def test_known_podcast_guid_vector():
    # The Podcast Index namespace's own example: this feed URL has this GUID.
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )


def test_special_characters_come_out_escaped_and_intact(published):
    result, _ = published
    raw = result.feed_path.read_text(encoding="utf-8")
    # Plain text: `&`, `<` and `>` as hexadecimal references (RSS Profile), emoji as is.
    assert "<title>Tea &#x26; &#x3C;Biscuits&#x3E; \"quoted\" 'single' 🌱 café</title>" in raw
    entries = {e["title"]: e for e in podcastparser.parse(
        result.feed_url, io.BytesIO(raw.encode()))["episodes"]}
    tricky = entries[TRICKY_TITLE]  # the same text back, character for character
    expected_notes = f"{TRICKY_NOTES}\n\nContent warning: {TRICKY_WARNING}\n\n{CARE}"
    assert html_text(tricky["description_html"]) == expected_notes
    parsed = feedparser.parse(raw.encode())
    [entry] = [e for e in parsed.entries if e.title == TRICKY_TITLE]
    assert entry.title_detail.type == "text/plain"
    assert html_text(entry.summary) == expected_notes
    assert html_text(entry.content[0].value) == expected_notes  # content:encoded
    root = ET.fromstring(raw.encode())
    [item] = [i for i in root.iter("item") if i.findtext("title") == TRICKY_TITLE]
    assert html_text(item.findtext("description")) == expected_notes


def test_characters_xml_cannot_carry_are_dropped_not_fatal(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    write_session(rendered, "control", sine, title="Bell\x07 and\x0b tab\tok",
                  description="Form\x0cfeed")
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                          base_url=BASE, now=NOW)
    parsed = feedparser.parse(result.feed_path.read_bytes())
    assert not parsed.bozo
    assert "Bell and tab\tok" in [e.title for e in parsed.entries]


def test_enclosure_urls_are_ascii_even_for_a_unicode_base_url(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                          base_url="https://bücher.example/mein podcast/", now=NOW)
    root = ET.fromstring(result.feed_path.read_bytes())
    urls = [e.get("url") for e in root.iter("enclosure")]
    assert urls and all(u.startswith("https://xn--bcher-kva.example/mein%20podcast/episodes/")
                        for u in urls)
    assert all(u.isascii() and " " not in u for u in urls)


def test_publishing_is_deterministic(tmp_path: Path, sine: Path):
    rendered, podcast = build_library(tmp_path, sine)
    first = publish_site(rendered, tmp_path / "a", channel_file=podcast, base_url=BASE, now=NOW)
    again = publish_site(rendered, tmp_path / "a", channel_file=podcast, base_url=BASE,
                         now=NOW + timedelta(days=3))
    other = publish_site(rendered, tmp_path / "b", channel_file=podcast, base_url=BASE, now=NOW)
    feed = first.feed_path.read_bytes()
    assert again.feed_path.read_bytes() == feed  # nothing changed: not one byte differs
    assert other.feed_path.read_bytes() == feed
    assert first.index_path.read_bytes() == other.index_path.read_bytes()


def test_channel_description_is_plain_text_with_the_care_text_once(published):
    result, _ = published
    raw = result.feed_path.read_text(encoding="utf-8")
    channel = ET.fromstring(raw.encode()).find("channel")
    description = channel.findtext("description")
    assert description == ("Gentle guided meditations for meeting the child you once were."
                           f"\n\n{CARE_TEXT}")
    assert "<" not in description and "&lt;" not in raw.split("<item>")[0]
    assert feedparser.parse(raw.encode()).feed.subtitle == description
    # Each episode has the short care line, and none repeats the channel's care text.
    for item in channel.findall("item"):
        notes = html_text(item.findtext("description"))
        assert notes.endswith(f"\n\n{CARE}") and CARE_TEXT not in notes
        assert item.findtext("content:encoded", namespaces=NS) == item.findtext("description")
    [reset] = [i for i in channel.findall("item") if i.findtext("title") == "Three-Minute Reset"]
    assert html_text(reset.findtext("description")) == f"A short reset for a hard moment.\n\n{CARE}"


def test_people_license_and_funding_are_in_the_feed(published):
    result, _ = published
    raw = result.feed_path.read_bytes()
    channel = ET.fromstring(raw).find("channel")
    people = [(p.text, p.get("role"), p.get("href"), p.get("img"))
              for p in channel.findall("podcast:person", NS)]
    assert people == list(PEOPLE)
    license_ = channel.find("podcast:license", NS)
    assert (license_.text, license_.get("url")) == LICENSE
    funding = channel.find("podcast:funding", NS)
    assert (funding.get("url"), funding.text) == FUNDING
    assert b"Sam Lee &#x26; Co" in raw and b"via=feed&#x26;x=1" in raw
    parsed = feedparser.parse(raw)
    assert not parsed.bozo


def test_a_serial_podcast_lists_episodes_by_number_first_first(tmp_path: Path, sine: Path):
    rendered, _ = build_library(tmp_path, sine)
    write_session(rendered, "week-three", sine, title="Week Three", episode=3, season=1)
    podcast = write_podcast_yaml(tmp_path / "serial", extra="type: serial\n")
    result = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                          now=NOW)
    channel = ET.fromstring(result.feed_path.read_bytes()).find("channel")
    assert channel.findtext("itunes:type", namespaces=NS) == "serial"
    numbers = [i.findtext("itunes:episode", namespaces=NS) for i in channel.findall("item")]
    assert numbers == ["1", "2", "3", None]  # the unnumbered one last, and warned about
    assert podcastparser.parse(result.feed_url, io.BytesIO(
        result.feed_path.read_bytes()))["type"] == "serial"
    assert [w for w in result.warnings if "no episode number" in w] == [
        f"{rendered.absolute() / 'three-minute-reset.manifest.json'}: no episode number, so "
        "this serial podcast lists it last; set episode: in its script"]


def test_a_missing_owner_email_is_warned_about_once_naming_the_key(
    tmp_path: Path, sine: Path, caplog: pytest.LogCaptureFixture
):
    rendered, podcast = build_library(tmp_path, sine)
    podcast.write_text(podcast.read_text(encoding="utf-8").replace(
        "owner_email: hello@example.com\n", ""), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="innerchild_audio.publish"):
        result = publish_site(rendered, tmp_path / "site", channel_file=podcast,
                              base_url=BASE, now=NOW)
    named = [m for m in caplog.messages if "owner_email" in m]
    assert len(named) == 1 and "set owner_email in podcast.yaml" in named[0]
    assert f"{podcast}: no owner_email" in named[0]
    assert list(result.warnings) == named
    channel = ET.fromstring(result.feed_path.read_bytes()).find("channel")
    assert channel.find("itunes:owner", NS) is None  # an owner without e-mail is invalid
