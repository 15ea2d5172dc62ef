"""Episode identity across republishing: GUIDs and first pubDates never change."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import podcastparser
import pytest
from publish_helpers import EPISODE_SLUGS, build_library, sine_mp3, write_session

from innerchild_audio.errors import PublishError
from innerchild_audio.publish import publish_site

NOW = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)
BASE = "https://podcast.example.org/inner-child"


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("audio")
    return sine_mp3(folder / "a.mp3", 2.0), sine_mp3(folder / "b.mp3", 3.0, frequency_hz=330)


def _episodes(result) -> dict[str, dict]:
    """Feed entries by slug (the item link ends in #slug), as gPodder reads them."""
    feed = podcastparser.parse(result.feed_url, io.BytesIO(result.feed_path.read_bytes()))
    return {entry["link"].rsplit("#", 1)[1]: entry for entry in feed["episodes"]}


def _identity(result) -> dict[str, tuple[str, int]]:
    return {slug: (e["guid"], e["published"]) for slug, e in _episodes(result).items()}


def test_republishing_twice_keeps_guids_and_pubdates(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    seen, results = [], []
    for days in (0, 1, 30):
        result = publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                              now=NOW + timedelta(days=days))
        results.append(result)
        seen.append(_identity(result))
    assert set(seen[0]) == set(EPISODE_SLUGS)
    assert seen[0] == seen[1] == seen[2]
    assert results[0].new_slugs and results[1].new_slugs == results[2].new_slugs == ()
    assert results[1].copied_files == 0  # unchanged episodes are not copied again


def test_a_changed_episode_keeps_its_guid(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    before = publish_site(rendered, site, channel_file=podcast, base_url=BASE, now=NOW)
    old = _episodes(before)["a-safe-place"]
    write_session(rendered, "a-safe-place", audio[1], title="A Safe Place, longer",
                  inputs_hash="1" * 64)
    later = NOW + timedelta(days=2)
    after = publish_site(rendered, site, channel_file=podcast, base_url=BASE, now=later)
    new = _episodes(after)["a-safe-place"]
    assert (new["guid"], new["published"]) == (old["guid"], old["published"])
    assert new["title"] == "A Safe Place, longer" and new["total_time"] == 3
    size = (rendered / "a-safe-place.mp3").stat().st_size
    assert new["enclosures"][0]["file_size"] == size != old["enclosures"][0]["file_size"]
    assert (site / "episodes/a-safe-place.mp3").read_bytes() == audio[1].read_bytes()
    assert "Sun, 29 Nov 2026 13:00:00 +0000" in after.feed_path.read_text(encoding="utf-8")


def test_a_new_episode_is_dated_when_first_published(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    before = _identity(publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                                    now=NOW))
    write_session(rendered, "words-you-needed-to-hear", audio[1], title="Words", episode=3,
                  season=1)
    later = NOW + timedelta(days=7)
    result = publish_site(rendered, site, channel_file=podcast, base_url=BASE, now=later)
    after = _identity(result)
    assert result.new_slugs == ("words-you-needed-to-hear",)
    assert {slug: after[slug] for slug in before} == before
    assert after["words-you-needed-to-hear"][1] == int(later.timestamp())
    assert result.episodes[0].slug == "words-you-needed-to-hear"  # newest first


def test_removed_episode_leaves_the_feed_and_keeps_its_guid_for_later(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    before = _identity(publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                                    now=NOW))
    moved = tmp_path / "aside"
    moved.mkdir()
    for path in rendered.glob("three-minute-reset.*"):
        path.rename(moved / path.name)
    result = publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                          now=NOW + timedelta(days=1))
    assert "three-minute-reset" not in _identity(result)
    assert not list((site / "episodes").glob("three-minute-reset*"))
    assert "episodes/three-minute-reset.mp3" in result.removed_files
    for path in moved.iterdir():
        path.rename(rendered / path.name)
    back = publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                        now=NOW + timedelta(days=2))
    assert _identity(back) == before


def test_a_lost_state_file_gives_the_same_guids(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    first = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                         now=NOW)
    guids = {slug: guid for slug, (guid, _) in _identity(first).items()}
    first.state_path.unlink()
    again = publish_site(rendered, tmp_path / "site", channel_file=podcast, base_url=BASE,
                         now=NOW + timedelta(days=1))
    assert {slug: guid for slug, (guid, _) in _identity(again).items()} == guids


def test_a_new_base_url_keeps_episode_guids(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    first = publish_site(rendered, site, channel_file=podcast, base_url=BASE, now=NOW)
    before = _identity(first)
    moved = publish_site(rendered, site, channel_file=podcast,
                         base_url="https://elsewhere.example.net/pod", now=NOW)
    assert first.podcast_guid != moved.podcast_guid
    assert _identity(moved) == before


def test_state_file_sits_beside_the_site_and_nothing_temporary_is_left(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    result = publish_site(rendered, tmp_path / "public", channel_file=podcast, base_url=BASE,
                          now=NOW)
    assert result.state_path == (tmp_path / "public.state.json").absolute()
    assert result.state_path.is_file()
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    served = {p.relative_to(result.out_dir).as_posix() for p in result.out_dir.rglob("*")
              if p.is_file()}
    assert "public.state.json" not in served and not any(s.startswith(".") for s in served)


def test_a_damaged_state_file_stops_publishing_and_keeps_the_old_feed(tmp_path: Path, audio):
    rendered, podcast = build_library(tmp_path, audio[0])
    site = tmp_path / "site"
    result = publish_site(rendered, site, channel_file=podcast, base_url=BASE, now=NOW)
    feed = result.feed_path.read_bytes()
    result.state_path.write_text('{"version": 1, "episodes": {"x": {"guid": ', encoding="utf-8")
    with pytest.raises(PublishError, match="damaged"):
        publish_site(rendered, site, channel_file=podcast, base_url=BASE,
                     now=NOW + timedelta(days=1))
    assert result.feed_path.read_bytes() == feed
