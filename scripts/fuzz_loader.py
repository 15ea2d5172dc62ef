"""Mutate the library's scripts with hostile values and count what the loader does.

Every value in the first sessions and every part of a copy of `meditations/`
(given a cover, a sound, a bell sound and a bed file) is replaced,
one at a time, by each hostile value below; each mutated library is checked as
`innerchild check` does (load, open the assets, plan). A result is `refused`
(a located ScriptError), `accepted`, `escaped` (accepted with a sound or cover
outside the library), `hung` (over 10 s) or `crashed` (any other exception, or an
accepted script whose text cannot be written as UTF-8, which would fail at
render). Bounded: fixed inputs, stops at --time-cap seconds.
To measure other code, put its folder first: PYTHONPATH=/other/checkout.

    python scripts/fuzz_loader.py [--limit N] [--time-cap S]
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import shutil
import signal
import struct
import sys
import tempfile
import time
import wave
import zlib
from pathlib import Path

from innerchild_audio.errors import ScriptError
from innerchild_audio.library import check_script

HANG_SECONDS = 10
REPO = Path(__file__).resolve().parent.parent
HOSTILE = [
    "!!bool maybe", "!!int ''", "!!int 0x", "!!float x", "!!null x", "!!timestamp 2020-13-45",
    "!!binary x", "!!python/object:os.system", "!!set {a: null}", "!!omap [a: 1]", "!!str",
    "1" * 309 + "s", "1" * 309, "1e309", "-.inf", ".nan", "-1", "0", "'9" + "9" * 400 + "ms'",
    '"a\\0b.wav"', '"a\\0b.png"', '"a\\0b.yaml"', '"\\ud800"', '"Rest \\udfff now."',
    "'" + "a" * 300 + ".yaml'", "'" + "a" * 300 + ".wav'", "'" + "a" * 300 + ".png'",
    "../outside.wav", "/etc/passwd", "link-out.wav", "'Rest" + "." * 40 + "'",
    "'[pause " + " " * 200 + "'", "[]", "{}", "~", "'{'", "'}'", "&a [*a, *a]",
    '"\\b\\x07 text"', "'" + "x" * 20_000 + "'",
]
_VALUE_LINE = re.compile(r"^(\s*(?:- )?[A-Za-z_]+:[ ]+)(\S.*)$")


def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5)))
                                 for i in range(800)))


def _png(path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"".join(b"\0" + b"\x80\x80\x80" * 4 for _ in range(4))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2,
                                                                        0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _library(root: Path) -> Path:
    library = root / "meditations"
    shutil.copytree(REPO / "meditations", library)
    _wav(library / "chime.wav")
    _png(library / "cover.png")
    _wav(root / "outside.wav")
    (library / "link-out.wav").symlink_to(root / "outside.wav")
    for script in library.glob("*.yaml"):
        if script.name == "podcast.yaml":
            continue
        text = script.read_text(encoding="utf-8")
        text = text.replace("\nsteps:\n", "\ncover: cover.png\nsteps:\n"
                                          "  - sound: chime.wav\n"
                                          "  - bell:\n      sound: chime.wav\n"
                                          "  - background:\n      sound: chime.wav\n", 1)
        script.write_text(text, encoding="utf-8")
    return library


def _mutants(library: Path, scripts: int):
    sessions = [f for f in sorted(library.glob("*.yaml")) if f.name != "podcast.yaml"]
    for file in [*sessions[:scripts], *sorted(library.glob("parts/*.yaml"))]:
        lines = file.read_text(encoding="utf-8").splitlines()
        seen: set[tuple[str, str]] = set()
        for number, line in enumerate(lines):
            match = _VALUE_LINE.match(line)
            if match is None or match.group(1) in seen:
                continue  # one line of each key and indent per file
            seen.add(match.group(1))
            for value in HOSTILE:
                yield file, lines, number, match.group(1) + value


def _checked_with(library: Path, file: Path) -> list[Path]:
    """The script itself, or for a part the first script that includes it."""
    if file.parent == library:
        return [file]
    users = [s for s in sorted(library.glob("*.yaml"))
             if f"parts/{file.name}" in s.read_text(encoding="utf-8")]
    return users[:1]


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Hang


def _escapes(script: object, library: Path) -> bool:
    return any(not Path(asset).is_relative_to(library.resolve())
               for asset in getattr(script, "assets", ()))


def _unwritable_text(script: object) -> bool:
    texts = [getattr(script, "title", ""), getattr(script, "description", "")]
    texts += [getattr(step, "text", "") for step in getattr(script, "steps", ())]
    try:
        for text in texts:
            str(text).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=3,
                        help="mutate the first N sessions (and every part)")
    parser.add_argument("--limit", type=int, default=0, help="stop after N mutants")
    parser.add_argument("--time-cap", type=float, default=900.0)
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    crashes: collections.Counter[str] = collections.Counter()
    signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        library = _library(Path(tmp))
        for file, lines, number, mutated in _mutants(library, args.scripts):
            if args.limit and sum(counts.values()) >= args.limit:
                break
            if time.monotonic() - started > args.time_cap:
                print("time cap reached", file=sys.stderr)
                break
            original = "\n".join(lines) + "\n"
            file.write_text("\n".join([*lines[:number], mutated, *lines[number + 1:]]) + "\n",
                            encoding="utf-8")
            try:
                signal.alarm(HANG_SECONDS)
                for script_path in _checked_with(library, file):
                    result = check_script(script_path)
                    if result.error is None and _unwritable_text(result.script):
                        raise UnicodeEncodeError("utf-8", "", 0, 1, "text not writable")
                    if result.error is None and _escapes(result.script, library):
                        counts["escaped"] += 1
                        crashes[f"escaped the library: {mutated.strip()[:40]!r}"] += 1
                        continue
                    if result.error is not None and not isinstance(result.error, ScriptError):
                        raise result.error
                    str(result.error or "")
                    counts["refused" if result.error else "accepted"] += 1
            except _Hang:
                counts["hung"] += 1
                crashes[f"hang over {HANG_SECONDS} s: {mutated.strip()[:40]!r}"] += 1
            except Exception as error:  # noqa: BLE001 - counting them
                if isinstance(error, ScriptError):
                    counts["refused"] += 1
                else:
                    counts["crashed"] += 1
                    crashes[f"{type(error).__name__}: {mutated.strip()[:40]!r}"] += 1
            finally:
                signal.alarm(0)
                file.write_text(original, encoding="utf-8")
    total = sum(counts.values())
    elapsed = time.monotonic() - started
    print(f"mutants {total}: refused {counts['refused']}, accepted {counts['accepted']}, "
          f"crashed {counts['crashed']}, hung {counts['hung']}, "
          f"escaped the library {counts['escaped']} ({elapsed:.1f} s)")
    for what, count in crashes.most_common(30):
        print(f"  {count:4d}  {what}")
    return 1 if counts["crashed"] or counts["hung"] or counts["escaped"] else 0


if __name__ == "__main__":
    sys.exit(main())
