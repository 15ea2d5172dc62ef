"""Invalid scripts: each is refused with the right line and the substance of the problem."""

from __future__ import annotations

import pytest

from innerchild_audio.errors import ScriptError
from innerchild_audio.script import load_script

HEAD = "title: T\n"

# (name, yaml text, expected line, words the message must contain)
CASES = [
    ("misspelled top key", HEAD + "lenght: 10m\nsteps:\n  - say: Hi.\n", 2, ["lenght", "length"]),
    ("missing title", "steps:\n  - say: Hi.\n", 1, ["title"]),
    ("missing steps", HEAD + "description: x\n", 1, ["steps"]),
    ("steps not a list", HEAD + "steps: hello\n", 2, ["steps", "list"]),
    ("no say at all", HEAD + "steps:\n  - pause: 3s\n", 2, ["never speaks", "say"]),
    ("unknown step", HEAD + "steps:\n  - say: Hi.\n  - paus: 3s\n", 4, ["paus", "pause"]),
    ("unknown step no hint", HEAD + "steps:\n  - say: Hi.\n  - xyzzy: 3s\n", 4,
     ["xyzzy", "steps are"]),
    ("two keys in a step", HEAD + "steps:\n  - say: Hi.\n    pause: 3s\n", 3, ["exactly one key"]),
    ("step not a mapping", HEAD + "steps:\n  - say: Hi.\n  - just text\n", 4, ["step", "mapping"]),
    ("bad duration", HEAD + "steps:\n  - say: Hi.\n  - pause: 5 seconds\n", 4,
     ["5 seconds", "1m30s"]),
    ("negative duration", HEAD + "steps:\n  - say: Hi.\n  - pause: -3\n", 4, ["negative"]),
    ("duration unit repeated", HEAD + "steps:\n  - say: Hi.\n  - pause: 1s2s\n", 4, ["1s2s"]),
    ("pause over an hour", HEAD + "steps:\n  - say: Hi.\n  - pause: 61m\n", 4, ["1h"]),
    ("elastic without max", HEAD + "steps:\n  - say: Hi.\n  - pause: {min: 5s}\n", 4,
     ["min", "max"]),
    ("elastic min over max", HEAD + "steps:\n  - say: Hi.\n  - pause: {min: 9s, max: 5s}\n", 4,
     ["swap"]),
    ("elastic default outside", HEAD
     + "steps:\n  - say: Hi.\n  - pause: {min: 5s, max: 9s, default: 20s}\n", 4, ["between"]),
    ("elastic unknown key", HEAD
     + "steps:\n  - say: Hi.\n  - pause: {min: 5s, maks: 9s}\n", 4, ["maks", "max"]),
    ("unknown variable", HEAD + "vars: {name: friend}\nsteps:\n  - say: Hello {nme}.\n", 4,
     ["{nme}", "{name}"]),
    ("unknown variable no vars", HEAD + "steps:\n  - say: Hello {who}.\n", 3,
     ["{who}", "none are defined"]),
    ("lone brace", HEAD + "steps:\n  - say: 'Hello { there.'\n", 3, ["{{"]),
    ("lone closing brace", HEAD + "steps:\n  - say: 'Hello } there.'\n", 3, ["}}"]),
    ("variable in block scalar", HEAD + "steps:\n  - say: |\n      First line.\n      Hi {x}.\n",
     5, ["{x}"]),
    ("bad pause markup", HEAD + "steps:\n  - say: Breathe. [pause soon] Good.\n", 3,
     ["[pause]", "duration"]),
    ("markup pause over an hour", HEAD + "steps:\n  - say: Rest. [pause 61m] Back.\n", 3,
     ["at most 1h"]),
    ("misspelled markup", HEAD + "steps:\n  - say: Breathe. [paus 3s] Good.\n", 3,
     ["[pause 3s]"]),
    ("say too long", HEAD + "steps:\n  - say: " + "word " * 1100 + "\n", 3, ["5,000"]),
    ("empty say", HEAD + "steps:\n  - say: ''\n", 3, ["empty"]),
    ("say long form missing text", HEAD + "steps:\n  - say: {voice: {rate: 0.8}}\n", 3,
     ["text"]),
    ("say voice bad rate", HEAD + "steps:\n  - say: {text: Hi., voice: {rate: 5}}\n", 3,
     ["rate", "0.5", "2.0"]),
    ("voice unknown engine", HEAD + "voice: {engine: pipr}\nsteps:\n  - say: Hi.\n", 2,
     ["pipr", "piper"]),
    ("voice unknown key", HEAD + "voice: {speed: 0.9}\nsteps:\n  - say: Hi.\n", 2, ["speed"]),
    ("voice rate not number", HEAD + "voice: {rate: slow}\nsteps:\n  - say: Hi.\n", 2,
     ["rate", "number"]),
    ("background unknown sound", HEAD
     + "background: {sound: brwn-noise}\nsteps:\n  - say: Hi.\n", 2, ["brown-noise"]),
    ("background missing file", HEAD
     + "background: {sound: rain.wav}\nsteps:\n  - say: Hi.\n", 2, ["no file"]),
    ("background bad volume", HEAD
     + "background: {sound: drone, volume: loud}\nsteps:\n  - say: Hi.\n", 2, ["-20 dB"]),
    ("background volume out of range", HEAD
     + "background: {sound: drone, volume: 10 dB}\nsteps:\n  - say: Hi.\n", 2, ["between"]),
    ("background without sound", HEAD
     + "background: {volume: -20 dB}\nsteps:\n  - say: Hi.\n", 2, ["sound"]),
    ("breathe missing out", HEAD + "steps:\n  - say: Hi.\n  - breathe: {in: 4s}\n", 4, ["out"]),
    ("breathe bad pattern", HEAD + "steps:\n  - say: Hi.\n  - breathe: {pattern: square}\n", 4,
     ["box", "4-7-8"]),
    ("breathe pattern and in", HEAD
     + "steps:\n  - say: Hi.\n  - breathe: {pattern: box, in: 4s}\n", 4, ["either"]),
    ("breathe bad cues", HEAD
     + "steps:\n  - say: Hi.\n  - breathe: {in: 4s, out: 4s, cues: bell}\n", 4, ["voice"]),
    ("breathe zero cycles", HEAD
     + "steps:\n  - say: Hi.\n  - breathe: {in: 4s, out: 4s, cycles: 0}\n", 4, ["at least 1"]),
    ("bell strikes text", HEAD + "steps:\n  - say: Hi.\n  - bell: {strikes: two}\n", 4,
     ["whole number"]),
    ("bell unknown key", HEAD + "steps:\n  - say: Hi.\n  - bell: {strike: 2}\n", 4,
     ["strikes"]),
    ("bell sound missing", HEAD + "steps:\n  - say: Hi.\n  - bell: {sound: bowl.wav}\n", 4,
     ["no file"]),
    ("sound missing file", HEAD + "steps:\n  - say: Hi.\n  - sound: birds.ogg\n", 4,
     ["no file"]),
    ("sound long form missing file", HEAD + "steps:\n  - say: Hi.\n  - sound: {volume: -6}\n",
     4, ["file"]),
    ("chapter empty", HEAD + "steps:\n  - say: Hi.\n  - chapter: ''\n", 4, ["empty"]),
    ("repeat missing times", HEAD + "steps:\n  - repeat: {steps: [{say: Hi.}]}\n", 3,
     ["times"]),
    ("repeat times zero", HEAD + "steps:\n  - repeat: {times: 0, steps: [{say: Hi.}]}\n", 3,
     ["at least 1"]),
    ("too many steps", HEAD + "steps:\n  - repeat: {times: 500, steps: [{say: Hi.}, "
     "{pause: 1s}, {pause: 1s}, {pause: 1s}, {pause: 1s}]}\n", 3, ["2,000"]),
    ("include missing", HEAD + "steps:\n  - say: Hi.\n  - include: parts/nope.yaml\n", 4,
     ["no file"]),
    ("include leaves library", HEAD + "steps:\n  - say: Hi.\n  - include: ../../etc/x.yaml\n", 4,
     ["leaves"]),
    ("object tag", HEAD + "steps:\n  - say: !!python/object:os.system {}\n", 3, ["tag"]),
    ("custom tag", HEAD + "steps:\n  - say: !shout Hello\n", 3, ["tag"]),
    ("yaml syntax", HEAD + "steps:\n  - say: [unclosed\n", 4, ["syntax"]),
    ("tab indentation", HEAD + "steps:\n\t- say: Hi.\n", 3, ["syntax"]),
    ("duplicate key", HEAD + "title: U\nsteps:\n  - say: Hi.\n", 2, ["twice"]),
    ("slug not ascii", HEAD + "slug: café-time\nsteps:\n  - say: Hi.\n", 2, ["ASCII"]),
    ("language not bcp47", HEAD + "language: english!\nsteps:\n  - say: Hi.\n", 2, ["BCP 47"]),
    ("episode zero", HEAD + "episode: 0\nsteps:\n  - say: Hi.\n", 2, ["at least 1"]),
    ("season text", HEAD + "season: one\nsteps:\n  - say: Hi.\n", 2, ["whole number"]),
    ("explicit not bool", HEAD + "explicit: maybe\nsteps:\n  - say: Hi.\n", 2,
     ["true or false"]),
    ("length over 3h", HEAD + "length: 4h\nsteps:\n  - say: Hi.\n", 2, ["3h"]),
    ("length zero", HEAD + "length: 0s\nsteps:\n  - say: Hi.\n", 2, ["longer than 0s"]),
    ("tags not list", HEAD + "tags: calm\nsteps:\n  - say: Hi.\n", 2, ["list"]),
    ("cover missing", HEAD + "cover: art.png\nsteps:\n  - say: Hi.\n", 2, ["no file"]),
    ("vars not mapping", HEAD + "vars: [name]\nsteps:\n  - say: Hi.\n", 2, ["mapping"]),
    ("var bad name", HEAD + "vars: {'my name': x}\nsteps:\n  - say: Hi.\n", 2, ["word"]),
    ("top level a list", "- title: T\n", 1, ["mapping"]),
    ("merge key", HEAD + "voice: {<<: {rate: 1}}\nsteps:\n  - say: Hi.\n", 2, ["merge"]),
    ("title a mapping", "title: {a: b}\nsteps:\n  - say: Hi.\n", 1, ["text"]),
    ("unknown step in repeat", HEAD
     + "steps:\n  - say: Hi.\n  - repeat:\n      times: 2\n      steps:\n        - sai: Hi.\n",
     7, ["sai", "say"]),
]


