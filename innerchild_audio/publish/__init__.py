"""Publish: rendered sessions to a static podcast site (feed.xml, episodes, index.html)."""

from innerchild_audio.publish.channel import Channel, load_channel
from innerchild_audio.publish.cover import CoverInfo, cover_problems, generate_cover
from innerchild_audio.publish.episodes import Episode, EpisodeChapter, load_episode, load_episodes
from innerchild_audio.publish.feed import build_feed
from innerchild_audio.publish.published import PublishedEpisode
from innerchild_audio.publish.site import PublishResult, publish_site
from innerchild_audio.publish.state import default_state_path, load_state
from innerchild_audio.publish.urls import normalize_base_url, podcast_guid

__all__ = [
    "Channel", "EpisodeChapter", "CoverInfo", "Episode", "PublishResult", "PublishedEpisode",
    "build_feed", "cover_problems", "default_state_path", "generate_cover", "load_channel",
    "load_episodes", "load_state", "normalize_base_url", "podcast_guid", "publish_site",
    "load_episode",
]
