"""Implied phrase breaks: where a quick sentence with no comma may pause, and how it does."""

from __future__ import annotations

import numpy as np
import pytest

from innerchild_audio.model import Voice
from innerchild_audio.speech.pacing import Pace, max_wpm, speak_sentence
from innerchild_audio.speech.phrasing import break_strengths, split_phrases
from innerchild_audio.speech.silence import pauses


def test_breaks_fall_before_conjunctions_and_prepositions_first():
    assert split_phrases(["Put a hand on your heart as you read."], 1) == [
        ["Put a hand on your heart,", "as you read."]]
    assert split_phrases(["Put a hand on your heart as you read."], 2) == [
        ["Put a hand,", "on your heart,", "as you read."]]


@pytest.mark.parametrize("text", [
    "Let the warmth of the sun rest on your face",
    "Notice the colour of the door in front of you",
    "It was never your job to hold everything together",
])
def test_a_phrase_never_ends_on_a_word_that_leans_on_the_next(text):
    leaning = {"a", "an", "the", "your", "my", "to", "of", "in", "on", "and", "own"}
    for count in range(1, 6):
        (pieces,) = split_phrases([text], count)
        assert " ".join(pieces).replace(",", "") == text  # only commas are added
        for piece in pieces[:-1]:
            assert piece.rstrip(",").split()[-1].lower() not in leaning, pieces
            assert len(piece.split()) >= 2


def test_a_word_is_left_alone_only_at_a_natural_break_or_in_a_sentence_of_three_or_four():
    assert split_phrases(["Go at your own pace."], 3, min_words=1) == [
        ["Go,", "at your own pace."]]
    assert split_phrases(["I am here."], 1, min_words=1) == [["I am,", "here."]]
    assert split_phrases(["Let it be simple."], 1, min_words=1) == [["Let it be,", "simple."]]
    assert split_phrases(["There is no right way."], 2, min_words=1) == [
        ["There is,", "no right way."]]
    assert split_phrases(["Rest now."], 2, min_words=1) == [["Rest now."]]
    assert break_strengths("a well-worn path".split()) == {}


def _joined_voice(calls: list[str]):
    """A fast voice with no quiet between its words (a tone, 40 ms a letter)."""
    def speak(phrase: str, stretch: float) -> np.ndarray:
        calls.append(phrase)
        length = int(0.04 * len(phrase) * stretch * 8000)
        return (np.sin(np.arange(length) * 0.3) * 0.5).astype(np.float32)
    return speak


def test_a_quick_sentence_pauses_at_its_implied_breaks_to_the_pace_its_rate_asks():
    text = "Put a hand on your heart as you read along with me"
    calls: list[str] = []
    samples = speak_sentence(text, Voice(rate=0.86), Pace(1.0, 1.0), _joined_voice(calls), 8000)
    wpm = len(text.split()) * 60 / (len(samples) / 8000)
    assert wpm == pytest.approx(max_wpm(0.86), rel=0.03)
    # spoken whole first, then phrase by phrase: every phrase is the voice's own take
    assert calls[0] == text
    pieces = calls[1:]
    assert len(pieces) >= 2 and " ".join(pieces).replace(",", "") == text
    gaps = pauses(samples, 8000, min_ms=150)
    assert len(gaps) == len(pieces) - 1
    # each silence sits where a phrase ends: after the phrase's own length of tone
    sound = [len(_joined_voice([])(p, 1.0)) for p in pieces]
    silent_before = 0
    for (start, stop), spoken_before in zip(gaps, np.cumsum(sound), strict=False):
        assert abs(start - (spoken_before + silent_before)) < 8000 * 0.06
        silent_before += stop - start
    # each phrase is eased out and in: no step where the tone meets the silence
    loud = np.flatnonzero(np.abs(samples) > 0)
    edges = [loud[0], loud[-1]] + [i for i in loud[:-1] if samples[i + 1] == 0]
    assert all(abs(samples[i]) < 0.01 for i in edges)


def test_a_sentence_already_calm_is_spoken_whole_with_no_break():
    text = "Put a hand on your heart as you read along with me"
    calls: list[str] = []
    slow = Pace(3.0, 3.0)  # this voice is already slower than the rate asks
    samples = speak_sentence(text, Voice(rate=0.86), slow, _joined_voice(calls), 8000)
    assert calls == [text]
    assert not pauses(samples, 8000, min_ms=50)


def test_a_phrase_the_voice_leaves_silent_falls_back_to_the_whole_take():
    text = "Put a hand on your heart as you read along with me"
    calls: list[str] = []
    joined = _joined_voice(calls)

    def patchy(phrase: str, stretch: float) -> np.ndarray:
        sound = joined(phrase, stretch)
        return np.zeros_like(sound) if phrase != text and len(calls) == 3 else sound

    samples = speak_sentence(text, Voice(rate=0.86), Pace(1.0, 1.0), patchy, 8000)
    whole = len(_joined_voice([])(text, 1.0))
    loud = np.count_nonzero(np.abs(samples) > 1e-3)
    assert loud == pytest.approx(np.count_nonzero(np.abs(joined(text, 1.0)) > 1e-3), rel=0.02)
    assert len(samples) >= whole  # every word is there, slowed by quiet gaps where it can be


@pytest.mark.parametrize(("text", "pieces"), [
    ("You do not need the whole story.", ["You do not need,", "the whole story."]),
    ("And find one thing you can touch.", ["And find one thing,", "you can touch."]),
    ("Which of these would help you most?", ["Which of these,", "would help you most?"]),
    ("Where do you feel it in your body now?", ["Where do you feel it,", "in your body now?"]),
    ("You belong here just as you are.", ["You belong here,", "just as you are."]),
])
def test_a_phrase_may_open_on_a_determiner_an_opener_a_subject_and_verb_or_a_verb(text, pieces):
    assert split_phrases([text], 1, min_words=1) == [pieces]


@pytest.mark.parametrize("text", [
    "And now there is someone inside.",  # not "there / is", not "someone / inside."
    "Ask them how a caring adult would.",  # not "a caring / adult"
    "I want to tell you something.",  # not "tell you / something"
    "Welcome in.",
])
def test_no_break_where_the_words_lean_together(text):
    for pieces in split_phrases([text], 3, min_words=1)[0]:
        assert pieces.rstrip(",") not in {
            "And now there", "And now there is someone", "Ask them how a caring",
            "I want to tell you", "Welcome"}, pieces


@pytest.mark.parametrize("text", ["Breathe in slowly.", "Breathe out again.", "Come back now."])
def test_a_verb_keeps_its_particle(text):
    (pieces,) = split_phrases([text], 2, min_words=1)
    verb, particle = text.split()[:2]
    assert not any(p.startswith(particle) for p in pieces), pieces  # never "Breathe, / out"
    assert pieces[0].startswith(f"{verb} {particle}")
