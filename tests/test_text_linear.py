"""Text handling finishes on any input: no pattern backtracks without bound.

Each family of hostile text runs in a child process with a generous bound, so a
hang fails the test instead of stalling the suite (a regular expression stuck in
backtracking holds the interpreter and cannot be interrupted in-process).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

N = 50_000  # long enough that quadratic work shows as a hang, linear work as milliseconds
MARKS = ".!?…,;:-—\"'“”‘’«»()[]{}_*&"
BOUND_S = 20  # the child's whole run; the work itself takes well under a second


def _finishes(body: str) -> None:
    """Run `body` in a child, which prints the name of each input before working on it."""
    code = "import sys\n" + textwrap.dedent(body)
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=BOUND_S, check=False)
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        last = out.strip().splitlines()[-1:] or ["before the first input"]
        pytest.fail(f"still working after {BOUND_S} s, on {last[0]}")
    assert result.returncode == 0, result.stderr


def test_sentence_splitting_finishes_on_runs_of_every_mark() -> None:
    _finishes(f"""
        from innerchild_audio.sentences import split_sentences
        n = {N}
        for mark in {MARKS!r}:
            for name, text in [("run", mark * n), ("after a word", "Rest" + mark * n),
                               ("spaced", (mark + " ") * (n // 2)),
                               ("before a sentence", "Rest" + mark * n + " Next one."),
                               ("between words", ("a" + mark) * (n // 2) + " B")]:
                print(repr(mark), name, flush=True)
                pieces = split_sentences(text)
                assert " ".join(pieces) == " ".join(text.split())
    """)


def test_sentence_splitting_finishes_on_mixes() -> None:
    _finishes(f"""
        import random
        from innerchild_audio.sentences import split_sentences
        n = {N}
        rng = random.Random(7)
        cases = {{
            "abbreviations": "Dr. " * (n // 4) + "Smith",
            "unspeakable pieces": "_. " * (n // 3),
            "initials": "A. " * (n // 3) + "Smith",
            "dotted": "x." * (n // 2) + " A",
            "long word then a sentence": "a" * n + " b. C",
            "quotes after ends": ('."' * (n // 2)) + " Next",
            "opening marks": ". " + "(" * n,
            "random marks": "".join(rng.choice(".!?… \\"'()x") for _ in range(n)),
            "random sentences": " ".join(rng.choice(["Rest.", "Dr.", "e.g.", "Hi!", "...",
                                                     "no?", "“Yes.”", "A."])
                                         for _ in range(n // 4)),
        }}
        for name, text in cases.items():
            print(name, flush=True)
            pieces = split_sentences(text)
            assert " ".join(pieces) == " ".join(text.split())
    """)


def test_markup_and_variables_finish_on_hostile_text() -> None:
    _finishes(f"""
        from innerchild_audio.script.text import TextProblem, check_markup, pieces, substitute
        n = {N}
        cases = {{
            "open pause, spaces": "[pause" + " " * n,
            "pause, spaces, words": "[pause " + " " * n + "x" * n,
            "pause, spaces, closed": "[pause " + " " * n + "]",
            "brackets": "[" * n + "]",
            "spaced brackets": "[ " * n + "]",
            "words in brackets": "[a " * n + "]",
            "many pauses": "[pause 1ms] " * (n // 12),
            "blank lines": "\\n \\n" * n,
            "spaces at a line start": "\\n" + " " * n + "x",
            "braces": "{{" * n,
            "open variables": "{{a" * n,
        }}
        for name, text in cases.items():
            print(name, flush=True)
            for step in (check_markup, pieces, lambda t: substitute(t, {{"a": "b"}})):
                try:
                    step(text)
                except (TextProblem, ValueError):
                    pass
    """)


def test_check_of_a_script_with_a_run_of_dots_finishes(tmp_path) -> None:
    script = tmp_path / "dots.yaml"
    script.write_text('title: T\nsteps:\n  - say: "Rest' + "." * 2000 + '"\n'
                      '  - say: "' + ". " * 2000 + 'Rest"\n', encoding="utf-8")
    _finishes(f"""
        from pathlib import Path
        from innerchild_audio.library import check_script
        print("check", flush=True)
        result = check_script(Path({str(script)!r}))
        assert result.ok, result.error
    """)
