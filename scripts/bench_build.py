"""Benchmark: builds and batches as a graph, on local processes and on a local Dask cluster.

    python scripts/bench_build.py [--sessions 40] [--minutes 3] [--skip-library]

Prints, measured in this one run (offline Piper voice, empty speech caches):

1. a cold build of the library (`meditations/`) at --jobs 2 against --jobs 1
   (goal <= 0.6 on two cores);
2. speech model calls against the sum of each session's sentences (goal: the
   number of unique sentences);
3. a batch of personalized sessions (a name in several sentences, its own
   length): sessions per minute on local worker processes against a Dask
   cluster of two single-threaded workers started here on 127.0.0.1 (goal:
   Dask within 15% of local), and the peak memory of each worker.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from innerchild_audio.build import build_library
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.scale.batch import run_batch
from innerchild_audio.scale.executor import open_executor, stop_local_workers

REPO = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).with_name("dask"))

LETTER = """\
title: A Letter
content_warning: This session speaks gently about childhood.
voice: {engine: piper, rate: 1.0}
vars:
  name: friend
steps:
  - chapter: Arriving
  - say: >-
      Welcome, {name}. You can open your eyes and stop at any time.
      This session is not a substitute for therapy.
  - pause: {min: 2s, max: 20s}
  - say: Let your shoulders soften, and let your breath find its own pace.
  - pause: {min: 2s, max: 20s}
  - say: Notice the ground beneath you, holding you up without any effort.
  - pause: {min: 2s, max: 20s}
  - chapter: The letter
  - say: Imagine a letter addressed to you, {name}, written in kind handwriting.
  - pause: {min: 2s, max: 20s}
  - say: It says that you were doing the best you could with what you had.
  - pause: {min: 2s, max: 20s}
  - say: If anything here feels too much, open your eyes and come back to the room.
  - pause: {min: 2s, max: 20s}
  - say: You deserved care then, {name}, and you deserve it now.
  - pause: {min: 2s, max: 20s}
  - chapter: Returning
  - say: >-
      If you are struggling, please reach out to someone you trust, or a local
      crisis line.
  - pause: {min: 2s, max: 20s}
  - say: Slowly feel your hands and feet, and the room around you.
  - pause: {min: 2s, max: 10s}
  - say: When you are ready, open your eyes. Thank you for being here, {name}.
"""
NAMES = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June", "Kai",
         "Lena", "Milo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess", "Uma",
         "Vik", "Wren", "Xavi", "Yara", "Zeno"]


def peak_rss_mib() -> float:
    """This process's peak resident set (a worker calls it on itself)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_after(seconds: float) -> tuple[int, float]:
    time.sleep(seconds)  # long enough that every worker takes one
    return os.getpid(), peak_rss_mib()


def worker_peaks() -> str:
    """The peak memory of each local worker process of the last --jobs 2 run."""
    with open_executor(jobs=2) as executor:  # the pool that run used (kept for later runs)
        futures = [executor.submit(_peak_after, 1.0) for _ in range(4)]
        peaks = dict(f.result() for f in futures)
    return ", ".join(f"{p:.0f}" for p in sorted(peaks.values()))


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return result, seconds


def library_build(tmp: Path) -> None:
    print("library build, cold (empty cache), --engine piper:")
    results = {}
    stop_local_workers()
    for jobs in (1, 2):
        settings = RunSettings(out_dir=tmp / f"lib-{jobs}", jobs=jobs,
                               cache_dir=tmp / f"lib-cache-{jobs}")
        result, seconds = timed(f"--jobs {jobs}", build_library, REPO / "meditations",
                                RenderOptions(engine="piper"), settings)
        assert not result.failed, [f.summary() for f in result.failed]
        results[jobs] = (result, seconds)
    stats = results[1][0].stats
    assert stats is not None
    print(f"  ratio --jobs 2 / --jobs 1: {results[2][1] / results[1][1]:.2f}  (goal <= 0.6)")
    print(f"  sessions {stats.sessions}; sentences per session summed {stats.sentences}; "
          f"unique {stats.unique}")
    print(f"  model calls / unique sentences: {stats.model_calls} / {stats.unique} = "
          f"{stats.model_calls / stats.unique:.2f}  (goal 1.00; per-session synthesis "
          f"would make {stats.sentences}, {stats.sentences / stats.unique:.2f}x)")
    other = results[2][0].stats
    assert other is not None
    print(f"  at --jobs 2: model calls {other.model_calls}, voices loaded {other.voices_loaded};"
          f" peak memory per worker {worker_peaks()} MiB")
    stop_local_workers()


