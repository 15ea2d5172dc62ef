"""Sentence splitting: pacing goes between the pieces, so every cut must be a real sentence end."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from innerchild_audio.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n  ", []),
        ("Rest here.", ["Rest here."]),
        (
            "Welcome, friend. Let your eyes close.\n  Notice the weight.",
            ["Welcome, friend.", "Let your eyes close.", "Notice the weight."],
        ),
        ("Is it? Yes! No?! Good.", ["Is it?", "Yes!", "No?!", "Good."]),
        # abbreviations and initials
        ("Dr. Smith said rest. Then we go.", ["Dr. Smith said rest.", "Then we go."]),
        ("Mr. and Mrs. Lee sat. Prof. Ng stood.", ["Mr. and Mrs. Lee sat.", "Prof. Ng stood."]),
        ("Notice a feeling, e.g. Warmth. Stay.", ["Notice a feeling, e.g. Warmth.", "Stay."]),
        ("Say it, i.e. Softly, then rest.", ["Say it, i.e. Softly, then rest."]),
        ("J. R. Smith wrote it. Yes.", ["J. R. Smith wrote it.", "Yes."]),
        ("Visit St. Ives. Then rest.", ["Visit St. Ives.", "Then rest."]),
        # ellipses: a capital after them starts a sentence, a lowercase word does not
        ("I wonder... Maybe not.", ["I wonder...", "Maybe not."]),
        ("I wonder… Maybe not.", ["I wonder…", "Maybe not."]),
        ("Breathe in... and out… and rest.", ["Breathe in... and out… and rest."]),
        # quotes
        ('He said, "Rest now." Then he left.', ['He said, "Rest now."', "Then he left."]),
        ('"Where are you?" she asked. I am here.', ['"Where are you?" she asked.', "I am here."]),
        ("“Quoted.” “Next one.”", ["“Quoted.”", "“Next one.”"]),
        ("She said. (Softly now.) Rest.", ["She said.", "(Softly now.)", "Rest."]),
        # numbers
        ("Take 1.5 breaths. Then 2.25 more.", ["Take 1.5 breaths.", "Then 2.25 more."]),
        ("Count to 3. 4 comes next.", ["Count to 3.", "4 comes next."]),
        # nothing to speak on its own stays with a neighbour
        ("Hello. ...", ["Hello. ..."]),
        ("... Hello there.", ["... Hello there."]),
        ("Étoile. Écoute.", ["Étoile.", "Écoute."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


_words = st.text(
    alphabet=st.sampled_from(list("abcdeDrMs .,!?…'\"“”()1.5\n")), min_size=0, max_size=80
)


@given(_words)
def test_joining_gives_back_the_normalised_text(text: str) -> None:
    pieces = split_sentences(text)
    assert " ".join(pieces) == " ".join(text.split())
    assert all(piece == piece.strip() and piece for piece in pieces)


@given(_words)
def test_every_piece_but_a_lone_one_has_something_to_speak(text: str) -> None:
    pieces = split_sentences(text)
    if len(pieces) > 1:
        assert all(any(ch.isalnum() for ch in piece) for piece in pieces)
