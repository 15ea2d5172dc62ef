"""Valid scripts load into the model the format describes."""

from __future__ import annotations

import pytest

from innerchild_audio.model import Background, BackgroundChange, Bell, Breathe, Chapter, Pause, Say
from innerchild_audio.script import load_script
from innerchild_audio.units import format_duration, parse_duration_ms, parse_level_db

FULL = """
title: Meeting Your Child Self
description: |
  A gentle visualization.
author: Inner Child Audio
language: en-GB
content_warning: Memories may come up.
tags: [inner child, self-compassion]
episode: 3
season: 1
explicit: false
length: 12m
voice:
  engine: piper
  lang: en
  tld: co.uk
  model: joe
  rate: 0.85
  sentence_pause: 1.5s
  paragraph_pause: 3s
background:
  sound: brown-noise
  volume: -22 dB
  duck: 6 dB
  fade_in: 5s
  fade_out: 8s
vars:
  name: friend
steps:
  - chapter: Arriving
  - bell: {strikes: 1}
  - include: parts/open.yaml
  - say: |
      Welcome, {name}. {{braces}} stay.
      [pause 3s]
      Notice your breath.
  - breathe: {in: 4s, hold: 4s, out: 6s, cycles: 3, cues: voice}
  - breathe: {pattern: 4-7-8, cycles: 2, cues: tone}
  - breathe: {pattern: box, cues: none}
  - say: {text: Slowly now., voice: {rate: 0.7}}
  - pause: {min: 10s, max: 45s}
  - pause: {min: 10s, max: 45s, default: 20s}
  - repeat:
      times: 2
      steps:
        - say: You are safe now.
        - pause: 4s
  - background: {sound: drone, volume: -24}
  - background: none
  - bell: {strikes: 3, gap: 3s}
  - bell:
"""


def test_full_example_loads(write_script):
    write_script("title: Opening\nsteps:\n  - say: You can stop at any time.\n", "parts/open.yaml")
    path = write_script(FULL, "meeting.yaml")
    s = load_script(path, vars={"name": "Sam"})
    assert s.title == "Meeting Your Child Self"
    assert s.slug == "meeting"
    assert s.language == "en-GB" and s.episode == 3 and s.season == 1 and s.explicit is False
    assert s.length_ms == 12 * 60_000
    assert s.voice.engine == "piper" and s.voice.rate == 0.85 and s.voice.sentence_pause_ms == 1500
    assert s.background == Background("brown-noise", -22.0, 6.0, 5000, 8000)
    assert s.tags == ("inner child", "self-compassion")
    kinds = [type(x).__name__ for x in s.steps]
    assert kinds == ["Chapter", "Bell", "Say", "Say", "Breathe", "Breathe", "Breathe", "Say",
                     "Pause", "Pause", "Say", "Pause", "Say", "Pause", "BackgroundChange",
                     "BackgroundChange", "Bell", "Bell"]
    included, welcome = s.steps[2], s.steps[3]
    assert isinstance(included, Say) and included.text == "You can stop at any time."
    assert isinstance(welcome, Say) and welcome.text.startswith("Welcome, Sam. {braces} stay.")
    b478 = s.steps[5]
    assert isinstance(b478, Breathe)
    assert (b478.in_ms, b478.hold_ms, b478.out_ms) == (4000, 7000, 8000)
    assert b478.cues == "tone" and b478.cycles == 2
    box = s.steps[6]
    assert isinstance(box, Breathe) and box.hold_out_ms == 4000 and box.cycles == 3
    slow = s.steps[7]
    assert isinstance(slow, Say) and slow.voice.rate == 0.7 and slow.voice.engine == "piper"
    elastic = s.steps[8]
    assert isinstance(elastic, Pause) and elastic.default_ms == 10_000 and elastic.is_elastic
    assert isinstance(s.steps[9], Pause) and s.steps[9].default_ms == 20_000
    change = s.steps[14]
    assert isinstance(change, BackgroundChange) and change.background is not None
    assert change.background.sound == "drone" and change.background.volume_db == -24
    assert change.background.duck_db == 6.0  # carried over from the script's bed
    stop = s.steps[15]
    assert isinstance(stop, BackgroundChange) and stop.background is None
    assert isinstance(s.steps[16], Bell) and s.steps[16].strikes == 3
    assert isinstance(s.steps[17], Bell) and s.steps[17].strikes == 1
    assert isinstance(s.steps[0], Chapter)
    assert [p.name for p in s.files] == ["meeting.yaml", "open.yaml"]
    assert s.steps[2].source.file.name == "open.yaml" and s.steps[2].source.line == 3


def test_defaults(write_script):
    s = load_script(write_script("title: Short\nsteps:\n  - say: Hi.\n", "My File_v2.yaml"))
    assert s.slug == "my-file-v2"
    assert s.background is None and s.length_ms is None and s.language == "en"
    assert s.voice.engine == "auto" and s.voice.tld == "co.uk" and s.voice.rate == 0.9


def test_safe_load_semantics_numbers_become_text_where_text_is_wanted(write_script):
    s = load_script(write_script("title: 2024\nsteps:\n  - say: 42\n"))
    assert s.title == "2024"
    assert isinstance(s.steps[0], Say) and s.steps[0].text == "42"


def test_sound_file_and_cover_resolve_against_the_script(write_script, tmp_path):
    lib = tmp_path / "library"
    (lib / "assets").mkdir(parents=True)
    (lib / "assets" / "bowl.wav").write_bytes(b"RIFF")
    (lib / "assets" / "art.png").write_bytes(b"\x89PNG")
    s = load_script(write_script(
        "title: T\ncover: assets/art.png\nbackground: assets/bowl.wav\nsteps:\n"
        "  - say: Hi.\n  - sound: {file: assets/bowl.wav, volume: -6 dB}\n"
        "  - bell: {sound: assets/bowl.wav}\n"))
    assert s.cover == lib / "assets" / "art.png"
    assert s.background is not None and s.background.sound == str(lib / "assets" / "bowl.wav")
    assert set(s.assets) == {lib / "assets" / "bowl.wav", lib / "assets" / "art.png"}


@pytest.mark.parametrize(("text", "ms"), [("500ms", 500), ("4s", 4000), ("1.5s", 1500),
                                          ("2m", 120_000), ("1m30s", 90_000),
                                          ("1h", 3_600_000), (3, 3000), (2.5, 2500),
                                          ("7", 7000)])
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(("text", "db"), [("-20 dB", -20.0), ("-20dB", -20.0), (-6, -6.0),
                                          ("-3.5", -3.5)])
def test_levels(text, db):
    assert parse_level_db(text) == db


@pytest.mark.parametrize(("ms", "text"), [(580_000, "9m40s"), (1_265_000, "21m05s"),
                                          (600_000, "10m"), (4500, "4.5s"),
                                          (3_725_000, "1h02m05s")])
def test_format_duration(ms, text):
    assert format_duration(ms) == text
