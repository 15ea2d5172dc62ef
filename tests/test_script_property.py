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


# --- hostile YAML written as text: tags, every scalar type, paths, surrogates, huge numbers

RAW_SCALARS = st.one_of(
    st.sampled_from([
        "!!bool maybe", "!!bool ''", "!!int ''", "!!int 0x", "!!int 1_0x", "!!float x",
        "!!float ''", "!!null x", "!!str 5", "!!timestamp 2001-02-30", "!!timestamp x",
        "!!binary aGk=", "!!binary '!'", "!!set {a: null}", "!!omap [a: 1]", "!!pairs [a: 1]",
        "!!merge x", "!!value x", "!!python/object:os.system x", "!shout x", "!<tag:x> y",
        "yes", "No", "on", "~", "null", "0o17", "0x1F", "1_000", "+.inf", "-.inf", ".nan",
        "1e309", "-1e309", "2001-12-14t21:59:43.10-05:00", "2001-12-14", "12:30:45",
        '"\\ud800"', '"a\\udfffb"', '"\\0"', '"x\\0.wav"', '"x\\0.png"', '"parts/\\0.yaml"',
        '"\\b\\e\\a"', '"\\x85\\u2028"', "'" + "a" * 300 + ".wav'", "'" + "b" * 300 + ".yaml'",
        "'" + "c" * 300 + ".png'", "'../x.wav'", "/etc/passwd", "'sounds/../../x.wav'",
        "chime.wav", "cover.png", "parts/part.yaml", "link-out.wav", "'Rest" + "." * 60 + "'",
        "'[pause " + " " * 80 + "'", "'[pause " + "9" * 330 + "s]'",
    ]),
    st.integers(-(10**400), 10**400).map(str),
    st.sampled_from(["1", "9", "4"]).map(lambda d: d * 309),
    st.builds(lambda digits, unit: f"{digits}{unit}",
              st.text(alphabet="0123456789", min_size=1, max_size=400),
              st.sampled_from(["s", "ms", "m", "h", "", ".5s", " dB"])),
    st.lists(st.sampled_from(["a", "b", " ", "{", "}", "[", "]", ":", ".", "\\0", "\\a",
                              "\\t", "\\ud800", "\\udfff", "\\U0001F600"]), max_size=12).map(
        lambda parts: '"' + "".join(parts) + '"'),  # escapes YAML turns into the characters
)
FLOW = st.recursive(
    RAW_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(words, children), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")),
    max_leaves=8,
)
STEP = st.one_of(
    st.tuples(st.sampled_from(STEP_KEYS), FLOW).map(lambda kv: f"  - {kv[0]}: {kv[1]}"),
    st.sampled_from(["  - say: Hi.", "  - sound: chime.wav", "  - bell: {sound: chime.wav}",
                     "  - include: parts/part.yaml", "  - background: {sound: chime.wav}"]),
)


def _library(tmp_path):
    import math
    import struct
    import wave

    from PIL import Image

    library = tmp_path / "library"
    if (library / "link-out.wav").is_symlink():
        return library  # made by an earlier example of this test
    (library / "parts").mkdir(parents=True)
    with wave.open(str(library / "chime.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(9000 * math.sin(i / 4)))
                                 for i in range(400)))
    Image.new("RGB", (4, 4)).save(library / "cover.png")
    (library / "parts" / "part.yaml").write_text("steps:\n  - say: Part.\n", encoding="utf-8")
    outside = tmp_path / "outside.wav"
    outside.write_bytes((library / "chime.wav").read_bytes())
    (library / "link-out.wav").symlink_to(outside)
    return library


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.lists(st.tuples(words, FLOW), max_size=5), steps=st.lists(STEP, max_size=6))
def test_hostile_yaml_gives_only_located_script_errors(tmp_path, top, steps):
    library = _library(tmp_path)
    lines = [f"{key}: {value}" for key, value in top] + ["steps:", *steps]
    path = library / "s.yaml"
    path.write_text("title: T\n" * (not any(k == "title" for k, _ in top)) + "\n".join(lines)
                    + "\n", encoding="utf-8")
    try:
        script = load_script(path)
    except ScriptError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.message
        shown = str(error)
        shown.encode("utf-8")  # printable as it stands: no lone surrogate
        assert max(len(line) for line in shown.splitlines()) < 600  # cut to a readable width
        return
    texts = [script.title, script.description, *(getattr(s, "text", "") for s in script.steps)]
    for text in texts:
        text.encode("utf-8")  # everything accepted can be spoken and written down
    for asset in script.assets:
        assert asset.is_relative_to(library.resolve())
