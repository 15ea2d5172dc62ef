"""What every session of the library says, and how little of it repeats.

Spoken text is read from the planned timeline (includes expanded, the content
warning spoken), so these checks hear what a listener hears.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from itertools import combinations
from pathlib import Path
from typing import Final

import pytest
from click.testing import CliRunner

from innerchild_audio.cli import main
from innerchild_audio.library import find_scripts
from innerchild_audio.model import Say, Script
from innerchild_audio.plan import plan_script
from innerchild_audio.script import load_script
from innerchild_audio.sentences import split_sentences
from innerchild_audio.timeline import BellEvent, SilenceEvent, SpeechEvent, Timeline

ROOT: Final = Path(__file__).resolve().parent.parent
LIBRARY: Final = ROOT / "meditations"
NAMES: Final = tuple(p.stem for p in find_scripts(LIBRARY))
MINUTE_MS: Final = 60_000
SLEEP: Final = "a-bedtime-for-your-younger-self"
RESET: Final = "three-minute-reset"
# Lengths each session is made to reach; the rest reach 5, 10 and 20 minutes.
LENGTHS: Final = {
    "a-letter-to-your-younger-self": (15, 20, 30),
    SLEEP: (15, 20, 30),
    "aftercare-after-a-hard-session": (4, 5, 7),
    RESET: (3,),
}
THERAPY: Final = re.compile(r"(not a substitute for|no substitute for|does not replace"
                            r"|no replacement for) therapy", re.IGNORECASE)
DANGER: Final = re.compile(r"\b(in danger|not safe)\b.*\b(harming|hurting|ending your life)\b",
                           re.IGNORECASE)
EXIT: Final = re.compile(r"open your eyes.*\b(feet|floor|breath|breathe|breathing|blanket)\b",
                         re.IGNORECASE)
# Noticing the body, and the hard images some sessions turn toward.
TRIGGERS: Final = re.compile(r"\b(notice|noticing|where)\b.*\byour (own )?(body|chest|belly|"
                             r"stomach|throat|jaw|shoulders)\b|\b(notice|noticing)\b.*\b(the )?"
                             r"(stomach|throat|chest)\b|\b(hiding|crying|heavy bag|not protected|"
                             r"grows too heavy|stirs|came toward them)\b", re.IGNORECASE)
FRAME: Final = re.compile(r"parts/(opening|closing)[\w-]*\.yaml$")


@functools.cache
def load_report():  # type: ignore[no-untyped-def]
    """scripts/library_report.py, whose figures these tests hold to their aims."""
    spec = importlib.util.spec_from_file_location("library_report",
                                                  ROOT / "scripts" / "library_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@functools.cache
def script(name: str) -> Script:
    return load_script(LIBRARY / f"{name}.yaml")


@functools.cache
def planned(name: str, warnings: bool = True) -> Timeline:
    return plan_script(script(name), warnings=warnings)


def spoken(name: str) -> list[SpeechEvent]:
    return [e for e in planned(name).speech if not e.cue]


def text_of(events: list[SpeechEvent]) -> str:
    return " ".join(e.request.text for e in events)


def last_chapter_speech(name: str) -> list[SpeechEvent]:
    timeline = planned(name)
    start = timeline.chapters[-1].start_ms
    return [e for e in spoken(name) if e.start_ms >= start]


def frame(name: str) -> tuple[str | None, str | None]:
    """The opening and closing parts a session includes (None where it speaks its own)."""
    text = (LIBRARY / f"{name}.yaml").read_text(encoding="utf-8")
    openings = re.findall(r"include: (parts/opening[\w-]*\.yaml)", text)
    closings = re.findall(r"include: (parts/closing[\w-]*\.yaml)", text)
    assert len(openings) <= 1 and len(closings) <= 1
    return (openings[0] if openings else None, closings[0] if closings else None)


sessions = pytest.mark.parametrize("name", NAMES)


def test_the_library_holds_seventeen_sessions_over_two_seasons() -> None:
    assert len(NAMES) >= 17
    seasons = {(script(n).season, script(n).episode) for n in NAMES}
    assert len(seasons) == len(NAMES)  # no episode number twice in a season
    assert sum(1 for n in NAMES if script(n).season == 2) >= 8


@sessions
def test_every_session_has_its_metadata(name: str) -> None:
    loaded = script(name)
    assert loaded.description.strip() and loaded.tags
    assert loaded.season in (1, 2) and loaded.episode is not None
    assert loaded.length_ms is not None


@sessions
def test_orientation_and_the_therapy_line_come_first(name: str) -> None:
    opening = [e for e in spoken(name) if e.start_ms < 90_000]
    text = text_of(opening)
    assert "open your eyes" in text.lower() and "stop" in text.lower()
    assert THERAPY.search(text)


@sessions
def test_a_crisis_pointer_is_spoken(name: str) -> None:
    # The sleep session speaks it early, before the listener drifts off; the rest near the end.
    events = spoken(name) if name == SLEEP else last_chapter_speech(name)
    sentences = [e.request.text for e in events]
    hits = [i for i, s in enumerate(sentences) if DANGER.search(s)]
    assert hits, f"{name}: no crisis pointer"
    pointer = " ".join(sentences[hits[0]:hits[0] + 2])
    assert "emergency" in pointer and "crisis line" in pointer and "show notes" in pointer


def last_step(timeline):
    """The last event the script's own steps made (the bed's tail after it is spacing)."""
    return next(e for e in reversed(timeline.events)
                if not (isinstance(e, SilenceEvent) and e.reason == "tail"))


@pytest.mark.parametrize("name", [n for n in NAMES if n != SLEEP])
def test_sessions_return_gently_to_the_room(name: str) -> None:
    ending = text_of(last_chapter_speech(name)).lower()
    assert "open your eyes" in ending or "eyes rest on the room" in ending
    assert "room" in ending
    timeline = planned(name)
    assert isinstance(last_step(timeline), BellEvent)  # a soft bell to finish, then the tail


@sessions
def test_every_spoken_sentence_is_at_most_25_words(name: str) -> None:
    assert [e.request.text for e in planned(name).speech if len(e.request.text.split()) > 25] == []


def test_closings_do_not_assume_it_is_daytime() -> None:
    for part in (LIBRARY / "parts").glob("closing*.yaml"):
        text = " ".join(s.text for s in load_script(part).steps if isinstance(s, Say)).lower()
        assert not re.search(r"\b(get up|today|this afternoon|morning|the day ahead)\b", text)


def test_the_sleep_session_fades_out_with_no_return_and_no_bell() -> None:
    loaded = script(SLEEP)
    assert frame(SLEEP)[1] is None
    for minutes in LENGTHS[SLEEP]:
        timeline = plan_script(loaded, target_ms=minutes * MINUTE_MS)
        last = last_step(timeline)
        assert isinstance(last, SilenceEvent) and last.duration_ms >= 4 * MINUTE_MS
        speech_end = max(e.start_ms + e.duration_ms for e in timeline.speech)
        assert not any(isinstance(e, BellEvent) and e.start_ms > speech_end
                       for e in timeline.events)
    ending = text_of(last_chapter_speech(SLEEP)).lower()
    assert "room" not in ending and "open your eyes" not in ending
    assert loaded.background is not None and loaded.background.fade_out_ms >= 2 * MINUTE_MS


@sessions
def test_the_content_warning_is_spoken_first_where_set(name: str) -> None:
    warning = script(name).content_warning.strip()
    if not warning:
        return
    expected = split_sentences(" ".join(warning.split()))
    first = [e.request.text for e in planned(name).speech[:len(expected)]]
    assert first == expected
    quiet = [e.request.text for e in planned(name, warnings=False).speech]
    assert quiet[:len(expected)] != expected


def test_no_two_sessions_share_an_opening_and_closing_pair() -> None:
    pairs = {name: frame(name) for name in NAMES}
    assert len(set(pairs.values())) == len(pairs), pairs
    openings = {o for o, _ in pairs.values() if o}
    closings = {c for _, c in pairs.values() if c}
    assert len(openings) >= 3 and len(closings) >= 3


def test_opening_and_closing_variants_differ_in_words() -> None:
    parts = sorted((LIBRARY / "parts").glob("*.yaml"))
    variants = [p for p in parts if FRAME.search(p.as_posix())]
    said = {p.name: {" ".join(s.lower().split()) for step in load_script(p).steps
                     if isinstance(step, Say) for s in split_sentences(step.text)}
            for p in variants}
    for a, b in combinations(said, 2):
        assert not said[a] & said[b], (a, b, said[a] & said[b])
    for p in variants:
        if p.name.startswith("closing"):
            text = " ".join(said[p.name])
            assert DANGER.search(text) and "crisis line" in text and "show notes" in text


@sessions
def test_an_exit_is_offered_where_the_body_or_hard_images_come_in(name: str) -> None:
    # The way out sits in the same `say` as the trigger, or in the one just before or after.
    loaded = script(name)
    says = [s for s in loaded.steps if isinstance(s, Say) and s.source.file == loaded.path]
    exits = {i for i, s in enumerate(says) if any(EXIT.search(x) for x in split_sentences(s.text))}
    for i, say in enumerate(says):
        if any(TRIGGERS.search(x) for x in split_sentences(say.text)):
            assert exits & {i - 1, i, i + 1}, (
                f"{name}: {say.text.splitlines()[0]!r} has no way out beside it")


def test_consoling_fear_offers_a_way_out_at_the_hiding_picture() -> None:
    says = [s for s in script("consoling-fear").steps if isinstance(s, Say)]
    hiding = next(i for i, s in enumerate(says) if "hiding" in s.text)
    assert EXIT.search(says[hiding + 1].text)
    body = next(i for i, s in enumerate(says) if "your own body" in s.text)
    assert body > hiding + 1  # the way out comes before the body is noticed


def test_the_reset_helps_within_its_first_ten_seconds() -> None:
    early = [e for e in spoken(RESET) if e.start_ms < 10_000]
    assert any(re.search(r"\b(feet|breathe|breath)\b", e.request.text) for e in early)


@pytest.mark.parametrize("name", [n for n in NAMES if planned(n).total_ms == 10 * MINUTE_MS])
def test_a_ten_minute_opening_speaks_at_most_a_minute(name: str) -> None:
    timeline = planned(name)
    arrived = timeline.chapters[1].start_ms
    assert sum(e.duration_ms for e in timeline.speech if e.start_ms < arrived) <= MINUTE_MS


@pytest.mark.parametrize(("name", "minutes"), [(n, m) for n in NAMES
                                               for m in LENGTHS.get(n, (5, 10, 20))])
def test_every_session_reaches_its_stated_lengths_exactly(name: str, minutes: int) -> None:
    timeline = plan_script(script(name), target_ms=minutes * MINUTE_MS)
    assert timeline.total_ms == minutes * MINUTE_MS
    last = timeline.events[-1]
    assert last.start_ms + last.duration_ms == timeline.total_ms


@pytest.mark.parametrize("name", [SLEEP, "aftercare-after-a-hard-session"])
def test_the_sleep_and_aftercare_sessions_state_their_lengths(name: str) -> None:
    notes = " ".join(script(name).description.split())
    for minutes in LENGTHS[name]:
        assert str(minutes) in notes


def test_plan_length_on_the_command_line_lands_exactly() -> None:
    result = CliRunner().invoke(main, ["plan", str(LIBRARY / f"{SLEEP}.yaml"),
                                       "--length", "30m", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total_ms"] == 30 * MINUTE_MS


def test_repetition_and_pacing_figures_meet_their_aims() -> None:
    report = load_report()
    rows = report.figures(report.planned(LIBRARY))
    assert {r.name for r in rows} == set(NAMES)
    assert report.overall_shared(rows) <= 0.20
    for r in rows:
        assert r.shared <= 0.30, r.name
        assert 0.0 < r.speech_share <= 0.60, r.name
        assert 100 <= r.effective_wpm <= 130, r.name
        if r.total_ms == 10 * MINUTE_MS:
            assert r.frame <= 0.18, r.name


def test_the_shared_sentence_figure_counts_only_sentences_another_session_speaks() -> None:
    # Guards the figure above: case and punctuation are ignored, a unique sentence is not shared.
    report = load_report()
    timelines = {n: planned(n) for n in ("three-minute-reset", SLEEP)}
    rows = {r.name: r for r in report.figures(timelines)}
    assert rows[SLEEP].shared_words == 0
    assert report.sentence_key("Breathe in.") == report.sentence_key("breathe IN")
    twice = report.figures({"a": planned(RESET), "b": planned(RESET)})
    assert all(r.shared_words == r.words for r in twice)
