"""Pictures of a session: size, and speech spans drawn where the timeline puts them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from innerchild_audio.cli import main
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.picture import draw_timeline, picture_of_render, picture_of_session
from innerchild_audio.picture.draw import COLORS, DPI
from innerchild_audio.plan import plan_script
from innerchild_audio.render import render_script
from innerchild_audio.script import load_script
from innerchild_audio.timeline import SilenceEvent

SCRIPT = """\
title: Picture Test
content_warning: A short warning.
voice: {engine: piper, rate: 1.0}
background: {sound: brown-noise, volume: -18 dB, duck: 6 dB, fade_in: 2s, fade_out: 3s}
steps:
  - chapter: One
  - say: Hello there. This is the first part.
  - pause: 6s
  - bell: {strikes: 2, gap: 2s}
  - chapter: Two
  - say: Now the second part begins.
  - breathe: {in: 2s, hold: 1s, out: 2s, cycles: 2, cues: voice}
  - pause: {min: 2s, max: 40s}
  - say: The end is here. Thank you.
"""
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def script_path(tmp_path: Path) -> Path:
    path = tmp_path / "lib" / "picture-test.yaml"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def _x_extent(group: ET.Element) -> tuple[float, float]:
    path = group.find(f"{SVG}path")
    assert path is not None
    xs = [float(x) for x, _ in re.findall(r"(-?[\d.]+) (-?[\d.]+)", path.get("d", ""))]
    return min(xs), max(xs)


def _y_extent(group: ET.Element) -> tuple[float, float]:
    path = group.find(f"{SVG}path")
    assert path is not None
    ys = [float(y) for _, y in re.findall(r"(-?[\d.]+) (-?[\d.]+)", path.get("d", ""))]
    return min(ys), max(ys)


def _groups(svg: Path) -> dict[str, ET.Element]:
    root = ET.parse(svg).getroot()
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("id")}


def test_svg_speech_spans_sit_where_the_timeline_says(script_path: Path, tmp_path: Path) -> None:
    script = load_script(script_path)
    timeline = plan_script(script, target_ms=55_000)
    picture = draw_timeline(timeline, script.title, tmp_path / "plan.svg", width_px=900,
                            estimated=True)
    root = ET.parse(picture.path).getroot()
    assert float(root.get("width", "0").removesuffix("pt")) * DPI / 72 == pytest.approx(900)
    assert float(root.get("height", "0").removesuffix("pt")) * DPI / 72 == pytest.approx(
        picture.height_px)
    groups = _groups(picture.path)
    px_ms = picture.row_ms / (_x_extent(groups["row-0"])[1] - _x_extent(groups["row-0"])[0])
    assert timeline.speech
    for index, event in enumerate(timeline.speech):
        row = event.start_ms // picture.row_ms
        left, right = _x_extent(groups["row-" + str(row)])
        x0, _ = _x_extent(groups[f"speech-{index}-0"])
        start = row * picture.row_ms + (x0 - left) / (right - left) * picture.row_ms
        assert start == pytest.approx(event.start_ms, abs=2 * px_ms), event
        pieces = [k for k in groups if k.startswith(f"speech-{index}-")]
        drawn = sum(_x_extent(groups[k])[1] - _x_extent(groups[k])[0] for k in pieces)
        assert drawn / (right - left) * picture.row_ms == pytest.approx(
            event.duration_ms, abs=2 * px_ms * len(pieces))
    assert f"speech-{len(timeline.speech)}-0" not in groups
    again = draw_timeline(timeline, script.title, tmp_path / "again.svg", width_px=900,
                          estimated=True)
    assert again.path.read_bytes() == picture.path.read_bytes()  # no dates, no random ids


def test_png_has_the_stated_size_and_speech_pixels_where_speech_is(
        script_path: Path, tmp_path: Path) -> None:
    script = load_script(script_path)
    timeline = plan_script(script)
    svg = draw_timeline(timeline, script.title, tmp_path / "plan.svg", estimated=True)
    png = draw_timeline(timeline, script.title, tmp_path / "plan.png", estimated=True)
    with Image.open(png.path) as image:
        assert image.format == "PNG"
        assert image.size == (png.width_px, png.height_px) == (1080, svg.height_px)
        pixels = image.convert("RGB")
        groups = _groups(svg.path)
        scale = DPI / 72  # SVG points to PNG pixels
        speech = tuple(int(COLORS["speech"][i:i + 2], 16) for i in (1, 3, 5))
        row = tuple(int(COLORS["row"][i:i + 2], 16) for i in (1, 3, 5))
        x0, x1 = _x_extent(groups["speech-1-0"])
        y0, y1 = _y_extent(groups["speech-1-0"])
        assert pixels.getpixel((round((x0 + x1) / 2 * scale), round((y0 + y1) / 2 * scale))
                               ) == speech
        # in the middle of the fixed pause, the speech lane shows the row's background
        pause = next(e for e in timeline.events
                     if isinstance(e, SilenceEvent) and e.reason == "pause")
        left, right = _x_extent(groups["row-0"])
        mid = left + (pause.start_ms + pause.duration_ms / 2) / png.row_ms * (right - left)
        assert pixels.getpixel((round(mid * scale), round((y0 + y1) / 2 * scale))) == row


def test_rendered_session_picture_rebuilds_the_real_timeline(script_path: Path, cache: Path,
                                                             tmp_path: Path) -> None:
    settings = RunSettings(out_dir=tmp_path / "out", cache_dir=cache)
    result = render_script(script_path, RenderOptions(length_ms=55_000), settings)
    drawn = picture_of_render(result, tmp_path / "render.png")
    assert drawn.timeline == result.timeline
    again = picture_of_session(result.mp3_path, tmp_path / "session.svg",
                               library=script_path.parent)
    assert again.timeline == result.timeline  # pauses, bells and breaths too
    assert again.timeline.target_ms == 55_000
    # without the script: the speech and chapters the files tell
    alone = picture_of_session(result.mp3_path, tmp_path / "alone.svg",
                               library=tmp_path / "elsewhere")
    assert [(e.start_ms, e.duration_ms, e.request.text) for e in alone.timeline.speech] == [
        (e.start_ms, e.duration_ms, e.request.text) for e in result.timeline.speech]
    assert alone.timeline.chapters == result.timeline.chapters
    assert "speech-0-0" in _groups(alone.path)

    runner = CliRunner()
    cli = runner.invoke(main, ["picture", str(result.mp3_path), "--library",
                               str(script_path.parent), "--width", "600"])
    assert cli.exit_code == 0, cli.output
    with Image.open(result.mp3_path.with_suffix(".png")) as image:
        assert image.size[0] == 600


def test_plan_picture_from_the_command_line(script_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "plan.png"
    result = runner.invoke(main, ["plan", str(script_path), "--picture", str(out)])
    assert result.exit_code == 0, result.output
    assert f"picture: {out}  (1080x" in result.output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] == 1080
    bad = runner.invoke(main, ["plan", str(script_path), "--picture", str(tmp_path / "x.jpg")])
    assert bad.exit_code == 2 and ".png or .svg" in bad.output
    assert not (tmp_path / "x.jpg").exists()
    missing = runner.invoke(main, ["picture", str(script_path)])
    assert missing.exit_code == 2 and "no manifest" in missing.output


def test_render_draws_each_session_when_asked(script_path: Path, cache: Path,
                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(script_path), "-o", str(out),
                                       "--cache-dir", str(cache), "--picture"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{out / 'picture-test.mp3'}  ")
    assert lines[1].startswith(f"picture: {out / 'picture-test.png'}  (1080x")
    with Image.open(out / "picture-test.png") as image:
        assert image.format == "PNG" and image.size[0] == 1080
