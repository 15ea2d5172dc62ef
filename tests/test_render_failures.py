"""A render that cannot finish leaves nothing broken and says why in one line.

Odd output folders are refused before any work; a full disk is one message and
exit 1; SIGINT and SIGTERM at any moment end with one line, 130 or 143, and no
temporary file; stale temporary files are swept; a session whose files were not
all committed is rendered again by `build`.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from innerchild_audio.atomic import STALE_AFTER_S, sweep_stale
from innerchild_audio.build import build_library
from innerchild_audio.cli import main
from innerchild_audio.export import tags
from innerchild_audio.options import RenderOptions, RunSettings

SCRIPT = """\
title: Steady
voice: {engine: piper, rate: 1.0}
steps:
  - say: You are steady here. Your feet are on the floor.
  - pause: 2s
  - say: Breathe as you like.
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "lib" / "steady.yaml"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def invoke(*args: str) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args))


@pytest.mark.parametrize("out", ["-", "", "/dev/null", "/proc/no/such"])
def test_odd_output_folders_are_refused_before_any_work(script: Path, cache: Path,
                                                       out: str) -> None:
    result = invoke("render", str(script), "-o", out, "--cache-dir", str(cache))
    assert result.exit_code == 2, result.output
    assert "--output" in result.stderr and "Traceback" not in result.stderr
    assert not (Path.cwd() / "steady.mp3").exists()


def test_a_full_disk_is_one_message_and_nothing_partial(script: Path, cache: Path,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"

    def full(path: Path, *_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(tags, "write_tags", full)
    result = invoke("render", str(script), "-o", str(out), "--cache-dir", str(cache))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert list(out.iterdir()) == []  # the staged MP3 was removed


def test_stale_temporary_files_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    old = tmp_path / ".steady.mp3.0123abcd.tmp"
    fresh = tmp_path / ".steady.vtt.89abcdef.tmp"
    mine = tmp_path / "notes.tmp"  # not one of ours: left alone
    for path in (old, fresh, mine):
        path.write_bytes(b"x" * 100)
    long_ago = time.time() - STALE_AFTER_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(mine, (long_ago, long_ago))
    assert sweep_stale(tmp_path) == 1
    assert not old.exists() and fresh.exists() and mine.exists()


def test_a_half_committed_session_is_rendered_again(script: Path, cache: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "out"
    settings = RunSettings(out_dir=out, cache_dir=cache)
    options = RenderOptions(warnings=False)
    first = build_library(script.parent, options, settings)
    assert len(first.rendered) == 1
    assert not build_library(script.parent, options, settings).rendered  # up to date
    # a render stopped between its renames: a new MP3 beside the old manifest
    mp3 = out / "steady.mp3"
    mp3.write_bytes(mp3.read_bytes()[:-1000])
    again = build_library(script.parent, options, settings)
    assert len(again.rendered) == 1 and not again.unchanged


def _start_render(script: Path, cache: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "INNERCHILD_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-m", "innerchild_audio", "render", str(script), "-o", str(out),
         "--length", "3m"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_handler(pid: int, signum: int, timeout_s: float = 30.0) -> None:
    """Until the process catches `signum` (Linux's SigCgt): from then on it is ours to handle;
    before it, the interpreter itself is still starting."""
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & bit:
            return
        time.sleep(0.002)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("delay_s", [0.0, 0.5, 2.5])  # in the imports, loading, working
@pytest.mark.parametrize(("signum", "status", "word"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_at_any_moment_ends_cleanly(script: Path, cache: Path, tmp_path: Path,
                                              signum: int, status: int, word: str,
                                              delay_s: float) -> None:
    script.write_text(SCRIPT.replace("pause: 2s", "pause: {min: 2s, max: 5m}"),
                      encoding="utf-8")
    out = tmp_path / "out"
    process = _start_render(script, cache, out)
    _wait_for_handler(process.pid, signal.SIGTERM)  # set first, before any import
    time.sleep(delay_s)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the render finished before the signal arrived")
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(word)
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    assert [name for name in leftovers if name.endswith(".tmp")] == []
    assert "steady.mp3" not in leftovers or "steady.manifest.json" in leftovers
