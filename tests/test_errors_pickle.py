"""Errors cross process boundaries whole: build workers and Dask send them back pickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from innerchild_audio.errors import Problem, RenderError, ScriptError, SpeechError, UsageError
from innerchild_audio.fitting import LengthOutOfReach
from innerchild_audio.scale.batch import RowError

ERRORS = {
    "script": ScriptError([Problem(Path("/lib/a.yaml"), 3, 7, "rate must be a number", "rate: x"),
                           Problem(Path("/lib/a.yaml"), 9, 1, "unknown step 'sya'")]),
    "usage with option": UsageError("x: no such file", option="background"),
    "speech with hint": SpeechError("Google did not answer.", offline_hint=True),
    "length": LengthOutOfReach(60_000, 120_000, 180_000, "reset"),
    "row": RowError(Path("people.csv"), 4, "name", "is empty"),
    "render": RenderError("ffmpeg failed"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_an_error_survives_pickling_with_its_message_and_fields(case):
    error = ERRORS[case]
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.cli_message() == error.cli_message()
    assert again.exit_status == error.exit_status
    assert vars(again) == vars(error)


def test_a_script_error_keeps_every_located_problem():
    again = pickle.loads(pickle.dumps(ERRORS["script"]))
    assert [(p.line, p.column) for p in again.problems] == [(3, 7), (9, 1)]
    assert again.problems[0].format().splitlines()[1].strip() == "rate: x"
