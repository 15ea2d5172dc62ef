"""A session job needs nothing but its data: the script's folder may be gone from the worker."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from audio_helpers import sine, write_audio
from PIL import Image

from innerchild_audio.inputs import prepare
from innerchild_audio.options import RenderOptions
from innerchild_audio.scale import jobs
from innerchild_audio.scale.bundle import pack

SCRIPT = """\
title: Chime
cover: art/cover.png
voice: {engine: piper, rate: 1.0}
lead_in: 0  # a short session: the job's mechanics, not its spacing
tail: 0
steps:
  - include: parts/hello.yaml
  - sound: sounds/chime.wav
  - pause: {min: 1s, max: 10s}
"""


def test_a_session_renders_from_its_bundle_alone(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    library = tmp_path / "library"
    for folder in ("parts", "sounds", "art"):
        (library / folder).mkdir(parents=True)
    (library / "chime.yaml").write_text(SCRIPT, encoding="utf-8")
    (library / "parts" / "hello.yaml").write_text("steps:\n  - say: Hello there.\n")
    (library / "podcast.yaml").write_text("title: Bundle Podcast\n", encoding="utf-8")
    write_audio(library / "sounds" / "chime.wav", sine(700, 660, 44100), 44100)
    Image.new("RGB", (64, 64), (10, 20, 30)).save(library / "art" / "cover.png")
    bed = write_audio(tmp_path / "bed.wav", sine(3000, 110, 44100, 0.2), 44100)

    prepared = prepare(library / "chime.yaml", RenderOptions(length_ms=8000,
                                                             background=str(bed)))
    bundle = pack(prepared)
    assert set(bundle.files) == {"library/chime.yaml", "library/parts/hello.yaml",
                                 "library/sounds/chime.wav", "library/art/cover.png",
                                 "library/podcast.yaml", "bed.wav"}
    assert bundle.script == "library/chime.yaml" and bundle.background == "bed.wav"
    shutil.rmtree(library)  # as on a worker that shares no folder with the caller
    bed.unlink()
    scratch = tmp_path / "worker-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    job = jobs.SessionJob(options=prepared.options, slug="chime-for-sam",
                          inputs=prepared.inputs, inputs_hash=prepared.inputs_hash,
                          recorded_options=prepared.recorded_options,
                          cache_dir=str(tmp_path / "worker-cache"))
    done = jobs.render_session(job, bundle)
    assert isinstance(done, jobs.SessionDone), done
    names = [name for name, _ in done.files]
    assert names[0] == "chime-for-sam.mp3" and names[-1] == "chime-for-sam.manifest.json"
    assert "chime-for-sam.cover.png" in names
    assert done.duration_ms == pytest.approx(8000, abs=50)
    manifest = json.loads(dict(done.files)["chime-for-sam.manifest.json"])
    assert manifest["inputs_hash"] == prepared.inputs_hash  # the caller's, not the copy's
    assert manifest["options"]["background"] == str(bed.resolve())
    assert manifest["inputs"] == prepared.inputs
    assert not list(scratch.iterdir())  # the job's own folder is gone


def test_a_library_error_in_a_worker_comes_back_as_data(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("title: S\nvoice: {engine: piper}\nsteps:\n  - say: Hi.\n")
    prepared = prepare(path, RenderOptions(length_ms=60 * 60_000))  # far out of reach
    job = jobs.SessionJob(options=prepared.options, slug="s", inputs=prepared.inputs,
                          inputs_hash=prepared.inputs_hash,
                          recorded_options=prepared.recorded_options,
                          cache_dir=str(tmp_path / "cache"))
    failed = jobs.render_session(job, pack(prepared))
    assert isinstance(failed, jobs.JobError) and failed.exit_status == 2
    assert "length 1h" in failed.message and "out of reach" in failed.message
    error = jobs.RemoteError(failed)
    assert error.cli_message() == failed.cli_message and int(error.exit_status) == 2
