"""ID3v2.4 tags, cover and chapters, read back from the file with mutagen."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags, PictureType
from mutagen.mp3 import MP3
from PIL import Image

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.errors import RenderError
from innerchild_audio.export import mp3, tags

RATE = 44100


def png_bytes(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 120, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def silent_mp3(tmp_path: Path) -> Path:
    out = tmp_path / "s.mp3"
    mp3.encode_mp3(np.zeros((RATE * 30, 1), np.float32), RATE, out, bitrate_kbps=96)
    return out


def sample_tags(**changes: object) -> tags.Tags:
    values: dict[str, object] = dict(
        title="Meeting Your Child Self", artist="Inner Child Audio", album="My Podcast",
        year=2026, comment="A gentle visualization.\nSecond line.", language="en-GB",
        track=3, disc=1, encoder="innerchild-audio 0.1.0",
        cover=tags.Cover(png_bytes(), "image/png"),
        chapters=tags.chapter_spans([(0, "Arriving"), (12_500, "Meeting"), (21_000, "Closing")],
                                    30_000),
    )
    values.update(changes)
    return tags.Tags(**values)  # type: ignore[arg-type]


def test_text_frames_read_back(silent_mp3: Path) -> None:
    tags.write_tags(silent_mp3, sample_tags())
    id3 = ID3(silent_mp3)
    assert id3.version == (2, 4, 0)
    assert id3["TIT2"].text == ["Meeting Your Child Self"]
    assert id3["TPE1"].text == ["Inner Child Audio"]
    assert id3["TALB"].text == ["My Podcast"]
    assert id3["TCON"].text == ["Podcast"]
    assert str(id3["TDRC"].text[0]) == "2026"
    assert id3["TLAN"].text == ["eng"]
    assert id3["TRCK"].text == ["3"]
    assert id3["TPOS"].text == ["1"]
    comments = id3.getall("COMM")
    assert len(comments) == 1
    assert comments[0].lang == "eng"
    assert comments[0].text == ["A gentle visualization.\nSecond line."]


def test_cover_is_embedded_as_front_cover(silent_mp3: Path) -> None:
    cover = png_bytes(80)
    tags.write_tags(silent_mp3, sample_tags(cover=tags.Cover(cover, "image/png")))
    pictures = ID3(silent_mp3).getall("APIC")
    assert len(pictures) == 1
    assert pictures[0].type == PictureType.COVER_FRONT
    assert pictures[0].mime == "image/png"
    assert pictures[0].data == cover
    with Image.open(io.BytesIO(pictures[0].data)) as image:
        assert image.size == (80, 80)


def test_chapters_and_ordered_top_level_toc(silent_mp3: Path) -> None:
    tags.write_tags(silent_mp3, sample_tags())
    id3 = ID3(silent_mp3)
    tocs = id3.getall("CTOC")
    assert len(tocs) == 1
    toc = tocs[0]
    assert toc.flags & CTOCFlags.TOP_LEVEL
    assert toc.flags & CTOCFlags.ORDERED
    chapters = [id3[f"CHAP:{element}"] for element in toc.child_element_ids]
    got = [(c.start_time, c.end_time, c.sub_frames["TIT2"].text[0]) for c in chapters]
    assert got == [(0, 12_500, "Arriving"), (12_500, 21_000, "Meeting"),
                   (21_000, 30_000, "Closing")]


def test_no_chapters_no_toc_no_cover(silent_mp3: Path) -> None:
    tags.write_tags(silent_mp3, sample_tags(chapters=(), cover=None, comment="", artist=""))
    id3 = ID3(silent_mp3)
    assert not id3.getall("CTOC") and not id3.getall("CHAP")
    assert not id3.getall("APIC") and not id3.getall("COMM") and not id3.getall("TPE1")


def test_audio_is_untouched_by_tagging(silent_mp3: Path) -> None:
    tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(RATE * 5) / RATE)).astype(np.float32)
    mp3.encode_mp3(tone, RATE, silent_mp3, bitrate_kbps=96)
    before = decode_mp3(silent_mp3)
    tags.write_tags(silent_mp3, sample_tags())
    after = decode_mp3(silent_mp3)
    assert np.array_equal(before, after)
    assert MP3(silent_mp3).info.sample_rate == RATE


def test_unicode_survives(silent_mp3: Path) -> None:
    tags.write_tags(silent_mp3, sample_tags(title="Ein sicherer Ort — für dich", language="de",
                                            chapters=tags.chapter_spans([(0, "Ankommen ☀")],
                                                                        30_000)))
    id3 = ID3(silent_mp3)
    assert id3["TIT2"].text == ["Ein sicherer Ort — für dich"]
    assert id3["TLAN"].text == ["ger"]
    assert id3["CHAP:chp0"].sub_frames["TIT2"].text == ["Ankommen ☀"]


@pytest.mark.parametrize(("tag", "code"), [("en", "eng"), ("en-US", "eng"), ("fr-CA", "fre"),
                                           ("pt_BR", "por"), ("haw", "haw"), ("xx", "und"),
                                           ("", "und")])
def test_id3_language(tag: str, code: str) -> None:
    assert tags.id3_language(tag) == code


def test_chapter_spans_run_to_the_next_start() -> None:
    spans = tags.chapter_spans([(0, "a"), (5000, "b")], 9000)
    assert spans == (tags.ChapterSpan(0, 5000, "a"), tags.ChapterSpan(5000, 9000, "b"))


def test_tagging_a_missing_file_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="ID3"):
        tags.write_tags(tmp_path / "no-folder" / "a.mp3", sample_tags())