@pytest.mark.parametrize(("name", "text", "line", "words"), CASES, ids=[c[0] for c in CASES])
def test_invalid_script_is_refused_at_its_line(write_script, name, text, line, words):
    path = write_script(text)
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    problems = caught.value.problems
    assert problems, "at least one problem"
    matching = [p for p in problems if p.line == line]
    assert matching, f"no problem at line {line}: {[p.format() for p in problems]}"
    message = " ".join(p.message for p in matching)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert all(p.file == path.resolve() or p.file.name != path.name for p in problems)


def test_enough_distinct_invalid_scripts():
    assert len({c[1] for c in CASES}) >= 40


def test_all_four_problems_reported_at_once(write_script):
    write_script("steps:\n  - include: b.yaml\n", "parts/a.yaml")
    write_script("steps:\n  - include: a.yaml\n", "parts/b.yaml")
    path = write_script(
        "title: Four problems\n"
        "lenght: 10m\n"
        "steps:\n"
        "  - say: Hello {nme}.\n"
        "  - pause: 5 seconds\n"
        "  - include: parts/a.yaml\n"
    )
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    formatted = str(caught.value)
    assert f"{path.resolve()}:2:1: unknown key 'lenght'" in formatted
    assert f"{path.resolve()}:4:16: unknown variable {{nme}}" in formatted
    assert f"{path.resolve()}:5:12: pause: '5 seconds' is not a duration" in formatted
    assert "b.yaml:2:14: include cycle: session.yaml -> a.yaml -> b.yaml -> a.yaml" in formatted


