"""The meditation library itself: valid, safe, readable and able to reach its lengths."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from innerchild_audio.errors import UsageError
from innerchild_audio.model import BackgroundChange, Say, Script
from innerchild_audio.plan import build_timeline, lay_out
from innerchild_audio.script import load_script
from innerchild_audio.sentences import split_sentences
from innerchild_audio.timeline import SilenceEvent, Timeline
from innerchild_audio.units import parse_duration_ms

LIBRARY: Final = Path(__file__).resolve().parent.parent / "meditations"
OPENINGS: Final = ("parts/opening-safety.yaml", "parts/opening-pace.yaml",
                    "parts/opening-invitation.yaml", "parts/opening-company.yaml",
                    "parts/opening-evening.yaml")
CLOSINGS: Final = ("parts/closing.yaml", "parts/closing-return.yaml", "parts/closing-carry.yaml",
                   "parts/closing-thanks.yaml")
PARTS: Final = (*OPENINGS, "parts/grounding.yaml", *CLOSINGS)
# Season two (tests/test_library_content.py checks it with the rest of the library).
SEASON_TWO: Final = (
    "it-was-not-your-fault.yaml", "i-will-defend-you-now.yaml", "the-childhood-you-needed.yaml",
    "when-you-fear-being-left.yaml", "softening-the-inner-critic.yaml",
    "when-no-apology-comes.yaml", "a-bedtime-for-your-younger-self.yaml",
    "aftercare-after-a-hard-session.yaml",
)
RESET: Final = 9  # short and self-contained: it speaks its own orientation and return
SESSIONS: Final = {
    1: "meeting-your-child-self.yaml",
    2: "consoling-fear.yaml",
    3: "words-you-needed-to-hear.yaml",
    4: "reparenting-your-day.yaml",
    5: "playful-imagination.yaml",
    6: "a-safe-place.yaml",
    7: "understanding-old-patterns.yaml",
    8: "a-letter-to-your-younger-self.yaml",
    9: "three-minute-reset.yaml",
}
# Sessions that turn toward childhood pain, fear or unmet needs.
HEAVY: Final = (1, 2, 3, 4, 7, 8)
# Sessions that address the listener by `{name}` (the reset stays short and plain).
NAMED: Final = (1, 2, 3, 4, 5, 6, 7, 8)
MAX_SENTENCE_WORDS: Final = 25
MINUTE_MS: Final = 60_000
MARKUP: Final = re.compile(r"\[pause[^\]]*\]", re.IGNORECASE)
BLANK_LINE: Final = re.compile(r"\n[ \t]*\n")


@functools.cache
def script(episode: int) -> Script:
    return load_script(LIBRARY / SESSIONS[episode])


@functools.cache
def raw(name: str) -> dict[str, Any]:
    return yaml.safe_load((LIBRARY / name).read_text(encoding="utf-8"))


def timeline(episode: int, target_ms: int | None) -> Timeline:
    return build_timeline(lay_out(script(episode), warnings=True), None, target_ms)


def sentences(text: str) -> list[str]:
    """Spoken sentences of a text: markup removed, paragraphs split at blank lines."""
    found: list[str] = []
    for paragraph in BLANK_LINE.split(MARKUP.sub(" ", text)):
        found.extend(split_sentences(paragraph))
    return found


def raw_steps(steps: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Every (key, value) step of a raw step list, descending into repeats."""
    found: list[tuple[str, Any]] = []
    for step in steps:
        ((key, value),) = step.items()
        found.append((key, value))
        if key == "repeat":
            found.extend(raw_steps(value["steps"]))
    return found


def all_raw_steps() -> list[tuple[str, Any]]:
    names = [*SESSIONS.values(), *PARTS]
    return [step for name in names for step in raw_steps(raw(name)["steps"])]


episodes = pytest.mark.parametrize("episode", sorted(SESSIONS))


def test_library_holds_exactly_the_seventeen_sessions_and_the_parts() -> None:
    scripts = {p.name for p in LIBRARY.glob("*.yaml")} - {"podcast.yaml"}
    assert scripts == set(SESSIONS.values()) | set(SEASON_TWO)
    assert {f"parts/{p.name}" for p in (LIBRARY / "parts").glob("*.yaml")} == set(PARTS)


