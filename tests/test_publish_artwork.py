"""The cover each MP3 carries: the script's, else the podcast's, else the drawn one (APIC)."""

from __future__ import annotations

from pathlib import Path

from mutagen.id3 import ID3, PictureType
from PIL import Image
from publish_helpers import silent_mp3_bytes, write_podcast_yaml, write_session

from innerchild_audio.export import tags
from innerchild_audio.publish import load_channel, publish_site
from innerchild_audio.publish.artwork import session_cover


def _image(path: Path, colour: tuple[int, int, int], fmt: str, side: int = 1400) -> Path:
    Image.new("RGB", (side, side), colour).save(path, fmt)
    return path


def _embedded(tmp_path: Path, cover: tags.Cover) -> list:
    mp3 = tmp_path / "session.mp3"
    mp3.write_bytes(silent_mp3_bytes(40))
    tags.write_tags(mp3, tags.Tags(title="A Safe Place", artist="Inner Child Audio",
                                   album="Inner Child Sessions", year=2026, cover=cover))
    return ID3(mp3).getall("APIC")


def test_without_any_cover_the_mp3_carries_the_sites_drawn_cover(tmp_path: Path):
    podcast = write_podcast_yaml(tmp_path / "meditations")
    channel = load_channel(podcast)
    [picture] = _embedded(tmp_path, session_cover(None, channel))
    assert picture.type == PictureType.COVER_FRONT and picture.mime == "image/jpeg"
    write_session(tmp_path / "output", "a-safe-place", silent_mp3_bytes(40), title="A Safe Place")
    site = publish_site(tmp_path / "output", tmp_path / "site", channel_file=podcast,
                        base_url="https://example.org/pod").out_dir
    assert picture.data == (site / "cover.jpg").read_bytes()  # what apps show for the feed
    with Image.open(site / "cover.jpg") as image:
        assert image.size == (1400, 1400)


def test_the_podcasts_cover_then_the_scripts_take_precedence(tmp_path: Path):
    art = _image(tmp_path / "meditations-art.png", (20, 60, 120), "PNG")
    podcast = write_podcast_yaml(tmp_path, extra=f"cover: {art.name}\n")
    channel = load_channel(podcast)
    [from_podcast] = _embedded(tmp_path, session_cover(None, channel))
    assert (from_podcast.mime, from_podcast.data) == ("image/png", art.read_bytes())
    own = _image(tmp_path / "own.jpg", (200, 100, 50), "JPEG", side=600)
    [from_script] = _embedded(tmp_path, session_cover(own, channel))
    assert (from_script.mime, from_script.data) == ("image/jpeg", own.read_bytes())


def test_no_podcast_yaml_still_gets_a_drawn_cover(tmp_path: Path):
    cover = session_cover(None, None)
    [picture] = _embedded(tmp_path, cover)
    assert picture.data == cover.data and picture.data[:3] == b"\xff\xd8\xff"  # a JPEG
