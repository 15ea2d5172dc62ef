"""WebVTT and SRT transcripts: cue times from the timeline, line limits, splitting."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from innerchild_audio.export import chapters, transcripts
from innerchild_audio.model import Source, Voice
from innerchild_audio.timeline import (
    ChapterMark,
    SilenceEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
)

SRC = Source(Path("s.yaml"), 1, 1)
LONG = ("Let yourself settle into the place where you are sitting, noticing the weight of "
        "your body and the gentle rhythm of your breathing as it slows down.")


def timeline_of(*speech: tuple[int, int, str], total_ms: int = 60_000) -> Timeline:
    events = [SpeechEvent(start, dur, SpeechRequest(text, Voice()), SRC)
              for start, dur, text in speech]
    events.append(SilenceEvent(total_ms - 1000, 1000, "pause", SRC))
    return Timeline(events=tuple(sorted(events, key=lambda e: e.start_ms)),
                    chapters=(ChapterMark(0, "Arriving"), ChapterMark(30_500, "Leaving")),
                    beds=(), total_ms=total_ms, min_total_ms=total_ms, max_total_ms=total_ms)


TIMELINE = timeline_of((1000, 2500, "Welcome, friend."), (5700, 9100, LONG),
                       (3_600_000 + 61_234, 999, "Past & <present>."), total_ms=3_700_000)

_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d)[.,](\d{3}) --> (\d\d):(\d\d):(\d\d)[.,](\d{3})$")


def parse(text: str) -> list[tuple[int, int, list[str]]]:
    """Cues as (start_ms, end_ms, lines), read back the way a player does."""
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        if lines[0] == "WEBVTT":
            continue
        match = _TIMING.match(lines[1])
        assert match, lines
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        start = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
        cues.append((start, end, lines[2:]))
    return cues


def test_vtt_cue_times_equal_speech_times() -> None:
    text = transcripts.webvtt(TIMELINE)
    assert text.startswith("WEBVTT\n\n")
    cues = parse(text)
    speech = TIMELINE.speech
    assert [(s, e) for s, e, _ in cues] == [(x.start_ms, x.start_ms + x.duration_ms)
                                            for x in speech]
    assert " ".join(cues[1][2]) == LONG
    assert all(len(line) <= 65 for _, _, lines in cues for line in lines)
    assert "01:01:01.234 --> 01:01:02.233" in text
    assert cues[2][2] == ["Past &amp; &lt;present&gt;."]


def test_srt_splits_long_sentences_with_proportional_times() -> None:
    cues = parse(transcripts.srt(TIMELINE))
    assert cues[0] == (1000, 3500, ["Welcome, friend."])
    long = [c for c in cues if 5700 <= c[0] < 14_800]
    assert len(long) > 1
    # together the pieces span the sentence exactly, back to back
    assert long[0][0] == 5700 and long[-1][1] == 5700 + 9100
    assert all(a[1] == b[0] for a, b in zip(long, long[1:], strict=False))
    assert " ".join(" ".join(lines) for _, _, lines in long) == LONG
    # and each piece's share of the time follows its share of the characters
    total_chars = sum(sum(len(line) for line in lines) for _, _, lines in long)
    for start, end, lines in long:
        share = sum(len(line) for line in lines) / total_chars
        assert abs((end - start) - 9100 * share) <= 1
    assert all(len(lines) <= 2 and all(len(line) <= 32 for line in lines)
               for _, _, lines in cues)
    assert cues[-1][:2] == (3_661_234, 3_662_233)
    srt_text = transcripts.srt(TIMELINE)
    assert srt_text.startswith("1\n00:00:01,000 --> 00:00:03,500\nWelcome, friend.\n\n2\n")


def test_no_speech_gives_an_empty_but_valid_transcript() -> None:
    empty = timeline_of()
    assert transcripts.webvtt(empty) == "WEBVTT\n"
    assert transcripts.srt(empty) == ""


words = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P")),
                min_size=1, max_size=40)


@given(st.lists(words, min_size=1, max_size=60), st.integers(0, 10_000_000),
       st.integers(1, 60_000))
def test_srt_limits_hold_for_any_sentence(parts: list[str], start: int, duration: int) -> None:
    sentence = " ".join(parts)
    cues = transcripts.srt_cues(timeline_of((start, duration, sentence),
                                            total_ms=start + duration + 2000))
    assert cues[0].start_ms == start and cues[-1].end_ms == start + duration
    assert all(a.end_ms == b.start_ms for a, b in zip(cues, cues[1:], strict=False))
    assert all(c.start_ms <= c.end_ms for c in cues)
    assert all(len(c.lines) <= 2 and all(0 < len(x) <= 32 for x in c.lines) for c in cues)
    assert "".join("".join(c.lines) for c in cues).replace(" ", "") == "".join(sentence.split())


def test_chapters_json() -> None:
    document = chapters.chapters_document(TIMELINE)
    assert document == {"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Arriving"}, {"startTime": 30.5, "title": "Leaving"}]}
    assert chapters.chapters_json(TIMELINE).endswith("\n")


def test_srt_pieces_are_evenly_filled() -> None:
    sentence = "Let your shoulders soften, and let your breath slow down by itself."
    groups = transcripts.srt_groups(sentence)
    assert len(groups) == 2  # 67 characters: two cues, not three
    sizes = [sum(len(line) for line in lines) for lines in groups]
    assert min(sizes) > len(sentence) / 3  # no lonely last word
    assert transcripts.srt_groups("Thank you for being here with me today.") == [
        ["Thank you for being", "here with me today."]]
    unbroken = transcripts.srt_groups("x" * 70)  # a word longer than a line is cut
    assert len(unbroken) == 2 and "".join("".join(g) for g in unbroken) == "x" * 70