@episodes
def test_every_session_validates_with_its_metadata(episode: int) -> None:
    loaded = script(episode)
    assert loaded.title
    assert loaded.episode == episode
    assert loaded.season == 1
    assert loaded.author == "Inner Child Audio"
    assert loaded.language == "en"
    assert loaded.tags
    assert loaded.length_ms is not None
    assert loaded.background is not None and loaded.background.is_generated
    assert 0.85 <= loaded.voice.rate <= 0.9
    assert 1200 <= loaded.voice.sentence_pause_ms <= 1500
    assert 2500 <= loaded.voice.paragraph_pause_ms <= 3500
    assert -26 <= loaded.background.volume_db <= -22


@pytest.mark.parametrize("part", PARTS)
def test_every_part_loads_on_its_own(part: str) -> None:
    assert any(isinstance(step, Say) for step in load_script(LIBRARY / part).steps)


@episodes
def test_every_spoken_sentence_is_at_most_25_words(episode: int) -> None:
    loaded = script(episode)
    texts = [step.text for step in loaded.steps if isinstance(step, Say)]
    texts.append(loaded.content_warning)
    too_long = [s for text in texts for s in sentences(text)
                if len(s.split()) > MAX_SENTENCE_WORDS]
    assert too_long == []


def test_sentence_splitting_in_these_tests_sees_markup_and_paragraphs() -> None:
    # Guards the check above: markup is not a word and a blank line ends a sentence.
    assert sentences("One two.\n[pause 3s]\nThree four\n\nfive six.") == [
        "One two.", "Three four", "five six."]


@episodes
def test_every_session_opens_with_safety_and_closes_in_the_room(episode: int) -> None:
    steps = raw(SESSIONS[episode])["steps"]
    keys = [next(iter(step)) for step in steps]
    if episode == RESET:  # no parts: its own first and last words orient and return
        says = [step["say"] for step in steps if "say" in step]
        assert "open your eyes" in says[0] and "not a substitute for therapy" in says[0]
        assert "room" in says[-1] and keys[-1] == "bell"
        return
    includes = [step["include"] for step in steps if "include" in step]
    assert includes[0] in OPENINGS and includes[-1] in CLOSINGS
    first_say = keys.index("say") if "say" in keys else len(keys)
    assert keys.index("include") < first_say
    assert steps[-1] == {"include": includes[-1]}


def part_text(part: str) -> str:
    return " ".join(s["say"] for s in raw(part)["steps"] if "say" in s)


@pytest.mark.parametrize("part", OPENINGS)
def test_openings_orient_and_do_not_replace_therapy(part: str) -> None:
    text = part_text(part)
    assert "open your eyes" in text and "stop" in text
    assert re.search(r"(substitute for|replace|replacement for) therapy", text)


@pytest.mark.parametrize("part", CLOSINGS)
def test_closings_return_to_the_room(part: str) -> None:
    text = part_text(part)
    assert "open your eyes" in text and "room" in text


@pytest.mark.parametrize("episode", HEAVY)
def test_heavy_sessions_carry_a_content_warning(episode: int) -> None:
    warning = script(episode).content_warning
    assert warning.strip()
    assert len(sentences(warning)) <= 3


@episodes
def test_show_notes_point_to_professional_help_and_crisis_lines(episode: int) -> None:
    notes = " ".join(script(episode).description.split())
    for needed in ("not a substitute for therapy", "crisis line", "local emergency number",
                   "988", "116 123"):
        assert needed in notes


@episodes
def test_sessions_of_eight_minutes_or_more_have_three_chapters(episode: int) -> None:
    planned = timeline(episode, script(episode).length_ms)
    if planned.total_ms >= 8 * MINUTE_MS:
        assert len(planned.chapters) >= 3
    assert planned.chapters[0].start_ms == 0


@pytest.mark.parametrize("episode", range(1, 8))
@pytest.mark.parametrize("minutes", (5, 10, 20))
def test_sessions_one_to_seven_fit_5_10_and_20_minutes(episode: int, minutes: int) -> None:
    planned = timeline(episode, minutes * MINUTE_MS)
    assert planned.total_ms == minutes * MINUTE_MS
    assert planned.events[-1].start_ms + planned.events[-1].duration_ms <= planned.total_ms


