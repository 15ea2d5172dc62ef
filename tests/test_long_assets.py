"""Asset files are read only as far as a session needs them: memory does not grow with them.

A two-hour bed under a 20-second session, and a two-hour `sound:` that `check` refuses,
each run in a process of their own whose peak memory is measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from innerchild_audio.audio_io import ffmpeg_exe

LIMIT_MIB = 300


@pytest.fixture(scope="module")
def two_hours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two hours of a soft tone, small on disk (8 kHz, 8 kbps MP3), huge when decoded."""
    path = tmp_path_factory.mktemp("assets") / "two-hours.mp3"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=220:sample_rate=8000:duration=7200", "-c:a", "libmp3lame",
                    "-b:a", "8k", str(path)], check=True, timeout=300)
    return path


def peak_mib_of(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str],
                                                                float]:
    """Run a child and return it with its own peak resident set (MiB, Linux's ru_maxrss)."""
    code = ("import resource, subprocess, sys; "
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
            "sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=600)
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return done, peak_kib / 1024


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_a_two_hour_bed_under_a_short_session_stays_small(two_hours: Path, tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "bed.mp3").write_bytes(two_hours.read_bytes())
    (library / "short.yaml").write_text(
        "title: Short\nvoice: {engine: piper, rate: 1.0}\n"
        "background: {sound: bed.mp3, volume: -20 dB}\n"
        "steps:\n  - say: Rest here for a moment.\n  - pause: 15s\n", encoding="utf-8")
    env = {**os.environ, "INNERCHILD_CACHE_DIR": str(tmp_path / "cache")}
    render = [sys.executable, "-m", "innerchild_audio", "render", str(library / "short.yaml"),
              "-o", str(tmp_path / "out")]
    # the speech made and cached first, with a generated bed: the voice model's memory
    # belongs to synthesis, not to the bed; this is the same session's floor
    done, floor = peak_mib_of([*render, "--background", "brown-noise"], env)
    done, floor = peak_mib_of([*render, "--background", "brown-noise"], env)
    assert done.returncode == 0, done.stderr
    done, peak = peak_mib_of(render, env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "short.mp3").is_file()
    # decoded whole, the bed alone would be 1.2 GB of float32 at 44.1 kHz
    assert peak < LIMIT_MIB, f"peak {peak:.0f} MiB"
    assert peak - floor < 40, f"the bed cost {peak - floor:.0f} MiB over {floor:.0f} MiB"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_checking_a_two_hour_sound_refuses_it_in_little_memory(two_hours: Path,
                                                                tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "long.mp3").write_bytes(two_hours.read_bytes())
    (library / "long.yaml").write_text(
        "title: Long\nsteps:\n  - say: Listen.\n  - sound: long.mp3\n", encoding="utf-8")
    done, peak = peak_mib_of([sys.executable, "-m", "innerchild_audio", "check",
                              str(library / "long.yaml")], dict(os.environ))
    assert done.returncode == 2
    assert "at most 1h" in done.stderr and "long.yaml:4" in done.stderr
    assert peak < LIMIT_MIB, f"peak {peak:.0f} MiB"
