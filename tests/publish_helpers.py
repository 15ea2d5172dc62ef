"""Fake rendered sessions for the publish and serve tests (real MP3s, files per interfaces.md)."""

from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from mutagen.mp3 import MP3

SAMPLE_RATE = 44100
_FRAME_SAMPLES = 1152
# One MPEG-1 Layer III frame, 96 kbps, 44.1 kHz, mono, no padding: header + zeroed side
# info and main data, which decoders play as silence. Byte-exact on every machine.
_SILENT_FRAME = bytes([0xFF, 0xFB, 0x70, 0xC0]) + bytes(313 - 4)


def sine_mp3(path: Path, seconds: float = 2.0, frequency_hz: int = 440) -> Path:
    """A real MP3 encoded by ffmpeg: 44.1 kHz mono 96 kbps CBR."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"sine=frequency={frequency_hz}:duration={seconds}",
         "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", str(path)],
        check=True,
    )
    return path


def silent_mp3_bytes(frames: int) -> bytes:
    """A byte-stable MP3 (no encoder involved) of `frames` frames of 1152 samples."""
    return _SILENT_FRAME * frames


def silent_mp3_duration_s(frames: int) -> float:
    return frames * _FRAME_SAMPLES / SAMPLE_RATE


def mp3_duration_s(path: Path) -> float:
    return float(MP3(path).info.length)


def write_session(
    folder: Path,
    slug: str,
    audio: Path | bytes,
    *,
    title: str,
    description: str = "",
    content_warning: str = "",
    episode: int | None = None,
    season: int | None = None,
    chapters: list[tuple[float, str]] | None = None,
    cover: Path | None = None,
    inputs_hash: str = "0" * 64,
    duration_s: float | None = None,
    **extra: Any,
) -> Path:
    """Write {slug}.mp3/.vtt/.srt/.chapters.json/.manifest.json as the render stage would."""
    folder.mkdir(parents=True, exist_ok=True)
    mp3 = folder / f"{slug}.mp3"
    mp3.write_bytes(audio if isinstance(audio, bytes) else audio.read_bytes())
    duration_s = round(mp3_duration_s(mp3) if duration_s is None else duration_s, 3)
    chapters = chapters if chapters is not None else [(0.0, "Arriving"), (1.0, "Resting")]
    (folder / f"{slug}.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nWelcome.\n", encoding="utf-8")
    (folder / f"{slug}.srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,000\nWelcome.\n", encoding="utf-8")
    (folder / f"{slug}.chapters.json").write_text(json.dumps({
        "version": "1.2.0",
        "chapters": [{"startTime": start, "title": name} for start, name in chapters],
    }), encoding="utf-8")
    cover_name = None
    if cover is not None:
        cover_name = f"{slug}.cover{cover.suffix}"
        (folder / cover_name).write_bytes(cover.read_bytes())
    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "slug": slug, "title": title, "description": description, "author": "Inner Child Audio",
        "language": "en", "content_warning": content_warning, "tags": ["inner child"],
        "episode": episode, "season": season, "explicit": False,
        "files": {"audio": mp3.name, "vtt": f"{slug}.vtt", "srt": f"{slug}.srt",
                  "chapters": f"{slug}.chapters.json", "cover": cover_name},
        "audio": {"bytes": mp3.stat().st_size, "duration_s": duration_s,
                  "sample_rate": SAMPLE_RATE, "channels": 1, "bitrate_kbps": 96,
                  "loudness_lufs": -19.0, "true_peak_dbtp": -1.5},
        "engine": "piper", "voice": {"model": "joe"},
        "chapters": [{"start_s": start, "title": name} for start, name in chapters],
        "inputs_hash": inputs_hash, "inputs": {},
        "options": {}, "rendered_at": "2026-11-27T13:00:00+00:00",
        "generator": "innerchild-audio 0.1.0",
    }
    manifest.update(extra)
    path = folder / f"{slug}.manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# The channel's care text, once in its description; each episode gets the short CARE line.
CARE_TEXT = ("These are self-care practices, not a substitute for therapy. If you are in "
             "crisis, contact your local emergency number or a crisis line.")
CARE = "Self-care, not therapy. In crisis? Call your local emergency number."
PEOPLE = (("Sam Lee & Co", "host", "https://example.org/sam", "https://example.org/sam.jpg"),
          ("Robin <Voice>", "narrator", None, None))
LICENSE = ("CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/")
FUNDING = ("https://example.org/support?via=feed&x=1", "Support the show & its care")


def write_podcast_yaml(folder: Path, text: str | None = None, *, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "podcast.yaml"
    (sam, sam_role, sam_href, sam_img), (robin, robin_role, _, _) = PEOPLE
    path.write_text(text if text is not None else (
        "title: Inner Child Sessions\n"
        "description: |\n"
        "  Gentle guided meditations for meeting the child you once were.\n\n"
        f"  {CARE_TEXT}\n"
        "author: Inner Child Audio\n"
        "language: en\n"
        "category: Health & Fitness\n"
        "subcategory: Mental Health\n"
        "explicit: false\n"
        "owner_email: hello@example.com\n"
        f"care_note: '{CARE}'\n"
        "people:\n"
        f"  - {{name: '{sam}', role: {sam_role}, href: '{sam_href}', img: '{sam_img}'}}\n"
        f"  - {{name: '{robin}', role: {robin_role}}}\n"
        f"license: {{name: {LICENSE[0]}, url: '{LICENSE[1]}'}}\n"
        f"funding: {{url: '{FUNDING[0]}', text: '{FUNDING[1]}'}}\n"
        + extra
    ), encoding="utf-8")
    return path


# Text that must come through the feed and the page escaped and intact.
TRICKY_TITLE = "Tea & <Biscuits> \"quoted\" 'single' 🌱 café"
TRICKY_NOTES = (
    "Notes with & and <b>not bold</b>, \"double\" and 'single' quotes, emoji 🧸.\n\n"
    "A second paragraph: 5 < 6 & 7 > 3."
)
TRICKY_WARNING = "Memories & feelings <may> surface 💛"
EPISODE_SLUGS = ("meeting-your-child-self", "a-safe-place", "three-minute-reset")


def build_library(root: Path, audio: Path | bytes) -> tuple[Path, Path]:
    """Three rendered sessions in root/output and a podcast.yaml in root/meditations."""
    rendered = root / "output"
    write_session(
        rendered, "meeting-your-child-self", audio, title="Meeting Your Child Self",
        description="A gentle visualization for meeting the child you once were.",
        content_warning="Childhood memories may come up.", episode=1, season=1,
        chapters=[(0.0, "Arriving"), (0.5, "Meeting your child self"), (1.25, "Returning")],
    )
    write_session(
        rendered, "a-safe-place", audio, title=TRICKY_TITLE, description=TRICKY_NOTES,
        content_warning=TRICKY_WARNING, episode=2, season=1,
        chapters=[(0.0, "Start & <begin>")],
    )
    # Notes that still repeat the channel's care text: the repeat is left out of the feed.
    write_session(rendered, "three-minute-reset", audio, title="Three-Minute Reset",
                  description=f"A short reset for a hard moment.\n\n{CARE_TEXT}")
    return rendered, write_podcast_yaml(root / "meditations")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(fragment: str) -> str:
    """The text a reader sees in an HTML description: paragraphs apart by a blank line."""
    parser = _TextOf()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)
