"""Hostile and unlucky scripts: each gives located script errors, never another exception."""

from __future__ import annotations

import pytest

from innerchild_audio.errors import ScriptError
from innerchild_audio.script import load_script
from innerchild_audio.script.loader import MAX_SCRIPT_BYTES

HEAD = "title: T\n"
SAY = "steps:\n  - say: Hi.\n"
LONG_NAME = "a" * 300  # longer than a file name may be (ENAMETOOLONG)

# (name, yaml text, expected line, words the message must contain)
CASES = [
    ("bool tag on a non-bool", HEAD + "explicit: !!bool maybe\n" + SAY, 2, ["maybe", "true/false"]),
    ("int tag on nothing", HEAD + "episode: !!int ''\n" + SAY, 2, ["whole number"]),
    ("bool tag in a step", HEAD + SAY + "  - pause: !!bool maybe\n", 4, ["maybe"]),
    ("int tag on a say", HEAD + "steps:\n  - say: !!int ''\n", 3, ["whole number"]),
    ("309-digit duration", HEAD + SAY + "  - pause: " + "1" * 309 + "s\n", 4, ["too long"]),
    ("309-digit bare seconds", HEAD + SAY + "  - pause: '" + "9" * 309 + "'\n", 4,
     ["too long"]),
    ("309-digit float length", HEAD + "length: " + "1" * 309 + ".5\n" + SAY, 2, ["too long"]),
    ("309-digit pause markup", HEAD + "steps:\n  - say: Rest. [pause " + "1" * 309 + "s] Back.\n",
     3, ["[pause]", "too long"]),
    ("NUL in an include", HEAD + SAY + '  - include: "parts/a\\0.yaml"\n', 4, ["U+0000"]),
    ("NUL in a sound", HEAD + SAY + '  - sound: "a\\0.wav"\n', 4, ["U+0000"]),
    ("NUL in a cover", HEAD + 'cover: "a\\0.png"\n' + SAY, 2, ["U+0000"]),
    ("NUL in a bell sound", HEAD + SAY + '  - bell: {sound: "a\\0.wav"}\n', 4, ["U+0000"]),
    ("NUL in a bed", HEAD + 'background: {sound: "a\\0.wav"}\n' + SAY, 2, ["U+0000"]),
    ("over-long include name", HEAD + SAY + f"  - include: {LONG_NAME}.yaml\n", 4,
     ["cannot use the path", "too long"]),
    ("over-long sound name", HEAD + SAY + f"  - sound: {LONG_NAME}.wav\n", 4,
     ["cannot use the path"]),
    ("over-long cover name", HEAD + f"cover: {LONG_NAME}.png\n" + SAY, 2,
     ["cannot use the path"]),
    ("over-long bed name", HEAD + f"background: {{sound: {LONG_NAME}.wav}}\n" + SAY, 2,
     ["cannot use the path"]),
    ("lone surrogate in a say", HEAD + 'steps:\n  - say: "Rest \\ud800 now."\n', 3,
     ["surrogate", "U+D800"]),
    ("lone low surrogate in a say", HEAD + 'steps:\n  - say: "\\udfff"\n', 3, ["U+DFFF"]),
    ("lone surrogate in a title", 'title: "T\\ud800"\n' + SAY, 1, ["surrogate"]),
    ("lone surrogate in a chapter", HEAD + SAY + '  - chapter: "\\udc80"\n', 4, ["surrogate"]),
    ("backspace in a say", HEAD + 'steps:\n  - say: "Rest\\b now."\n', 3, ["U+0008"]),
    ("NUL in a chapter", HEAD + SAY + '  - chapter: "One\\0"\n', 4, ["U+0000"]),
    ("escape character in a description", HEAD + 'description: "\\e[31m red"\n' + SAY, 2,
     ["U+001B"]),
    ("raw control character", HEAD + "steps:\n  - say: Rest \x07 now.\n", 3, ["U+0007"]),
    ("surrogate key", HEAD + SAY + '  - "\\ud800": x\n', 4, ["unknown step"]),
]


@pytest.mark.parametrize(("name", "text", "line", "words"), CASES, ids=[c[0] for c in CASES])
def test_hostile_value_is_a_located_script_error(write_script, name, text, line, words):
    path = write_script(text)
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    problems = caught.value.problems
    matching = [p for p in problems if p.line == line and p.column >= 1]
    assert matching, f"no problem at line {line}: {[p.format() for p in problems]}"
    message = " ".join(p.message for p in matching)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    str(caught.value).encode("utf-8")  # printable: no lone surrogate in what is shown


def test_a_surrogate_from_a_variable_is_refused(write_script):
    path = write_script("title: T\nvars: {name: friend}\nsteps:\n  - say: Hello {name}.\n")
    with pytest.raises(ScriptError, match="--var") as caught:
        load_script(path, vars={"name": "\udc80"})  # what a non-UTF-8 argument decodes to
    assert caught.value.problems[0].line == 4


def test_an_oversized_script_is_refused_before_parsing(write_script):
    say = "word " * (MAX_SCRIPT_BYTES // 5)
    path = write_script(HEAD + "steps:\n  - say: " + say + "\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (1, 1)
    assert f"{MAX_SCRIPT_BYTES:,} bytes" in problem.message
    assert len(str(caught.value)) < 400  # the huge line is not repeated


def test_parts_count_towards_the_size_limit_and_are_refused_at_the_include(write_script):
    write_script("steps:\n  - say: " + "word " * (MAX_SCRIPT_BYTES // 10) + "\n", "parts/a.yaml")
    write_script("steps:\n  - say: " + "word " * (MAX_SCRIPT_BYTES // 10) + "\n", "parts/b.yaml")
    path = write_script(HEAD + SAY + "  - include: parts/a.yaml\n  - include: parts/b.yaml\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    problems = [p for p in caught.value.problems if "bytes" in p.message]
    assert [(p.file.name, p.line) for p in problems] == [("session.yaml", 5)]
    assert "with the parts it includes" in problems[0].message


def test_a_part_included_many_times_is_read_once(write_script, monkeypatch):
    from innerchild_audio.script import nodes

    write_script("steps:\n  - say: Again.\n", "parts/a.yaml")
    path = write_script(HEAD + "steps:\n" + "  - include: parts/a.yaml\n" * 50)
    composed: list[str] = []
    real = nodes.compose
    monkeypatch.setattr("innerchild_audio.script.loader.compose",
                        lambda p, text, report: composed.append(p.name) or real(p, text, report))
    script = load_script(path)
    assert len(script.steps) == 50
    assert composed == ["session.yaml", "a.yaml"]


def test_snippets_and_messages_are_cut_to_a_readable_width(write_script):
    huge = "x" * 100_000
    path = write_script(HEAD + f"voice: {{engine: {huge}}}\nsteps:\n  - say: {huge}.\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    text = str(caught.value)
    assert len(caught.value.problems) == 2
    assert max(len(line) for line in text.splitlines()) < 400
    assert "5,000" in text and "unknown engine" in text


def test_caret_points_at_the_column_in_a_cut_snippet(write_script):
    path = write_script(HEAD + "steps:\n  - say: Hi.\n  - pause: {min: 1s, max: 2s, "
                        + "default: 1s, " * 30 + "x: soon}\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    problem = next(p for p in caught.value.problems if "'x'" in p.message)
    head, snippet, caret = problem.format().splitlines()
    assert len(snippet) <= 110
    assert snippet[caret.index("^")] == "x"

