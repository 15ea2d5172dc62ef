"""Episode identity that survives republishing: GUID and first pubDate, kept in a state file.

The file sits beside the site (`site/` -> `site.state.json`), so wiping or re-uploading the
site keeps it. A new episode's GUID is a UUIDv5 of its slug in the channel's `podcast:guid`
namespace, so even a lost state file gives the same GUIDs back for an unchanged feed URL.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from innerchild_audio.atomic import atomic_write_text
from innerchild_audio.errors import PublishError
from innerchild_audio.publish.episodes import Episode

log = logging.getLogger(__name__)

STATE_VERSION: Final = 1
# Episodes first published in the same run are spaced this far apart, in episode order,
# so podcast apps (which sort by pubDate) list them in the intended order.
SAME_RUN_SPACING: Final = timedelta(seconds=1)


@dataclass(frozen=True)
class EpisodeRecord:
    guid: str
    published: datetime  # the first pubDate, UTC; never changes
    updated: datetime  # last time the rendered audio changed
    fingerprint: str


@dataclass(frozen=True)
class PublishState:
    episodes: dict[str, EpisodeRecord]


def default_state_path(out_dir: Path) -> Path:
    site = out_dir.absolute()
    return site.parent / f"{site.name}.state.json"


def utc_seconds(moment: datetime) -> datetime:
    """`moment` in UTC without microseconds (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def load_state(path: Path) -> PublishState:
    """The saved state; a missing file is an empty state, a damaged one an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PublishState(episodes={})
    hint = (f"state file {path} is damaged; restore it from a backup (deleting it gives "
            "episodes new publication dates)")
    try:
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise PublishError(f"{hint}: unknown version {data.get('version')!r}")
        episodes = {
            slug: EpisodeRecord(
                guid=str(item["guid"]),
                published=utc_seconds(datetime.fromisoformat(item["published"])),
                updated=utc_seconds(datetime.fromisoformat(item["updated"])),
                fingerprint=str(item.get("fingerprint", "")),
            )
            for slug, item in data["episodes"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PublishError(f"{hint} ({error})") from error
    return PublishState(episodes=episodes)


def save_state(path: Path, state: PublishState) -> None:
    data = {
        "version": STATE_VERSION,
        "episodes": {
            slug: {
                "guid": record.guid,
                "published": record.published.isoformat(),
                "updated": record.updated.isoformat(),
                "fingerprint": record.fingerprint,
            }
            for slug, record in sorted(state.episodes.items())
        },
    }
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def publication_order(episode: Episode) -> tuple[bool, int, bool, int, str]:
    """Season and episode number first (unnumbered last), then slug."""
    return (
        episode.season is None, episode.season or 0,
        episode.episode is None, episode.episode or 0,
        episode.slug,
    )


def assign_identities(
    state: PublishState, episodes: Sequence[Episode], *, now: datetime, channel_guid: str
) -> tuple[PublishState, list[str]]:
    """The state after publishing `episodes` at `now`, and the slugs published for the first time.

    Known episodes keep GUID and first pubDate; a changed one gets a new `updated` time only.
    Records of episodes no longer in the library are kept, so a returning episode keeps its GUID.
    """
    now = utc_seconds(now)
    namespace = uuid.UUID(channel_guid)
    records = dict(state.episodes)
    fresh = sorted((e for e in episodes if e.slug not in records), key=publication_order)
    for episode in episodes:
        record = records.get(episode.slug)
        if record is not None and record.fingerprint != episode.fingerprint:
            log.info("episode %s changed; it keeps its GUID %s", episode.slug, record.guid)
            records[episode.slug] = replace(record, updated=now, fingerprint=episode.fingerprint)
    for index, episode in enumerate(fresh):
        published = now - SAME_RUN_SPACING * (len(fresh) - 1 - index)
        records[episode.slug] = EpisodeRecord(
            guid=str(uuid.uuid5(namespace, episode.slug)),
            published=published,
            updated=published,
            fingerprint=episode.fingerprint,
        )
    return PublishState(episodes=records), [e.slug for e in fresh]
