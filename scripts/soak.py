"""Soak trials: a loaded and abused `serve`, renders killed at random moments, renders racing.

Bounded and loopback only: fixed counts and a time cap. Prints "held / tried" per trial.

    python scripts/soak.py --quick          # small counts, a couple of minutes
    python scripts/soak.py                  # the full counts (about ten minutes)

(a) server: `innerchild serve` of a site published from a real render, hit by 64 concurrent
    keep-alive clients (ListenOverflows read from /proc/net/netstat before and after: that
    counter is the whole machine's, so other programs can move it), by idle and
    drip-feeding clients while a normal one must still be answered, by range numbers of
    thousands of digits, and by bad Host headers and POST bodies holding a second request.
(b) kill -9 of `innerchild render --engine piper` at a random moment, each into a folder
    holding the previous render: afterwards every final MP3 must decode whole, every
    manifest must parse and match its MP3 (size and decoded duration) and every cache
    entry must load; stray temporary files are counted.
(c) several renders at once sharing one empty cache: every one must succeed and match.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy as np

PYTHON = sys.executable
SERVE_TIMEOUT_S = 1.0  # the server's --timeout in these trials
SCRIPT = """\
title: Soak Session
slug: soak-session
description: A short generated session for the soak trials.
author: Inner Child Audio
language: en
voice:
  engine: piper
  sentence_pause: 0.4s
  paragraph_pause: 0.8s
background:
  sound: brown-noise
  volume: -24 dB
vars:
  name: friend
steps:
  - chapter: Arriving
  - say: |
      Welcome, {name}. You can open your eyes and stop at any time.
      This is a practice for rest, not a substitute for therapy.
  - pause: 1s
  - chapter: Resting
  - say: Breathe in slowly, and let the breath go. Notice the floor beneath you.
  - pause: 1s
  - chapter: Returning
  - say: |
      If you are in crisis, contact your local emergency number or a crisis line.
      Now feel the room around you again, and open your eyes when you are ready.
