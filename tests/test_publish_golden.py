"""The feed byte for byte against tests/golden/feed.xml.

Audio is built frame by frame (no encoder, no decoder), so byte counts and durations are the
same on every machine.
After an intended change to the feed, regenerate with INNERCHILD_UPDATE_GOLDEN=1 and review
the diff.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from publish_helpers import (
    TRICKY_NOTES,
    TRICKY_TITLE,
    TRICKY_WARNING,
    silent_mp3_bytes,
    silent_mp3_duration_s,
    write_podcast_yaml,
    write_session,
)

from innerchild_audio.publish import generate_cover, publish_site

GOLDEN = Path(__file__).parent / "golden" / "feed.xml"
NOW = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)


def _publish(root: Path) -> bytes:
    rendered = root / "output"
    cover = root / "art.jpg"
    cover.write_bytes(generate_cover("Meeting Your Child Self"))
    write_session(rendered, "meeting-your-child-self", silent_mp3_bytes(96), cover=cover,
                  duration_s=silent_mp3_duration_s(96),
                  title="Meeting Your Child Self",
                  description="A gentle visualization.\nFor meeting the child you once were."
                              "\n\nNot a substitute for therapy.",
                  content_warning="Childhood memories may come up.", episode=1, season=1,
                  chapters=[(0.0, "Arriving"), (1.0, "Meeting your child self")])
    write_session(rendered, "a-safe-place", silent_mp3_bytes(77), title=TRICKY_TITLE,
                  duration_s=silent_mp3_duration_s(77),
                  description=TRICKY_NOTES, content_warning=TRICKY_WARNING, episode=2, season=1)
    write_session(rendered, "three-minute-reset", silent_mp3_bytes(40),
                  duration_s=silent_mp3_duration_s(40),
                  title="Three-Minute Reset", chapters=[])
    podcast = write_podcast_yaml(root / "meditations", (
        "title: Inner Child Sessions\n"
        "description: |\n"
        "  Gentle guided meditations & quiet company.\n\n"
        "  Not a substitute for therapy.\n"
        "author: Inner Child Audio\n"
        "category: [Health & Fitness, Mental Health]\n"
        "owner_email: hello@example.com\n"
        "base_url: https://podcast.example.org/inner-child/\n"
        "link: https://example.org/\n"
        "care_note: Self-care, not therapy. In crisis? Call your local emergency number.\n"
        "people: [{name: Sam & Robin, role: host, href: 'https://example.org/team'}]\n"
        "license: cc-by-nc-4.0\n"
        "funding: {url: 'https://example.org/give?a=1&b=2', text: Support the show}\n"
    ))
    result = publish_site(rendered, root / "site", channel_file=podcast, now=NOW)
    return result.feed_path.read_bytes()


def test_feed_matches_the_golden_file(tmp_path: Path):
    feed = _publish(tmp_path)
    if os.environ.get("INNERCHILD_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(feed)
    assert feed.decode("utf-8") == GOLDEN.read_text(encoding="utf-8")
