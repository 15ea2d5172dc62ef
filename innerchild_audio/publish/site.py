"""publish_site: rendered sessions + podcast.yaml -> a static podcast site.

Order of writes: episode files, cover, state, index.html, then feed.xml last, so a podcast
app never reads a feed that points at files not yet in place. Stale episode files go after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from innerchild_audio.atomic import atomic_write_bytes, atomic_write_text
from innerchild_audio.errors import PublishError, UsageError
from innerchild_audio.publish.channel import Channel, load_channel
from innerchild_audio.publish.cover import CoverInfo, cover_problems, generate_cover
from innerchild_audio.publish.episodes import Episode, load_episodes
from innerchild_audio.publish.feed import build_feed
from innerchild_audio.publish.files import copy_atomic
from innerchild_audio.publish.page import build_index
from innerchild_audio.publish.published import EPISODES_DIR, PublishedEpisode, site_path
from innerchild_audio.publish.state import (
    PublishState,
    assign_identities,
    default_state_path,
    load_state,
    publication_order,
    save_state,
    utc_seconds,
)
from innerchild_audio.publish.urls import FEED_NAME, feed_url, normalize_base_url, podcast_guid

log = logging.getLogger(__name__)

INDEX_NAME: Final = "index.html"
COVER_STEM: Final = "cover"


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    feed_path: Path
    index_path: Path
    state_path: Path
    feed_url: str
    podcast_guid: str
    episodes: tuple[PublishedEpisode, ...]  # newest first, as in the feed
    new_slugs: tuple[str, ...]  # published for the first time in this run
    copied_files: int  # files copied this run (unchanged ones are skipped)
    removed_files: tuple[str, ...]  # stale files taken out of episodes/
    warnings: tuple[str, ...]


def resolve_base_url(channel: Channel, base_url: str | None) -> str:
    """The base URL from the option, else from podcast.yaml; neither is a usage error."""
    if base_url is not None:
        try:
            return normalize_base_url(base_url)
        except ValueError as error:
            raise UsageError(f"--base-url: {error}") from error
    if channel.base_url is None:
        raise UsageError(
            f"no base URL: pass --base-url https://... or set base_url in {channel.source}"
        )
    return channel.base_url


def _episode_cover(episode: Episode, warnings: list[str]) -> CoverInfo | None:
    if episode.cover is None:
        return None
    info, problems = cover_problems(episode.cover)
    if problems:
        warnings.append(f"{episode.slug}: episode cover left out of the feed: "
                        + "; ".join(problems))
    return info


def _place_episode(
    episode: Episode, state: PublishState, new: set[str], out_dir: Path,
    warnings: list[str], written: set[str],
) -> tuple[PublishedEpisode, int]:
    copies = 0

    def place(src: Path | None, suffix: str) -> str | None:
        nonlocal copies
        if src is None:
            return None
        relative = site_path(episode.slug, suffix)
        copies += copy_atomic(src, out_dir / relative)
        written.add(relative)
        return relative

    cover = _episode_cover(episode, warnings)
    record = state.episodes[episode.slug]
    item = PublishedEpisode(
        episode=episode,
        guid=record.guid,
        pub_date=record.published,
        updated=record.updated,
        audio=place(episode.audio, ".mp3") or "",
        vtt=place(episode.vtt, ".vtt"),
        srt=place(episode.srt, ".srt"),
        # No chapter marks: no chapters file for apps to fetch and show empty.
        chapters=place(episode.chapters_file, ".chapters.json") if episode.chapters else None,
        cover=place(cover.path, f".cover{cover.extension}") if cover else None,
        is_new=episode.slug in new,
    )
    return item, copies


def _place_cover(channel: Channel, out_dir: Path) -> tuple[str, CoverInfo | None]:
    """The channel cover in the site (copied, or generated); its path and, if copied, its info."""
    if channel.cover is not None:
        name = f"{COVER_STEM}{channel.cover.extension}"
        copy_atomic(channel.cover.path, out_dir / name)
        info: CoverInfo | None = channel.cover
    else:
        name = f"{COVER_STEM}.jpg"
        data = generate_cover(channel.title, channel.author)
        target = out_dir / name
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
        info = None
    for other in (".jpg", ".png"):
        if f"{COVER_STEM}{other}" != name:
            (out_dir / f"{COVER_STEM}{other}").unlink(missing_ok=True)
    return name, info


def _prune(out_dir: Path, keep: set[str]) -> tuple[str, ...]:
    folder = out_dir / EPISODES_DIR
    removed = []
    for path in sorted(folder.iterdir()):
        relative = f"{EPISODES_DIR}/{path.name}"
        if path.is_file() and relative not in keep:
            path.unlink()
            removed.append(relative)
    return tuple(removed)


def publish_site(
    rendered_dir: Path,
    out_dir: Path,
    *,
    channel_file: Path,
    base_url: str | None = None,
    now: datetime | None = None,
    state_file: Path | None = None,
) -> PublishResult:
    """Build the static site in `out_dir` from the manifests in `rendered_dir`.

    `now` is the publication time of episodes new in this run (default: the clock).
    `state_file` defaults to `<out_dir>.state.json`, beside the site.
    """
    channel = load_channel(channel_file)
    base = resolve_base_url(channel, base_url)
    episodes = load_episodes(rendered_dir)
    moment = utc_seconds(now or datetime.now(timezone.utc))
    if out_dir.exists() and not out_dir.is_dir():
        raise PublishError(f"{out_dir} exists and is not a folder")
    (out_dir / EPISODES_DIR).mkdir(parents=True, exist_ok=True)
    state_path = state_file or default_state_path(out_dir)

    url = feed_url(base)
    guid = podcast_guid(url)
    state, new_slugs = assign_identities(
        load_state(state_path), episodes, now=moment, channel_guid=guid
    )
    warnings: list[str] = []
    written: set[str] = set()
    items: list[PublishedEpisode] = []
    copied = 0
    for episode in episodes:
        item, count = _place_episode(episode, state, set(new_slugs), out_dir, warnings, written)
        items.append(item)
        copied += count
    items.sort(key=lambda i: (i.pub_date, publication_order(i.episode)), reverse=True)
    cover_name, cover_info = _place_cover(channel, out_dir)

    save_state(state_path, state)
    index_path = out_dir / INDEX_NAME
    atomic_write_text(index_path, build_index(
        channel, items, feed_url=url, cover=cover_name, cover_info=cover_info))
    build_date = max(i.updated for i in items)
    feed_path = out_dir / FEED_NAME
    atomic_write_bytes(feed_path, build_feed(
        channel, items, base_url=base, cover=cover_name, build_date=build_date))
    removed = _prune(out_dir, written)
    for warning in warnings:
        log.warning("%s", warning)
    log.info("published %d episodes (%d new) to %s", len(items), len(new_slugs), out_dir)
    return PublishResult(
        out_dir=out_dir, feed_path=feed_path, index_path=index_path, state_path=state_path,
        feed_url=url, podcast_guid=guid, episodes=tuple(items), new_slugs=tuple(new_slugs),
        copied_files=copied, removed_files=removed, warnings=tuple(warnings),
    )
