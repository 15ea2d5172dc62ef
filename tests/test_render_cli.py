"""`innerchild render`: the summary line, options, and exit codes for each kind of failure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from innerchild_audio import speech
from innerchild_audio.cli import main
from innerchild_audio.errors import SpeechError
from innerchild_audio.export import mp3

SCRIPT = """\
title: Command Line
content_warning: A short warning.
voice: {engine: piper, rate: 1.0}
steps:
  - say: Hello, {name}.
  - pause: {min: 1s, max: 3s}
vars:
  name: friend
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "lib" / "command-line.yaml"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def render(cache: Path, out: Path, *args: str) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        runner = CliRunner()  # click 8.2 keeps stderr apart by itself
    return runner.invoke(main, ["render", *args, "-o", str(out), "--cache-dir", str(cache)])


def test_one_summary_line_per_session(script: Path, cache: Path, tmp_path: Path) -> None:
    second = script.with_name("second.yaml")
    second.write_text(SCRIPT.replace("Command Line", "Second"), encoding="utf-8")
    out = tmp_path / "out"
    result = render(cache, out, str(script), str(second), "--var", "name=Sam", "--length", "12.5s")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line, slug in zip(lines, ["command-line", "second"], strict=True):
        match = re.fullmatch(r"(\S+\.mp3)  (\d+(?:\.\d)?s)  (-\d+\.\d) LUFS", line)
        assert match, line
        assert match.group(1) == str(out / f"{slug}.mp3")
        assert match.group(2) == "12.5s"  # --length reached through the elastic pause
        assert float(match.group(3)) == pytest.approx(-19.0, abs=0.5)
    assert "Hello, Sam." in (out / "command-line.vtt").read_text()
    assert "A short warning." in (out / "command-line.vtt").read_text()
    options = json.loads((out / "second.manifest.json").read_text())["options"]
    assert options["vars"] == {"name": "Sam"} and options["length_ms"] == 12500


def test_no_warnings_and_a_folder(script: Path, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = render(cache, out, str(script.parent), "--no-warnings", "--stereo")
    assert result.exit_code == 0, result.stderr
    assert "A short warning." not in (out / "command-line.vtt").read_text()
    assert json.loads((out / "command-line.manifest.json").read_text())["audio"]["channels"] == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--bitrate", "100"], "not an MP3 CBR rate"),
    (["--length", "10m"], "out of reach"),
    (["--length", "soon"], "--length"),
    (["--background", "no-such-sound"], "--background no-such-sound"),
    (["--var", "oops"], "NAME=VALUE"),
])
def test_usage_errors_exit_2(script: Path, cache: Path, tmp_path: Path, args: list[str],
                             message: str) -> None:
    result = render(cache, tmp_path / "out", str(script), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_invalid_script_exits_2_with_its_location(tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\nsteps:\n  - say: Hi {nobody}.\n")
    result = render(cache, tmp_path / "out", str(bad))
    assert result.exit_code == 2
    assert re.search(r"bad\.yaml:3:\d+: ", result.stderr)
    missing = render(cache, tmp_path / "out", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_speech_failure_exits_1(script: Path, cache: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*_args: object, **_kwargs: object) -> None:
        raise SpeechError("Google is unreachable and Piper has no voice model")

    monkeypatch.setattr(speech, "synthesize_all", offline)
    result = render(cache, tmp_path / "out", str(script))
    assert result.exit_code == 1
    assert "error: Google is unreachable" in result.stderr


def test_encoder_failure_exits_1_and_leaves_nothing(script: Path, cache: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mp3, "ffmpeg_exe", lambda: str(tmp_path / "no-ffmpeg"))
    out = tmp_path / "out"
    result = render(cache, out, str(script))
    assert result.exit_code == 1
    assert "cannot run ffmpeg" in result.stderr
    assert list(out.iterdir()) == []
