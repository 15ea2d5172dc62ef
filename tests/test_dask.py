"""Batches on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The commands are the README's ("Scaling out"). Each worker has its own speech
cache folder and shares no folder with the caller: scripts travel to it as
bytes and the sessions come back as bytes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_helpers import letter_script

from innerchild_audio import audio_io as mp3
from innerchild_audio.options import RunSettings
from innerchild_audio.scale.batch import BatchResult, run_batch
from innerchild_audio.speech import cache_info

pytestmark = pytest.mark.dask

DASK = str(Path(sys.executable).with_name("dask"))
START_S = 90  # a loaded machine may take long to start the cluster
BATCH_S = 240

LETTER = letter_script("60s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """The process and its children (a worker's nanny starts one), by their group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tcp://127.0.0.1:PORT with two single-threaded workers, each with its own cache."""
    from distributed import Client

    home = tmp_path_factory.mktemp("cluster")
    address = f"tcp://127.0.0.1:{free_port()}"
    commands = [[DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                 "--no-dashboard"]]
    commands += [[DASK, "worker", address, "--nworkers", "1", "--nthreads", "1",
                  "--host", "127.0.0.1", "--no-dashboard"]] * 2
    processes: list[subprocess.Popen] = []
    try:
        for index, command in enumerate(commands):
            env = {**os.environ, "INNERCHILD_CACHE_DIR": str(home / f"worker{index}-cache")}
            log = (home / f"process{index}.log").open("wb")
            processes.append(subprocess.Popen(command, cwd=home, env=env, stdout=log,
                                              stderr=subprocess.STDOUT,
                                              start_new_session=True))
            if index == 0:
                time.sleep(1.0)  # the scheduler listens before workers look for it
        with Client(address, timeout=START_S) as client:
            client.wait_for_workers(2, timeout=START_S)
        yield address
    finally:
        for process in reversed(processes):
            stop(process)


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "lib" / "letter.yaml"
    path.parent.mkdir()
    path.write_text(LETTER, encoding="utf-8")
    return path


def rows_file(tmp_path: Path, names: list[str], length: str) -> Path:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,length\n" + "".join(f"{n},{length}\n" for n in names))
    return rows


def batch_within(seconds: float, *args, **kwargs) -> BatchResult:
    """run_batch, failing (not hanging) when it takes far too long."""
    done: list[BatchResult | BaseException] = []

    def run() -> None:
        try:
            done.append(run_batch(*args, **kwargs))
        except BaseException as error:  # handed to the test below
            done.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, f"the batch did not finish within {seconds}s"
    if isinstance(done[0], BaseException):
        raise done[0]
    return done[0]


def texts(vtt: Path) -> list[str]:
    return [line for line in vtt.read_text().splitlines()
            if line and "-->" not in line and line != "WEBVTT" and not line.isdigit()]


def audio(out: Path) -> dict[str, dict]:
    """Each session's manifest audio entry, by file name."""
    return {p.name: json.loads(p.read_text())["audio"] for p in out.glob("*.manifest.json")}


def test_the_same_batch_on_the_cluster_as_here(cluster: str, script: Path,
                                               tmp_path: Path) -> None:
    rows = rows_file(tmp_path, ["Sam", "Alex", "Robin"], "7s")
    # 1. On the cluster from cold: the workers speak, the caller's cache fills from them.
    cold = tmp_path / "cold-cache"
    remote = batch_within(BATCH_S, script, rows, settings=RunSettings(
        out_dir=tmp_path / "remote", cache_dir=cold, scheduler=cluster))
    assert remote.count("rendered") == 3 and remote.stats is not None
    assert remote.stats.executor == "dask" and remote.stats.workers == 2
    assert remote.stats.unique == 4 and remote.stats.model_calls == 4  # once, on either worker
    assert cache_info(cold).entries == 4
    # 2. Here, with a cache of its own: Piper speaks each sentence a little differently
    # from run to run, so the sessions agree in length, words and loudness.
    here = tmp_path / "here"
    local = batch_within(BATCH_S, script, rows, settings=RunSettings(
        out_dir=here, cache_dir=tmp_path / "local-cache", jobs=2))
    assert local.count("rendered") == 3
    remote_audio, local_audio = audio(tmp_path / "remote"), audio(here)
    assert remote_audio.keys() == local_audio.keys() and len(local_audio) == 3
    for name, entry in local_audio.items():
        assert remote_audio[name]["duration_s"] == pytest.approx(entry["duration_s"], abs=0.001)
        assert remote_audio[name]["loudness_lufs"] == pytest.approx(entry["loudness_lufs"],
                                                                    abs=0.1)
    for vtt in here.glob("*.vtt"):
        assert texts(tmp_path / "remote" / vtt.name) == texts(vtt)
    assert texts(here / "letter-alex-7s.vtt") == ["Hello, Alex.", "You are welcome here."]
    # 3. On the cluster with the speech this machine made: the same bytes.
    again = batch_within(BATCH_S, script, rows, settings=RunSettings(
        out_dir=tmp_path / "again", cache_dir=tmp_path / "local-cache", scheduler=cluster))
    assert again.count("rendered") == 3 and again.stats is not None
    assert again.stats.cached == 4 and again.stats.model_calls == 0
    for path in here.glob("*.mp3"):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()


def test_a_worker_killed_mid_batch(cluster: str, script: Path, tmp_path: Path) -> None:
    """The job it ran runs again on a worker that lives; nothing partial is written."""
    from distributed import Client

    names = ["Ana", "Ben", "Cleo", "Dev"]
    rows = rows_file(tmp_path, names, "20s")
    killed: list[str] = []
    stop_watching = threading.Event()

    def kill_a_busy_worker() -> None:
        with Client(cluster, timeout=START_S) as client:
            while not stop_watching.is_set():
                busy = [worker for worker, keys in client.processing().items()
                        if any(str(k).startswith("render_session") for k in keys)]
                if busy:
                    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                    os.kill(pid, signal.SIGKILL)  # its nanny starts a new one
                    killed.append(busy[0])
                    return
                time.sleep(0.05)

    watcher = threading.Thread(target=kill_a_busy_worker, daemon=True)
    watcher.start()
    out = tmp_path / "out"
    try:
        result = batch_within(BATCH_S, script, rows, settings=RunSettings(
            out_dir=out, cache_dir=tmp_path / "cache", scheduler=cluster))
    finally:
        stop_watching.set()
        watcher.join(30)
    assert killed, "no worker was caught rendering"
    assert result.count("rendered") == len(names), [o.summary() for o in result.outcomes]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    for name in names:
        session = out / f"letter-{name.lower()}-20s.mp3"
        assert len(mp3.decode_mp3(session)) / mp3.MP3_SAMPLE_RATE == pytest.approx(20, abs=0.1)
    summary = json.loads((out / "letter-batch.json").read_text())["rows"]
    assert [r["status"] for r in summary] == ["rendered"] * len(names)
    with Client(cluster, timeout=START_S) as client:  # the nanny has replaced it
        client.wait_for_workers(2, timeout=START_S)
