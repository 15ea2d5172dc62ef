"""Sound and cover files: confined to the library like includes, and opened by `check`."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from audio_helpers import sine, write_audio
from click.testing import CliRunner
from PIL import Image

from innerchild_audio.cli import main
from innerchild_audio.errors import ScriptError
from innerchild_audio.library import check_script
from innerchild_audio.script import load_script

# Each place a script names a file, written with a placeholder for the path.
ASSET_USES = {
    "sound step": "title: T\nsteps:\n  - say: Hi.\n  - sound: {path}\n",
    "sound long form": "title: T\nsteps:\n  - say: Hi.\n  - sound: {{file: {path}}}\n",
    "bell sound": "title: T\nsteps:\n  - say: Hi.\n  - bell: {{sound: {path}}}\n",
    "background": "title: T\nbackground: {{sound: {path}}}\nsteps:\n  - say: Hi.\n",
    "background step": "title: T\nsteps:\n  - say: Hi.\n  - background: {{sound: {path}}}\n",
    "cover": "title: T\ncover: {path}\nsteps:\n  - say: Hi.\n",
}
LINE = {"sound step": 4, "sound long form": 4, "bell sound": 4, "background": 2,
        "background step": 4, "cover": 2}


def _wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(path, sine(round(seconds * 1000), 440, rate, 0.3), rate)


def _png(path: Path, size: tuple[int, int] = (8, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 90, 60)).save(path)
    return path


def _asset(use: str, path: Path) -> Path:
    return _png(path.with_suffix(".png")) if use == "cover" else _wav(path.with_suffix(".wav"))


def _suffix(use: str) -> str:
    return ".png" if use == "cover" else ".wav"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    return folder


def _refused(path: Path, line: int, *words: str, **options: object) -> str:
    with pytest.raises(ScriptError) as caught:
        load_script(path, **options)  # type: ignore[arg-type]
    matching = [p for p in caught.value.problems if p.line == line]
    assert matching, [p.format() for p in caught.value.problems]
    message = " ".join(p.message for p in matching)
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("use", ASSET_USES)
def test_an_asset_above_the_library_is_refused(library, write_script, use):
    _asset(use, library.parent / "outside")
    path = write_script(ASSET_USES[use].format(path=f"../outside{_suffix(use)}"))
    message = _refused(path, LINE[use], "leaves the script library folder", "--assets-dir")
    assert str(library.resolve()) in message


@pytest.mark.parametrize("use", ASSET_USES)
def test_an_absolute_path_outside_the_library_is_refused(library, write_script, use):
    outside = _asset(use, library.parent / "elsewhere" / "file")
    path = write_script(ASSET_USES[use].format(path=str(outside)))
    _refused(path, LINE[use], "leaves")


@pytest.mark.parametrize("use", ASSET_USES)
def test_a_symlink_pointing_out_of_the_library_is_refused(library, write_script, use):
    outside = _asset(use, library.parent / "private" / "file")
    (library / f"link{_suffix(use)}").symlink_to(outside)
    path = write_script(ASSET_USES[use].format(path=f"link{_suffix(use)}"))
    _refused(path, LINE[use], "leaves")


@pytest.mark.parametrize("use", ASSET_USES)
def test_a_folder_named_as_an_asset_folder_is_allowed(library, write_script, use):
    outside = _asset(use, library.parent / "shared" / "file")
    path = write_script(ASSET_USES[use].format(path=str(outside)))
    script = load_script(path, asset_dirs=[library.parent / "shared"])
    assert outside.resolve() in script.assets
    with pytest.raises(ScriptError):  # only the folders named
        load_script(path, asset_dirs=[library.parent / "other"])


def test_asset_folders_do_not_let_includes_out(library, write_script):
    shared = library.parent / "shared"
    shared.mkdir()
    (shared / "part.yaml").write_text("steps:\n  - say: Outside.\n", encoding="utf-8")
    path = write_script(f"title: T\nsteps:\n  - say: Hi.\n  - include: {shared / 'part.yaml'}\n")
    _refused(path, 4, "leaves", asset_dirs=[shared])


def test_a_part_names_assets_relative_to_itself_inside_the_library(library, write_script):
    _wav(library / "parts" / "chime.wav")
    write_script("steps:\n  - sound: chime.wav\n  - sound: ../../x.wav\n", "parts/p.yaml")
    _wav(library.parent / "x.wav")
    path = write_script("title: T\nsteps:\n  - say: Hi.\n  - include: parts/p.yaml\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    (problem,) = caught.value.problems
    assert (problem.file.name, problem.line) == ("p.yaml", 3)
    assert "leaves" in problem.message


def test_check_with_assets_dir_on_the_command_line(library, write_script):
    outside = _wav(library.parent / "shared" / "bowl.wav")
    path = write_script(f"title: T\nsteps:\n  - say: Hi.\n  - bell: {{sound: {outside}}}\n")
    refused = CliRunner().invoke(main, ["check", str(path)])
    assert refused.exit_code == 2
    assert f"{path.resolve()}:4:" in refused.output and "--assets-dir" in refused.output
    allowed = CliRunner().invoke(main, ["check", "--assets-dir", str(outside.parent), str(path)])
    assert allowed.exit_code == 0, allowed.output


# --- check opens what it names -----------------------------------------------------

def _bomb_png(path: Path, side: int = 20_000) -> Path:
    """A PNG whose header claims side x side pixels (its data is a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


BAD_FILES = {
    "undecodable sound step": ("sound step", "noise.wav", b"this is not audio\n" * 64,
                               "cannot be decoded"),
    "undecodable bell": ("bell sound", "bowl.wav", b"\0" * 2048, "cannot be decoded"),
    "undecodable bed": ("background", "bed.mp3", b"ID3 but nothing after", "cannot be decoded"),
    "undecodable bed change": ("background step", "rain.ogg", b"OggS" + b"\1" * 300,
                               "cannot be decoded"),
    "image that is not one": ("cover", "art.png", b"<html>not an image</html>",
                              "cannot be read as an image"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_check_opens_each_asset_and_locates_a_bad_one(library, write_script, case):
    use, name, data, words = BAD_FILES[case]
    (library / name).write_bytes(data)
    path = write_script(ASSET_USES[use].format(path=name))
    result = check_script(path)
    assert not result.ok
    problems = result.error.problems  # type: ignore[union-attr]
    assert [(p.file, p.line) for p in problems] == [(path.resolve(), LINE[use])]
    assert words in problems[0].message and name in problems[0].message


def test_check_refuses_a_decompression_bomb_cover_from_its_header(library, write_script):
    _bomb_png(library / "huge.png")
    path = write_script(ASSET_USES["cover"].format(path="huge.png"))
    result = check_script(path)
    assert not result.ok
    (problem,) = result.error.problems  # type: ignore[union-attr]
    assert problem.line == 2 and "too large to be a cover" in problem.message


def test_an_undecodable_sound_is_exit_2_with_its_location(library, write_script):
    (library / "noise.wav").write_bytes(b"RIFF garbage" * 20)
    path = write_script(ASSET_USES["sound step"].format(path="noise.wav"))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path.resolve()}:4:12: sound file: noise.wav cannot be decoded" in result.output
    assert "Traceback" not in result.output


def test_render_takes_the_asset_folders_too(library, write_script):
    from innerchild_audio.inputs import prepare
    from innerchild_audio.options import RenderOptions

    outside = _wav(library.parent / "shared" / "bowl.wav")
    path = write_script(ASSET_USES["bell sound"].format(path=outside))
    with pytest.raises(ScriptError, match="leaves"):
        prepare(path, RenderOptions())
    prepared = prepare(path, RenderOptions(asset_dirs=(outside.parent,)))
    assert outside.resolve() in prepared.script.assets


@pytest.mark.parametrize("case", ["undecodable bell", "image that is not one"])
def test_render_refuses_a_bad_asset_at_load_before_any_speech(library, write_script,
                                                             tmp_path, case):
    use, name, data, words = BAD_FILES[case]
    (library / name).write_bytes(data)
    path = write_script(ASSET_USES[use].format(path=name))
    cache = tmp_path / "cache"
    result = CliRunner().invoke(main, ["render", str(path), "--engine", "piper",
                                       "--cache-dir", str(cache), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{path.resolve()}:{LINE[use]}:" in result.output and words in result.output
    assert "Traceback" not in result.output
    assert not any(cache.rglob("*.*"))  # nothing was synthesized
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unchanged_sound_is_opened_once_a_process_and_a_changed_one_again(tmp_path,
                                                                            monkeypatch):
    import innerchild_audio.audio_io as audio_io
    from innerchild_audio.script.assets import AssetProblem, open_sound

    calls: list[Path] = []
    real = audio_io.decode

    def counted(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(audio_io, "decode", counted)
    sound = _wav(tmp_path / "bowl.wav")
    for _ in range(3):  # a batch prepares its script once a row
        open_sound(sound)
    assert calls == [sound]
    sound.write_bytes(b"no longer audio" * 40)
    with pytest.raises(AssetProblem, match="cannot be decoded"):
        open_sound(sound)
    assert len(calls) == 2
