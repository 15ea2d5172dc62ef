"""`new`: a script from the template that checks and renders as it stands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LIBRARY

from innerchild_audio.cli import main
from innerchild_audio.errors import UsageError
from innerchild_audio.library import check_script
from innerchild_audio.model import Bell, Breathe, Pause, Say
from innerchild_audio.new_script import CLOSING_PART, OPENING_PART, new_script, slug_for
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.render import render_script


def test_a_new_script_in_an_empty_library_checks_and_renders(tmp_path: Path) -> None:
    library = tmp_path / "meditations"
    result = CliRunner().invoke(main, ["new", "Meeting the Quiet Child", "--length", "4m",
                                       "--library", str(library)])
    assert result.exit_code == 0, result.output
    path = library / "meeting-the-quiet-child.yaml"
    assert result.output.splitlines() == [f"wrote {library / OPENING_PART}",
                                          f"wrote {library / CLOSING_PART}", f"wrote {path}"]
    checked = check_script(path)
    assert checked.ok, checked.error
    script = checked.script
    assert script is not None and script.title == "Meeting the Quiet Child"
    assert script.content_warning and "stop at any time" in script.content_warning
    assert {library / OPENING_PART, library / CLOSING_PART} <= {Path(p) for p in script.files}
    kinds = {type(step) for step in script.steps}
    assert {Say, Pause, Breathe, Bell} <= kinds
    text = path.read_text(encoding="utf-8")
    for kind in ("say:", "pause:", "breathe:", "bell:", "sound:", "chapter:", "include:",
                 "repeat:", "background:"):
        assert kind in text, kind

    rendered = render_script(path, RenderOptions(engine="piper"),
                             RunSettings(out_dir=tmp_path / "out", cache_dir=tmp_path / "cache"))
    assert rendered.duration_ms == 240_000
    assert [m.title for m in rendered.timeline.chapters] == ["Arriving", "Meeting",
                                                             "Coming back"]
    transcript = (tmp_path / "out" / "meeting-the-quiet-child.vtt").read_text()
    assert "You can open your eyes and stop at any time." in transcript
    assert "crisis line" in transcript


def test_the_library_parts_are_used_as_they_are(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    (library / "parts").mkdir(parents=True)
    for name in (OPENING_PART, CLOSING_PART):
        (library / name).write_text((LIBRARY / name).read_text(encoding="utf-8"))
    created = new_script("A Walk by the Sea", library=library)
    assert created.parts == ()
    for name in (OPENING_PART, CLOSING_PART):
        assert (library / name).read_text() == (LIBRARY / name).read_text()
    checked = check_script(created.path)
    assert checked.ok and checked.timeline is not None
    assert checked.timeline.target_ms == 600_000 and checked.timeline.total_ms == 600_000


def test_titles_that_cannot_be_written_are_refused(tmp_path: Path) -> None:
    assert slug_for("Ünder the Old Tree!") == "under-the-old-tree"
    new_script("Once", library=tmp_path)
    with pytest.raises(UsageError, match="already exists"):
        new_script("Once", library=tmp_path)
    with pytest.raises(UsageError, match="no letters or digits"):
        new_script("???", library=tmp_path)
    with pytest.raises(UsageError, match="runs at least"):
        new_script("Too Short", length_ms=60_000, library=tmp_path)
    assert not (tmp_path / "too-short.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["once.yaml", "parts"]