def test_include_depth_limit(write_script):
    for level in range(10):
        write_script(f"steps:\n  - include: p{level + 1}.yaml\n", f"parts/p{level}.yaml")
    write_script("steps:\n  - say: Deep.\n", "parts/p10.yaml")
    path = write_script("title: Deep\nsteps:\n  - include: parts/p0.yaml\n")
    with pytest.raises(ScriptError, match="nest more than 8"):
        load_script(path)


def test_error_lists_the_offending_line_and_a_caret(write_script):
    path = write_script("title: T\nsteps:\n  - say: Hi.\n  - pause: soon\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    text = str(caught.value)
    assert "  - pause: soon" in text
    assert text.splitlines()[2].strip() == "^"


def test_problems_are_capped_per_file(write_script):
    body = "".join(f"  - pause: bad{i}\n" for i in range(60))
    path = write_script("title: T\nsteps:\n  - say: Hi.\n" + body)
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert 10 <= len(caught.value.problems) <= 21
    assert "stopped after" in caught.value.problems[-1].message


def test_alias_bomb_is_refused(write_script):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write_script("\n".join(lines) + "\ntitle: T\nsteps:\n  - say: Hi.\n")
    with pytest.raises(ScriptError, match="too many values"):
        load_script(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("title: Caf\xe9\nsteps:\n  - say: Hi.\n".encode("latin-1"))
    with pytest.raises(ScriptError, match="UTF-8"):
        load_script(path)