def start_cluster(home: Path) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    commands = [[DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard"]]
    commands += [[DASK, "worker", address, "--nworkers", "1", "--nthreads", "1",
                  "--host", "127.0.0.1", "--no-dashboard"]] * 2
    processes = []
    for index, command in enumerate(commands):
        env = {**os.environ, "INNERCHILD_CACHE_DIR": str(home / f"worker{index}-cache")}
        log = (home / f"dask{index}.log").open("wb")
        processes.append(subprocess.Popen(command, env=env, cwd=home, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        if index == 0:
            time.sleep(1.0)
    from distributed import Client

    with Client(address, timeout=90) as client:
        client.wait_for_workers(2, timeout=90)
    return address, processes


def stop_cluster(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def personalized_batch(tmp: Path, sessions: int, minutes: float) -> None:
    script = tmp / "batch" / "letter.yaml"
    script.parent.mkdir()
    script.write_text(LETTER, encoding="utf-8")
    rows = tmp / "batch" / "rows.csv"
    names = [NAMES[i % len(NAMES)] + (str(i // len(NAMES)) if i >= len(NAMES) else "")
             for i in range(sessions)]
    # lengths spread a little around the target, as listeners choose them
    lengths = [f"{round(minutes * 60 + (i % 5 - 2) * 6)}s" for i in range(sessions)]
    rows.write_text("name,length\n" + "".join(f"{n},{length}\n"
                                              for n, length in zip(names, lengths, strict=True)))
    print(f"batch of {sessions} personalized sessions of about {minutes:g} min, cold caches:")

    local, local_s = timed("local processes (--jobs 2)", run_batch, script, rows,
                           settings=RunSettings(out_dir=tmp / "local", jobs=2,
                                                cache_dir=tmp / "batch-cache-local"))
    assert local.count("rendered") == sessions, [o.summary() for o in local.outcomes]
    local_peaks = worker_peaks()

    address, processes = start_cluster(tmp)
    try:
        remote, remote_s = timed("Dask, 2 workers x 1 thread", run_batch, script, rows,
                                 settings=RunSettings(out_dir=tmp / "dask", scheduler=address,
                                                      cache_dir=tmp / "batch-cache-dask"))
        assert remote.count("rendered") == sessions, [o.summary() for o in remote.outcomes]
        from distributed import Client

        with Client(address, timeout=30) as client:
            dask_peaks = sorted(client.run(peak_rss_mib).values())
    finally:
        stop_cluster(processes)
    local_rate, remote_rate = sessions / local_s * 60, sessions / remote_s * 60
    stats = remote.stats
    assert stats is not None and local.stats is not None
    print(f"  sessions per minute: local {local_rate:.1f}, Dask {remote_rate:.1f}; "
          f"Dask / local {remote_rate / local_rate:.2f}  (goal >= 0.85)")
    print(f"  unique sentences {stats.unique} of {stats.sentences}; model calls local "
          f"{local.stats.model_calls}, Dask {stats.model_calls}")
    print(f"  peak memory per worker: local {local_peaks} MiB;"
          f" Dask {', '.join(f'{p:.0f}' for p in dask_peaks)} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--skip-library", action="store_true")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as folder:
        tmp = Path(folder)
        if not args.skip_library:
            library_build(tmp)
        personalized_batch(tmp, args.sessions, args.minutes)


if __name__ == "__main__":
    main()
