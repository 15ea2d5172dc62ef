"""Property: whatever YAML comes in, the loader raises nothing but ScriptError."""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from innerchild_audio.errors import ScriptError
from innerchild_audio.script import load_script
from innerchild_audio.script.loader import STEP_KEYS, TOP_KEYS

words = st.sampled_from([*TOP_KEYS, *STEP_KEYS, "min", "max", "default", "in", "out", "text",
                         "voice", "rate", "times", "sound", "volume", "strikes", "cues",
                         "pattern", "engine", "x"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable + "{}[]é😀", max_size=30),
    st.sampled_from(["4s", "1m30s", "-20 dB", "box", "4-7-8", "{name}", "[pause 2s]",
                     "parts/x.yaml", "../x.yaml", "brown-noise", "none", "piper"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(words, children, max_size=4)),
    max_leaves=25,
)


def _check(path, text):
    path.write_text(text, encoding="utf-8")
    try:
        load_script(path)
    except ScriptError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.message


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.dictionaries(words, trees, max_size=6))
def test_structured_yaml_only_raises_script_error(tmp_path, tree):
    _check(tmp_path / "s.yaml", yaml.safe_dump(tree, allow_unicode=True))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=string.printable + "é😀&*!|>-:{}[]", max_size=200))
def test_arbitrary_text_only_raises_script_error(tmp_path, text):
    _check(tmp_path / "s.yaml", text)


def test_deep_nesting_is_a_script_error(tmp_path):
    _check(tmp_path / "s.yaml", "title: T\nsteps: " + "[" * 5000 + "]" * 5000 + "\n")
