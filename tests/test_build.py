"""`innerchild build`: renders a library, and renders again only what changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from innerchild_audio.build import build_library
from innerchild_audio.cli import main
from innerchild_audio.options import RunSettings

ONE = """\
title: Session One
voice: {engine: piper, rate: 1.0}
background: {sound: brown-noise, fade_in: 500ms, fade_out: 500ms}
steps:
  - chapter: Start
  - include: parts/intro.yaml
  - pause: 1s
  - say: Rest here, {name}.
vars:
  name: friend
"""
TWO = """\
title: Session Two
voice: {engine: piper, rate: 1.0}
steps:
  - say: Breathe slowly.
  - pause: 1s
"""
INTRO = """\
steps:
  - say: Hello.
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def library(tmp_path: Path) -> Path:
    root = tmp_path / "meditations"
    (root / "parts").mkdir(parents=True)
    (root / "one.yaml").write_text(ONE, encoding="utf-8")
    (root / "two.yaml").write_text(TWO, encoding="utf-8")
    (root / "parts" / "intro.yaml").write_text(INTRO, encoding="utf-8")
    (root / "podcast.yaml").write_text("title: Test Podcast\n", encoding="utf-8")
    return root


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        return CliRunner()  # click 8.2 keeps stderr apart by itself


def build(library: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    out = library.parent / "output"
    result = runner().invoke(main, ["build", str(library), "-o", str(out), "--cache-dir",
                                       str(cache), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def rendered_names(stdout: str) -> set[str]:
    return {Path(line.split()[0]).name for line in stdout.splitlines()
            if line.split() and line.split()[0].endswith(".mp3")}


def test_second_build_renders_nothing_and_says_so(library: Path, cache: Path) -> None:
    code, stdout, _ = build(library, cache)
    assert code == 0, stdout
    assert rendered_names(stdout) == {"one.mp3", "two.mp3"}
    assert "LUFS" in stdout and "rendered 2, unchanged 0, failed 0" in stdout
    out = library.parent / "output"
    before = snapshot(out)
    assert {"one.mp3", "one.manifest.json", "two.mp3", "two.srt"} <= set(before)

    code, stdout, _ = build(library, cache)
    assert code == 0
    assert f"unchanged: {out / 'one.mp3'}" in stdout
    assert f"unchanged: {out / 'two.mp3'}" in stdout
    assert "nothing to render: all 2 sessions are up to date" in stdout
    assert rendered_names(stdout) == set()
    assert snapshot(out) == before  # not a byte, not a timestamp changed


def test_a_changed_part_renders_only_the_session_that_includes_it(library: Path,
                                                                   cache: Path) -> None:
    build(library, cache)
    (library / "parts" / "intro.yaml").write_text(INTRO.replace("Hello.", "Hello again."))
    code, stdout, _ = build(library, cache)
    assert code == 0
    assert rendered_names(stdout) == {"one.mp3"}
    assert "unchanged: " in stdout and "two.mp3" in stdout
    vtt = (library.parent / "output" / "one.vtt").read_text()
    assert "Hello again." in vtt


@pytest.mark.parametrize("args", [["--bitrate", "128"], ["--var", "name=Sam"],
                                  ["--no-warnings"], ["--background", "pink-noise"],
                                  ["--force"]])
def test_options_count_as_inputs(library: Path, cache: Path, args: list[str]) -> None:
    build(library, cache)
    _, stdout, _ = build(library, cache, *args)
    assert rendered_names(stdout) == {"one.mp3", "two.mp3"}
    _, stdout, _ = build(library, cache, *args)
    assert rendered_names(stdout) == ({"one.mp3", "two.mp3"} if args == ["--force"] else set())


def test_a_missing_output_file_renders_that_session_again(library: Path, cache: Path) -> None:
    build(library, cache)
    (library.parent / "output" / "two.srt").unlink()
    _, stdout, _ = build(library, cache)
    assert rendered_names(stdout) == {"two.mp3"}
    assert (library.parent / "output" / "two.srt").exists()


def test_a_dropped_cover_is_removed_by_the_next_build(library: Path, cache: Path) -> None:
    from PIL import Image

    Image.new("RGB", (20, 20), (40, 80, 120)).save(library / "art.png", "PNG")
    (library / "two.yaml").write_text("cover: art.png\n" + TWO, encoding="utf-8")
    out = library.parent / "output"
    build(library, cache)
    assert (out / "two.cover.png").is_file()
    (library / "two.yaml").write_text(TWO, encoding="utf-8")
    _, stdout, _ = build(library, cache)
    assert rendered_names(stdout) == {"two.mp3"}
    assert not (out / "two.cover.png").exists()
    assert (out / "two.mp3").is_file() and (out / "two.manifest.json").is_file()


def test_a_broken_script_is_reported_and_the_others_still_build(library: Path,
                                                                 cache: Path) -> None:
    (library / "bad.yaml").write_text("title: Bad\nsteps:\n  - sey: typo\n")
    code, stdout, stderr = build(library, cache)
    assert code == 2
    assert "bad.yaml:3:" in stderr
    assert rendered_names(stdout) == {"one.mp3", "two.mp3"}
    assert "failed 1" in stdout


def test_the_library_function(library: Path, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: list[str] = []
    settings = RunSettings(out_dir=out, cache_dir=cache)
    first = build_library(library, settings=settings,
                          on_outcome=lambda o: seen.append(type(o).__name__))
    assert [r.slug for r in first.rendered] == ["one", "two"] and seen == ["RenderResult"] * 2
    manifest = json.loads((out / "one.manifest.json").read_text())
    assert set(manifest["inputs"]) == {"one.yaml", "parts/intro.yaml"}
    assert len(manifest["options"]["drawn_cover_sha256"]) == 64  # the cover it carries
    assert manifest["engine"] == "piper" and manifest["options"]["engine"] is None
    second = build_library(library, settings=settings)
    assert not second.rendered and [s.mp3_path.name for s in second.unchanged] == [
        "one.mp3", "two.mp3"]
    # a render with the same inputs elsewhere is the same inputs hash
    shutil.rmtree(out)
    third = build_library(library, settings=settings)
    again = json.loads((out / "one.manifest.json").read_text())
    assert len(third.rendered) == 2 and again["inputs_hash"] == manifest["inputs_hash"]


def test_two_scripts_with_one_slug(library: Path, cache: Path) -> None:
    (library / "three.yaml").write_text(TWO.replace("Session Two", "Three") + "slug: two\n")
    code, _, stderr = build(library, cache)
    assert code == 2 and "slug 'two' is also used by" in stderr


def test_an_empty_folder_is_a_usage_error(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, stderr = build(tmp_path / "empty", cache)
    assert code == 2 and "no scripts in" in stderr
