"""`watch`: a render after each save of the script or a part, problems after a bad save."""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.watch import Job, watch_script

SCRIPT = """\
title: Watched
voice: {engine: piper, rate: 1.0}
steps:
  - say: Hello, this is the first version.
  - include: parts/middle.yaml
  - pause: 1s
"""
PART = """\
steps:
  - say: A part in the middle.
"""
WAIT_S = 60  # a generous bound: a hang fails the test instead of stalling the suite


class Lines:
    """What `watch_script` prints, read from the test's side."""

    def __init__(self) -> None:
        self.queue: queue.Queue[str] = queue.Queue()

    def __call__(self, line: str) -> None:
        self.queue.put(line)

    def wait_for(self, pattern: str) -> str:
        deadline = time.monotonic() + WAIT_S
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if re.search(pattern, line):
                return line
        pytest.fail(f"no line matching {pattern!r} within {WAIT_S}s; saw {seen}")

    def seen_within(self, pattern: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                if re.search(pattern, self.queue.get(timeout=left)):
                    return True
            except queue.Empty:
                return False
        return False


@contextlib.contextmanager
def watching(job: Job) -> Iterator[Lines]:
    """`watch_script` on a thread for the test's span; its lines; stopped at the end."""
    lines, stop = Lines(), threading.Event()
    thread = threading.Thread(target=watch_script, args=(job,),
                              kwargs={"debounce_ms": 100, "echo": lines, "stop": stop},
                              daemon=True)
    thread.start()
    try:
        yield lines
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive()


def test_renders_again_after_each_save_and_reports_a_bad_one(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    (library / "parts").mkdir(parents=True)
    script = library / "watched.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    part = library / "parts" / "middle.yaml"
    part.write_text(PART, encoding="utf-8")
    out = tmp_path / "out"
    job = Job(script, RenderOptions(),
              RunSettings(out_dir=out, cache_dir=tmp_path / "cache"))
    with watching(job) as lines:
        lines.wait_for(r"watched\.mp3  \S+  -\d+\.\d LUFS")
        lines.wait_for(r"^watching 2 file")
        assert "first version" in (out / "watched.vtt").read_text()

        script.write_text(SCRIPT.replace("first version", "second version"), encoding="utf-8")
        lines.wait_for(r"^changed: watched\.yaml")
        lines.wait_for(r"watched\.mp3  ")
        assert "second version" in (out / "watched.vtt").read_text()

        part.write_text(PART.replace("in the middle", "that changed"), encoding="utf-8")
        lines.wait_for(r"^changed: middle\.yaml")
        lines.wait_for(r"watched\.mp3  ")
        assert "A part that changed." in (out / "watched.vtt").read_text()

        script.write_text(SCRIPT.replace("  - pause: 1s", "  - pause: 1s\n    colour: blue"),
                          encoding="utf-8")
        lines.wait_for(r"^changed: watched\.yaml")
        problem = lines.wait_for(r"watched\.yaml:\d+:\d+: ")
        assert problem.startswith(f"{script.resolve()}:6:5: a step has exactly one key")
        assert "second version" in (out / "watched.vtt").read_text()  # the last good render


def test_ctrl_c_ends_the_command_cleanly(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "lib" / "watched.yaml"
    script.parent.mkdir()
    script.write_text("title: Watched\nvoice: {engine: piper}\nsteps:\n  - say: Hello.\n",
                      encoding="utf-8")
    env = {**os.environ, "INNERCHILD_CACHE_DIR": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [sys.executable, "-m", "innerchild_audio", "watch", str(script), "--out-dir",
         str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + WAIT_S
        for line in process.stdout:
            if line.startswith("watching") or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == 0, (out, err)
    assert "stopped watching" in out and "Traceback" not in err, (out, err)


def test_with_a_part_each_run_is_a_preview(tmp_path: Path) -> None:
    script = tmp_path / "lib" / "watched.yaml"
    script.parent.mkdir()
    script.write_text("title: Watched\nvoice: {engine: piper}\nsteps:\n  - chapter: One\n"
                      "  - say: Hello.\n  - chapter: Two\n  - say: Goodbye.\n",
                      encoding="utf-8")
    out = tmp_path / "two.wav"
    job = Job(script, RenderOptions(), RunSettings(out_dir=tmp_path, cache_dir=tmp_path / "c"),
              part={"chapter": "Two", "out": out})
    line = job.run()
    assert line.startswith(f"{out}  ") and "chapter 'Two', starts at 0:0" in line
    assert out.is_file()
    assert job.run().endswith("(to " + line.rsplit("(to ", 1)[1])  # the same part again


def test_where_the_os_refuses_file_events_saves_are_found_by_polling(tmp_path: Path,
                                                                     monkeypatch) -> None:
    import watchfiles

    native = watchfiles.watch
    modes = []

    def refusing(*paths, force_polling=None, **kwargs):
        modes.append(bool(force_polling))
        if not force_polling:  # as inotify says when its limit of watches is reached
            raise OSError("OS file watch limit reached")
        yield from native(*paths, force_polling=force_polling, **kwargs)

    monkeypatch.setattr(watchfiles, "watch", refusing)
    script = tmp_path / "watched.yaml"
    script.write_text(SCRIPT.replace("  - include: parts/middle.yaml\n", ""), encoding="utf-8")
    out = tmp_path / "out"
    job = Job(script, RenderOptions(), RunSettings(out_dir=out, cache_dir=tmp_path / "cache"))
    with watching(job) as lines:
        lines.wait_for(r"^watching 1 file")
        notice = lines.wait_for(r"^file events are not available")
        assert "OS file watch limit reached" in notice and "every 300 ms" in notice
        # polling starts from a first look at the files, a moment after the notice: a save
        # made before that look is not a change, so save again until one is seen
        for attempt in range(WAIT_S // 2):
            script.write_text(SCRIPT.replace("first version", f"polled version {attempt}")
                              .replace("  - include: parts/middle.yaml\n", ""), encoding="utf-8")
            if lines.seen_within(r"^changed: watched\.yaml", 2.0):
                break
        lines.wait_for(r"watched\.mp3  ")
        assert "polled version" in (out / "watched.vtt").read_text()
    assert modes[:2] == [False, True]