@pytest.mark.parametrize("minutes", (15, 20, 30))
def test_the_letter_session_reaches_15_to_30_minutes(minutes: int) -> None:
    assert timeline(8, minutes * MINUTE_MS).total_ms == minutes * MINUTE_MS


def test_the_reset_stays_near_three_minutes() -> None:
    planned = timeline(9, script(9).length_ms)
    assert 150_000 <= planned.total_ms <= 210_000
    assert 150_000 <= timeline(9, None).total_ms <= 210_000
    with pytest.raises(UsageError, match="out of reach"):
        timeline(9, 5 * MINUTE_MS)


@episodes
def test_speech_is_at_most_60_percent_of_the_default_runtime(episode: int) -> None:
    planned = timeline(episode, script(episode).length_ms)
    speech_ms = sum(e.duration_ms for e in planned.speech)
    assert speech_ms <= 0.6 * planned.total_ms


@episodes
def test_estimated_pace_stays_between_100_and_130_words_per_minute(episode: int) -> None:
    planned = timeline(episode, script(episode).length_ms)
    speech_ms = sum(e.duration_ms for e in planned.speech)
    between_ms = sum(e.duration_ms for e in planned.events
                     if isinstance(e, SilenceEvent) and e.reason == "sentence")
    words = sum(len(e.request.text.split()) for e in planned.speech)
    assert words * MINUTE_MS / speech_ms <= 145  # inside sentences: calm, never drawled
    assert 100 <= words * MINUTE_MS / (speech_ms + between_ms) <= 130


@pytest.mark.parametrize("episode", NAMED)
def test_name_is_a_variable_with_a_gentle_default(episode: int) -> None:
    assert "{name}" in (LIBRARY / SESSIONS[episode]).read_text(encoding="utf-8")
    assert raw(SESSIONS[episode])["vars"] == {"name": "friend"}
    named = load_script(LIBRARY / SESSIONS[episode], vars={"name": "Sam"})
    assert any("Sam" in step.text for step in named.steps if isinstance(step, Say))


def test_the_library_exercises_every_feature_it_can_ship() -> None:
    steps = all_raw_steps()
    kinds = {key for key, _ in steps}
    assert {"say", "pause", "breathe", "bell", "chapter", "include", "repeat",
            "background"} <= kinds
    assert "sound" not in kinds  # the project ships no audio files
    pauses = [value for key, value in steps if key == "pause"]
    assert any(isinstance(p, str) for p in pauses) and any(isinstance(p, dict) for p in pauses)
    breaths = [value for key, value in steps if key == "breathe"]
    assert {b.get("pattern") for b in breaths} >= {"4-7-8", "box"}
    assert {b.get("cues") for b in breaths} >= {"voice", "tone"}
    bells = [value for key, value in steps if key == "bell"]
    assert {} in bells and any(b for b in bells)
    says = [value for key, value in steps if key == "say"]
    assert any(isinstance(s, dict) and "voice" in s for s in says)
    assert any(isinstance(s, str) and "[pause" in s for s in says)
    assert any(isinstance(s, str) and BLANK_LINE.search(s) for s in says)
    assert any(isinstance(step, BackgroundChange) for n in SESSIONS for step in script(n).steps)


@episodes
def test_no_file_backgrounds_and_elastic_pauses_stay_within_range(episode: int) -> None:
    loaded = script(episode)
    beds = [loaded.background] + [s.background for s in loaded.steps
                                  if isinstance(s, BackgroundChange)]
    assert all(bed is None or bed.is_generated for bed in beds)
    for key, value in raw_steps(raw(SESSIONS[episode])["steps"]):
        if key == "pause" and isinstance(value, dict):
            low, high = parse_duration_ms(value["min"]), parse_duration_ms(value["max"])
            assert low < high
            assert low <= parse_duration_ms(value.get("default", value["min"])) <= high


def test_channel_notes_point_to_help_and_name_an_apple_category() -> None:
    channel = raw("podcast.yaml")
    assert {"title", "description", "author", "language", "category"} <= set(channel)
    assert channel["category"] == ["Health & Fitness", "Mental Health"]
    notes = " ".join(channel["description"].split())
    for needed in ("not a substitute for therapy", "crisis line", "988", "116 123"):
        assert needed in notes
