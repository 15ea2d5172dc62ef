"""`innerchild batch`: one script for many listeners, on local worker processes."""

from __future__ import annotations

import csv
import faulthandler
import json
from pathlib import Path

import pytest
from batch_helpers import letter_script
from click.testing import CliRunner

from innerchild_audio import audio_io as mp3
from innerchild_audio.build import build_library
from innerchild_audio.cli import main
from innerchild_audio.options import RunSettings
from innerchild_audio.scale.batch import RowError, run_batch

LETTER = letter_script("30s")


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "lib" / "letter.yaml"
    path.parent.mkdir()
    path.write_text(LETTER, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        return CliRunner()


def batch(script: Path, rows: Path, out: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    result = runner().invoke(main, ["batch", str(script), str(rows), "-o", str(out),
                                    "--cache-dir", str(cache), "--jobs", "2", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def cues(vtt: Path) -> list[str]:
    """The spoken text of a WebVTT file, cue by cue."""
    texts = []
    for block in vtt.read_text(encoding="utf-8").split("\n\n"):
        lines = block.splitlines()
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is not None:
            texts.append(" ".join(lines[timing + 1:]))
    return texts


def duration_s(path: Path) -> float:
    return len(mp3.decode_mp3(path)) / mp3.MP3_SAMPLE_RATE


def test_each_row_speaks_its_name_at_its_length(script: Path, cache: Path,
                                                tmp_path: Path) -> None:
    rows = tmp_path / "class.csv"
    rows.write_text("name,length,output\nSam,8s,\nAlex,12s,alex\n,6s,\n", encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = batch(script, rows, out, cache)
    assert code == 0, stderr
    assert "rendered 3, unchanged 0, failed 0" in stdout
    expected = {"letter-sam-8s": ("Sam", 8.0), "alex": ("Alex", 12.0),
                "letter-6s": ("friend", 6.0)}
    for output, (name, seconds) in expected.items():
        assert cues(out / f"{output}.vtt") == [f"Hello, {name}.", "You are welcome here."]
        assert duration_s(out / f"{output}.mp3") == pytest.approx(seconds, abs=0.1)
        manifest = json.loads((out / f"{output}.manifest.json").read_text())
        assert manifest["options"]["vars"] == ({} if name == "friend" else {"name": name})
    with (out / "letter-batch.csv").open(newline="") as handle:
        summary = list(csv.DictReader(handle))
    assert [(r["row"], r["output"], r["status"]) for r in summary] == [
        ("2", "letter-sam-8s", "rendered"), ("3", "alex", "rendered"),
        ("4", "letter-6s", "rendered")]
    assert float(summary[1]["duration_s"]) == pytest.approx(12.0, abs=0.01)
    assert float(summary[1]["loudness_lufs"]) == pytest.approx(-19.0, abs=0.5)
    assert "alex.mp3" in summary[1]["files"].split()
    document = json.loads((out / "letter-batch.json").read_text())
    assert document["rows"][0]["values"] == {"name": "Sam", "length": "8s"}


def test_shared_sentences_are_spoken_once_per_run(script: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({"name": n, "length": "6s"})
                              for n in ("Ana", "Ben", "Cleo", "Dev")) + "\n", encoding="utf-8")
    result = run_batch(script, rows, settings=RunSettings(out_dir=tmp_path / "out", jobs=2,
                                                          cache_dir=tmp_path / "cold"))
    stats = result.stats
    assert stats is not None and result.count("rendered") == 4
    assert stats.sentences == 4 * 2  # each session speaks two sentences
    assert stats.unique == 5  # four greetings and the one shared sentence
    assert stats.synthesized == 5 and stats.model_calls == 5
    # a library build shares across scripts the same way
    library = tmp_path / "library"
    library.mkdir()
    for name in ("one", "two", "three"):
        (library / f"{name}.yaml").write_text(LETTER.replace("Letter", name.title()))
    built = build_library(library, settings=RunSettings(out_dir=tmp_path / "built", jobs=2,
                                                        cache_dir=tmp_path / "cold2"))
    assert built.stats is not None and len(built.rendered) == 3
    assert (built.stats.sentences, built.stats.unique, built.stats.model_calls) == (6, 2, 2)


def test_a_bad_row_is_refused_before_anything_renders(script: Path, cache: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    cases = {
        "name,length\nSam,8s\nAlex,soon\n": "rows.csv:3: column length: ",
        "name,colour\nSam,blue\n": "rows.csv:2: column colour: not a variable of letter.yaml",
        "name,voice\nSam,robot:x\n": "rows.csv:2: column voice: ",
        "name,output\nSam,same\nAlex,same\n": "rows.csv:3: column output: the output 'same' "
                                              "is also row 2's",
        "name,output\nSam,Not A Name\n": "rows.csv:2: column output: 'Not A Name' is not",
        "name\nSam,extra\n": "rows.csv:2: 2 values for 1 columns",
    }
    for text, message in cases.items():
        rows = tmp_path / "rows.csv"
        rows.write_text(text, encoding="utf-8")
        code, _, stderr = batch(script, rows, out, cache)
        assert code == 2, text
        assert message in stderr, stderr
        assert "Traceback" not in stderr
        assert not out.exists()  # nothing rendered, not even the rows before the bad one
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"name": "Sam"}\n\n{"name": ["Al"]}\n', encoding="utf-8")
    with pytest.raises(RowError, match=r"rows.jsonl:3: column name: must be text"):
        run_batch(script, jsonl, settings=RunSettings(out_dir=out, cache_dir=cache))


def test_a_failing_row_does_not_stop_the_others(script: Path, cache: Path,
                                                tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,length\nSam,6s\nAlex,1s\nRobin,7s\n", encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = batch(script, rows, out, cache)
    assert code == 1
    assert "row 3 (letter-alex-1s): " in stderr and "out of reach" in stderr
    assert "rendered 2, unchanged 0, failed 1" in stdout
    assert (out / "letter-sam-6s.mp3").is_file() and (out / "letter-robin-7s.mp3").is_file()
    assert not list(out.glob("letter-alex-1s*"))
    summary = json.loads((out / "letter-batch.json").read_text())["rows"]
    assert [r["status"] for r in summary] == ["rendered", "failed", "rendered"]
    assert "length 1s is out of reach" in summary[1]["error"]


def test_a_rerun_renders_nothing(script: Path, cache: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,length\nSam,6s\nAlex,7s\n", encoding="utf-8")
    out = tmp_path / "out"
    assert batch(script, rows, out, cache)[0] == 0
    sessions = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("letter-*-*")}
    code, stdout, _ = batch(script, rows, out, cache)
    assert code == 0
    assert "rendered 0, unchanged 2, failed 0" in stdout
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes())
            for p in out.glob("letter-*-*")} == sessions
    summary = json.loads((out / "letter-batch.json").read_text())["rows"]
    assert [r["status"] for r in summary] == ["unchanged", "unchanged"]
    assert summary[0]["duration_s"] == pytest.approx(6.0, abs=0.01)
    # a changed row renders again, alone
    rows.write_text("name,length\nSam,6s\nAlex,9s\n", encoding="utf-8")
    _, stdout, _ = batch(script, rows, out, cache)
    assert "rendered 1, unchanged 1, failed 0" in stdout and "letter-alex-9s.mp3" in stdout


def test_the_voice_column_and_progress_lines(script: Path, cache: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,voice\nSam,piper:joe\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _, stderr = batch(script, rows, out, cache, "--length", "6s")
    assert code == 0
    manifest = json.loads((out / "letter-sam-piper-joe.manifest.json").read_text())
    assert manifest["engine"] == "piper" and manifest["voice"]["model"] == "joe"
    assert "letter batch: 1/1 sessions (letter-sam-piper-joe) ETA 0:00" in stderr


def test_plain_imports_leave_dask_alone() -> None:
    import subprocess
    import sys

    code = ("import sys, innerchild_audio.cli, innerchild_audio.build, "
            "innerchild_audio.scale.batch;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_a_scheduler_that_does_not_answer(script: Path, cache: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from innerchild_audio.scale import executor

    monkeypatch.setattr(executor, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows = tmp_path / "rows.csv"
    rows.write_text("name\nSam\n", encoding="utf-8")
    monkeypatch.setenv("INNERCHILD_SCHEDULER", f"tcp://127.0.0.1:{port}")
    code, _, stderr = batch(script, rows, tmp_path / "out", cache)
    assert code == 2
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach the Dask scheduler" in stderr
    assert "dask scheduler" in stderr and not (tmp_path / "out").exists()


def test_a_local_worker_process_that_dies(script: Path, cache: Path, tmp_path: Path) -> None:
    """Its jobs run again on fresh processes; the batch completes with nothing partial."""
    import os
    import signal

    from innerchild_audio.options import ProgressEvent
    from innerchild_audio.scale import executor

    killed: list[int] = []

    def kill_the_workers(event: ProgressEvent) -> None:
        if event.stage == "sessions" and not killed:  # one done, the others queued or running
            pool = executor._pools[2]
            for pid in list(pool._processes):  # type: ignore[attr-defined]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    rows = tmp_path / "rows.csv"
    rows.write_text("name,length\n" + "".join(f"{n},6s\n" for n in ("Ana", "Ben", "Cleo", "Dev")))
    out = tmp_path / "out"
    # a hang here must end the run with the stacks shown, not stall it for good
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        result = run_batch(script, rows, settings=RunSettings(
            out_dir=out, jobs=2, cache_dir=cache, progress=kill_the_workers))
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert killed
    assert result.count("rendered") == 4, [o.summary() for o in result.outcomes]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    for name in ("ana", "ben", "cleo", "dev"):
        assert duration_s(out / f"letter-{name}-6s.mp3") == pytest.approx(6.0, abs=0.1)


def test_auto_is_chosen_once_by_the_caller(script: Path, cache: Path, tmp_path: Path) -> None:
    """Workers speak with the caller's choice (here offline: the offline voice, hibari's
    heart), never choosing again."""
    script.write_text(LETTER.replace("engine: piper", "engine: auto"), encoding="utf-8")
    rows = tmp_path / "rows.csv"
    rows.write_text("name,length\nSam,6s\nAlex,6s\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_batch(script, rows, settings=RunSettings(out_dir=out, jobs=2, cache_dir=cache))
    assert result.count("rendered") == 2
    for output in ("letter-sam-6s", "letter-alex-6s"):
        manifest = json.loads((out / f"{output}.manifest.json").read_text())
        assert manifest["engine"] == "hibari"
        assert manifest["options"]["voices"][0]["engine"] == "auto"  # as the script asks