"""
PODCAST = """\
title: Soak Podcast
description: Sessions rendered by the soak trials.
author: Inner Child Audio
language: en
category: Health & Fitness
subcategory: Mental Health
explicit: false
"""
BASE_URL = "https://podcast.example.org/soak"
NAMES = ["Sam", "Alexandra", "Jo", "Maximilian", "Ana", "Christopher", "Li", "Bartholomew"]


@dataclass
class Tally:
    name: str
    held: int = 0
    tried: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, ok: bool, note: str = "") -> None:
        self.tried += 1
        self.held += ok
        if not ok and note and len(self.notes) < 5:
            self.notes.append(note)

    def line(self) -> str:
        text = f"{self.name:<44} {self.held:>4} / {self.tried:<4} held"
        return text + "".join(f"\n    - {n}" for n in self.notes)


class Clock:
    def __init__(self, cap_s: float) -> None:
        self.end = time.monotonic() + cap_s

    def left(self) -> float:
        return self.end - time.monotonic()


# -- rendering -------------------------------------------------------------------------------
def render_command(script: Path, out: Path, cache: Path, name: str) -> list[str]:
    return [PYTHON, "-m", "innerchild_audio", "render", str(script), "-o", str(out),
            "--engine", "piper", "--cache-dir", str(cache), "--jobs", "1", "--var",
            f"name={name}"]


def render(script: Path, out: Path, cache: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(render_command(script, out, cache, name), capture_output=True,
                          text=True, timeout=300)


def decoded_seconds(path: Path) -> float | None:
    """Decode the whole file; its length, or None when ffmpeg reports any error."""
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", "-i", str(path),
         "-f", "s16le", "-ac", "1", "-ar", "8000", "-"], capture_output=True, timeout=120)
    if done.returncode != 0 or done.stderr.strip():
        return None
    return len(done.stdout) / 2 / 8000


def check_folder(out: Path) -> list[str]:
    """What is wrong with the sessions in `out` (an empty list when they are consistent)."""
    problems = []
    manifests = {p.name.removesuffix(".manifest.json"): p for p in out.glob("*.manifest.json")}
    for mp3 in sorted(out.glob("*.mp3")):
        seconds = decoded_seconds(mp3)
        if seconds is None:
            problems.append(f"{mp3.name} does not decode whole")
            continue
        if mp3.stem not in manifests:
            problems.append(f"{mp3.name} has no manifest")
    for slug, path in sorted(manifests.items()):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path.name} unreadable: {error}")
            continue
        files = manifest.get("files", {})
        for key, name in files.items():
            if name and not (out / name).is_file():
                problems.append(f"{path.name} names {key} {name}, which is missing")
        audio = out / files.get("audio", f"{slug}.mp3")
        if not audio.is_file():
            continue
        if audio.stat().st_size != manifest["audio"]["bytes"]:
            problems.append(f"{path.name} says {manifest['audio']['bytes']} bytes, "
                            f"{audio.name} has {audio.stat().st_size}")
        seconds = decoded_seconds(audio)
        if seconds is not None and abs(seconds - manifest["audio"]["duration_s"]) > 0.2:
            problems.append(f"{path.name} says {manifest['audio']['duration_s']} s, "
                            f"{audio.name} decodes to {seconds:.2f} s")
        # Each render greets a different name: the transcripts must be this manifest's.
        name = manifest.get("options", {}).get("vars", {}).get("name")
        for key in ("vtt", "srt"):
            text = out / files.get(key, "")
            if name and text.is_file() and f"Welcome, {name}." not in text.read_text("utf-8"):
                problems.append(f"{text.name} is not from the render {path.name} describes")
    return problems


def committed_name(out: Path) -> str | None:
    try:
        manifest = json.loads((out / "soak-session.manifest.json").read_text("utf-8"))
        return manifest["options"]["vars"]["name"]
    except (OSError, ValueError, KeyError):
        return None


def check_cache(cache: Path) -> list[str]:
    problems = []
    for entry in cache.glob("clips/*/*/*.npz"):
        if entry.name.startswith(".tmp-"):
            continue
        try:
            with np.load(entry, allow_pickle=False) as data:
                samples = np.asarray(data["samples"])
                int(data["sample_rate"])
            if samples.size == 0 or not np.isfinite(samples).all():
                problems.append(f"cache entry {entry.name} is empty or not finite")
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            problems.append(f"cache entry {entry.name} does not load: {error!r}")
    return problems


def stray_temp_files(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.rglob("*")
                  if p.is_file() and "tmp" in p.name and (p.name.startswith(".")
                                                         or p.suffix == ".tmp"))


def kill_trials(work: Path, count: int, clock: Clock, tally: Tally,
                after: Tally) -> tuple[float, list[str], int]:
    script = work / "library" / "soak-session.yaml"
    out, cache = work / "killed", work / "killed-cache"
    began = time.monotonic()
    first = render(script, out, cache, "friend")
    full_s = time.monotonic() - began
    if first.returncode != 0:
        tally.add(False, f"the first render failed: {first.stderr.strip()[-300:]}")
        return full_s, [], 0
    randomly = random.Random(91)
    committed = 0
    for trial in range(count):
        if clock.left() < full_s + 10:
            break
        if trial % 3 == 2:  # now and then start from an empty cache: kills land in synthesis
            subprocess.run(["rm", "-rf", str(cache)], check=True)
        name = NAMES[trial % len(NAMES)] + str(trial)
        process = subprocess.Popen(render_command(script, out, cache, name),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(randomly.uniform(0.0, full_s * 1.1))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        problems = check_folder(out) + check_cache(cache)
        tally.add(not problems, f"kill {trial}: " + "; ".join(problems))
        committed += committed_name(out) == name
    strays = stray_temp_files(out, cache)
    final = render(script, out, cache, "friend")
    problems = check_folder(out) + check_cache(cache)
    if final.returncode != 0:
        problems.append(f"exit {final.returncode}: {final.stderr.strip()[-200:]}")
    elif committed_name(out) != "friend":
        problems.append("the render after the kills did not replace the session")
    after.add(not problems, "; ".join(problems))
    return full_s, strays, committed


def concurrent_trials(work: Path, rounds: int, renders: int, clock: Clock, tally: Tally,
                      full_s: float) -> None:
    script = work / "library" / "soak-session.yaml"
    for round_ in range(rounds):
        if clock.left() < full_s * renders + 10:
            break
        cache = work / f"shared-cache-{round_}"
        outs = [work / f"together-{round_}-{i}" for i in range(renders)]
        processes = [subprocess.Popen(render_command(script, out, cache, NAMES[i % 2]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True) for i, out in enumerate(outs)]
        try:
            for process, out in zip(processes, outs, strict=True):
                _, err = process.communicate(timeout=600)
                problems = check_folder(out) + check_cache(cache)
                if process.returncode != 0:
                    problems.append(f"exit {process.returncode}: {err.strip()[-200:]}")
                elif not list(out.glob("*.manifest.json")):
                    problems.append("no session written")
                tally.add(not problems, f"round {round_}: " + "; ".join(problems))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()


# -- the server ------------------------------------------------------------------------------
def listen_overflows() -> int | None:
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return None


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


def read_response(reader, method: str = "GET"):
    line = reader.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while (field_ := reader.readline()) not in (b"\r\n", b""):
        key, _, value = field_.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    length = 0 if method == "HEAD" else int(headers.get("content-length", 0))
    return status, headers, reader.read(length)


def request(target: str, host: str = "127.0.0.1", extra: str = "", method: str = "GET") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode("latin-1")


def exchange(port: int, data: bytes, method: str = "GET", timeout: float = 20.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        reader = sock.makefile("rb")
        responses = []
        while (response := read_response(reader, method)) is not None:
            responses.append(response)
        return responses


class Server:
    def __init__(self, site: Path) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "innerchild_audio", "serve", str(site), "--port", "0",
             "--timeout", str(SERVE_TIMEOUT_S)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        for line in self.process.stdout:
            if match := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                self.port = int(match.group(1))
                break
        else:
            raise RuntimeError(f"serve did not start: {self.process.stderr.read()}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.log: list[str] = []
        threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True).start()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def load_trial(server: Server, mp3: str, data: bytes, clients: int) -> tuple[bool, str]:
    barrier = threading.Barrier(clients)
    results: list[bool] = []

    def client() -> None:
        try:
            barrier.wait(20)
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
                reader = sock.makefile("rb")
                sock.sendall(request("/feed.xml")
                             + request(mp3, extra="Range: bytes=0-999\r\n")
                             + request(mp3, method="HEAD")
                             + request(mp3, extra="Connection: close\r\n"))
                got = [read_response(reader), read_response(reader),
                       read_response(reader, "HEAD"), read_response(reader)]
            results.append(got[0][0] == 200 and got[1][:1] + got[1][2:] == (206, data[:1000])
                           and got[2][0] == 200 and got[3][:1] + got[3][2:] == (200, data))
        except (OSError, TypeError, ValueError, threading.BrokenBarrierError):
            results.append(False)

    before = listen_overflows()
    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    took = time.monotonic() - began
    after = listen_overflows()
    overflow = None if before is None or after is None else after - before
    ok = results.count(True) == clients and took < 20 and not overflow
    return ok, (f"{results.count(True)}/{clients} clients answered in {took:.1f} s, "
                f"listen overflows +{overflow}")


def slow_trial(server: Server, idle_count: int, drip_count: int) -> tuple[bool, str]:
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10)
            for _ in range(idle_count)]
    drips = [socket.create_connection(("127.0.0.1", server.port), timeout=10)
             for _ in range(drip_count)]
    for sock in drips:
        sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    began = time.monotonic()
    peak_threads = threads_of(server.process.pid)
    served_in = None
    closed: set[int] = set()
    everyone = idle + drips
    while time.monotonic() - began < SERVE_TIMEOUT_S * 4 + 5 and len(closed) < len(everyone):
        for index, sock in enumerate(drips):
            if idle_count + index not in closed:
                try:
                    sock.sendall(b"a")
                except OSError:
                    closed.add(idle_count + index)
        readable, _, _ = select.select([s for i, s in enumerate(everyone) if i not in closed],
                                       [], [], 0.1)
        for sock in readable:
            try:
                if sock.recv(65536) == b"":
                    closed.add(everyone.index(sock))
            except OSError:
                closed.add(everyone.index(sock))
        if served_in is None:
            reply = exchange(server.port, request("/feed.xml", extra="Connection: close\r\n"))
            if [r[0] for r in reply] == [200]:
                served_in = time.monotonic() - began
        peak_threads = max(peak_threads, threads_of(server.process.pid))
    took = time.monotonic() - began
    for sock in everyone:
        sock.close()
    ok = len(closed) == len(everyone) and served_in is not None and served_in < 5
    return ok, (f"{len(closed)}/{len(everyone)} slow connections closed in {took:.1f} s, "
                f"a normal request answered after {served_in or 0:.2f} s, "
                f"peak threads {peak_threads}")


def huge_range_trial(server: Server, mp3: str, data: bytes, randomly: random.Random):
    digits = "".join(randomly.choice("0123456789") for _ in range(randomly.randint(4300, 9000)))
    big = "9" + digits
    size = len(data)
    cases = [(f"bytes={big}-", 416, b""), (f"bytes={big}-{big}", 416, b""),
             (f"bytes=0-{big}", 206, data), (f"bytes=-{big}", 206, data),
             (f"bytes={'0' * len(digits)}7-{'0' * len(digits)}9", 206, data[7:10])]
    wire = b"".join(request(mp3, extra=f"Range: {h}\r\n") for h, _, _ in cases)
    replies = exchange(server.port, wire + request("/", extra="Connection: close\r\n"))
    statuses = [r[0] for r in replies]
    ok = statuses == [s for _, s, _ in cases] + [200]
    for (_, headers, got), (_, status, body) in zip(replies, cases, strict=False):
        if status == 206:
            ok = ok and got == body
        else:
            ok = ok and headers.get("content-range") == f"bytes */{size}"
    return ok, f"statuses {statuses}"


def hostile_trial(server: Server) -> tuple[bool, str]:
    smuggled = request("/index.html")
    post = request("/feed.xml", method="POST", extra=f"Content-Length: {len(smuggled)}\r\n")
    body = [r[0] for r in exchange(server.port, post + smuggled + request(
        "/cover.jpg", extra="Connection: close\r\n"))]
    hosts = [exchange(server.port, request("/feed.xml", host=h, extra="Connection: close\r\n"))
             for h in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.nip.io")]
    refused = [r[0][0] if r else None for r in hosts]
    ok = body == [405, 200] and refused == [400, 400, 400]
    return ok, f"POST then GET: {body}; foreign hosts: {refused}"


def server_trials(work: Path, site: Path, repeats: int, clock: Clock,
                  tallies: dict[str, Tally]) -> None:
    server = Server(site)
    randomly = random.Random(6)
    mp3 = "/episodes/soak-session.mp3"
    data = (site / mp3.lstrip("/")).read_bytes()
    trials: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("64 concurrent keep-alive clients", lambda: load_trial(server, mp3, data, 64)),
        ("48 idle + 16 drip-feeding clients", lambda: slow_trial(server, 48, 16)),
        ("range numbers of 4,300 to 9,000 digits", lambda: huge_range_trial(
            server, mp3, data, randomly)),
        ("bad Host, POST body holding a request", lambda: hostile_trial(server)),
    ]
    try:
        for _ in range(repeats):
            for name, trial in trials:
                if clock.left() < 15:
                    return
                try:
                    ok, note = trial()
                except Exception as error:  # noqa: BLE001 - a crash is a failed trial
                    ok, note = False, repr(error)
                ok = ok and server.alive()
                tallies[name].add(ok, note)
                tallies[name].notes.append(note) if ok and len(tallies[name].notes) < 1 else None
    finally:
        server.stop()
        if any("Traceback" in line for line in server.log):
            tallies["server log free of tracebacks"].add(False, "a traceback in serve's log")
        else:
            tallies["server log free of tracebacks"].add(True)


def publish(work: Path, rendered: Path) -> Path:
    (work / "podcast.yaml").write_text(PODCAST, encoding="utf-8")
    site = work / "site"
    subprocess.run([PYTHON, "-m", "innerchild_audio", "publish", "--rendered", str(rendered),
                    "-o", str(site), "--podcast", str(work / "podcast.yaml"),
                    "--base-url", BASE_URL], check=True, capture_output=True, timeout=120)
    return site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a few minutes)")
    parser.add_argument("--time-cap", type=float, help="stop starting trials after this (s)")
    args = parser.parse_args()
    # Stopped from outside: unwind, so the server stops and the temporary folder goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    counts = dict(server=2, kills=6, rounds=1, renders=3, cap=240.0) if args.quick else \
        dict(server=15, kills=60, rounds=6, renders=4, cap=900.0)
    cap_s = args.time_cap or counts["cap"]
    began = time.monotonic()
    names = ["64 concurrent keep-alive clients", "48 idle + 16 drip-feeding clients",
             "range numbers of 4,300 to 9,000 digits", "bad Host, POST body holding a request",
             "server log free of tracebacks", "kill -9 during a render",
             "a render after the kills", "concurrent renders sharing a cache"]
    tallies = {name: Tally(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="innerchild-soak-") as folder:
        work = Path(folder)
        (work / "library").mkdir()
        (work / "library" / "soak-session.yaml").write_text(SCRIPT, encoding="utf-8")
        # Each part gets its share of the time cap, so the first cannot starve the others.
        full_s, strays, committed = kill_trials(work, counts["kills"], Clock(cap_s * 0.55),
                                                tallies[names[5]], tallies[names[6]])
        site = publish(work, work / "killed")
        server_trials(work, site, counts["server"], Clock(cap_s * 0.15), tallies)
        concurrent_trials(work, counts["rounds"], counts["renders"],
                          Clock(cap_s - (time.monotonic() - began)), tallies[names[7]], full_s)
    print(f"soak: {time.monotonic() - began:.0f} s (one render {full_s:.1f} s)")
    for name in names:
        print(tallies[name].line())
    kills = tallies[names[5]].tried
    print(f"kills that came after the new session was committed: {committed} of {kills}")
    print(f"stray temporary files left by the kills: {len(strays)}"
          + (f" ({', '.join(strays[:3])}{', ...' if len(strays) > 3 else ''})" if strays else ""))
    return 0 if all(t.held == t.tried for t in tallies.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
