"""Pictures of rendered sessions: the real timeline and the decoded level.

A render leaves its files side by side: `{slug}.mp3`, `{slug}.manifest.json`
(title, chapters, options, the script and parts by content hash) and
`{slug}.vtt` (one cue per spoken sentence, with its real timing). From these
the session's timeline is rebuilt exactly: the script is laid out again with
the recorded options, and every sentence takes the duration its cue shows.
When the script cannot be found unchanged, the picture shows what the files
alone tell: the speech, the chapters and the level.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import InnerChildError, UsageError
from innerchild_audio.export import manifest as manifests
from innerchild_audio.model import Source, Voice
from innerchild_audio.picture.draw import DEFAULT_WIDTH_PX, LevelCurve, Picture, draw_timeline
from innerchild_audio.timeline import ChapterMark, SpeechEvent, SpeechRequest, Timeline

if TYPE_CHECKING:
    from innerchild_audio.render import RenderResult

log = logging.getLogger(__name__)

LEVEL_DECODE_RATE: Final = 8000  # enough for a level curve, and quick to decode
LEVEL_WINDOW_MS: Final = 400
LEVEL_HOP_MS: Final = 100
_CUE_TIME: Final = re.compile(
    r"^(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\s*$")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


def read_vtt(path: Path) -> list[Cue]:
    """The cues of a WebVTT file as `export.transcripts` writes it (lines joined by spaces)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the transcript {path}: {error}") from None
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip().split("\n")
        for i, line in enumerate(lines):
            match = _CUE_TIME.match(line)
            if match:
                h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
                start = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
                end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
                words = " ".join(html.unescape(t) for t in lines[i + 1:])
                cues.append(Cue(start, end, " ".join(words.split())))
                break
    return cues


def level_curve(mp3: Path) -> LevelCurve:
    """The session's level, dBFS RMS over LEVEL_WINDOW_MS, every LEVEL_HOP_MS."""
    from innerchild_audio.audio_io import decode_mp3

    samples = decode_mp3(mp3, sample_rate=LEVEL_DECODE_RATE, channels=1)[:, 0]
    hop = LEVEL_DECODE_RATE * LEVEL_HOP_MS // 1000
    count = len(samples) // hop
    if count == 0:
        return LevelCurve(np.zeros(0), np.zeros(0))
    blocks = samples[: count * hop].reshape(count, hop)
    power = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / hop
    per_window = LEVEL_WINDOW_MS // LEVEL_HOP_MS
    window = np.convolve(power, np.ones(per_window) / per_window, mode="same")
    times = (np.arange(count) + 0.5) * LEVEL_HOP_MS
    return LevelCurve(times, 10.0 * np.log10(np.maximum(window, 1e-12)))


def picture_of_render(result: RenderResult, out: Path, *,
                      width_px: int = DEFAULT_WIDTH_PX) -> Picture:
    """A render's picture: its timeline and the level decoded from its MP3."""
    manifest = manifests.read_manifest(result.manifest_path) or {}
    title = str(manifest.get("title") or result.slug)
    return draw_timeline(result.timeline, title, out, width_px=width_px,
                         level=level_curve(result.mp3_path))


def picture_of_session(mp3: Path, out: Path, *, library: Path | None = None,
                       asset_dirs: Sequence[Path] = (),
                       width_px: int = DEFAULT_WIDTH_PX) -> Picture:
    """The picture of a session on disk, from the files its render left beside the MP3.

    `library` is the folder of its script (default: `meditations/` here, or beside
    the output folder); `asset_dirs` as the render had them. Raises UsageError
    when the MP3 or its manifest is missing.
    """
    mp3 = Path(mp3)
    if not mp3.is_file():
        raise UsageError(f"{mp3}: no such file")
    manifest_path = mp3.with_name(manifests.manifest_name(mp3.stem))
    manifest = manifests.read_manifest(manifest_path)
    if manifest is None:
        raise UsageError(f"{mp3}: no manifest beside it ({manifest_path.name}); a picture of "
                         "a session needs the files `innerchild render` writes")
    files = _mapping(manifest.get("files"))
    vtt = mp3.with_name(str(files.get("vtt") or f"{mp3.stem}.vtt"))
    cues = read_vtt(vtt) if vtt.is_file() else []
    roots = [library] if library is not None else [Path("meditations"),
                                                   mp3.parent.parent / "meditations"]
    timeline = _rebuilt(manifest, cues, roots, asset_dirs)
    note = ""
    if timeline is None:
        timeline = _from_files(manifest, cues)
        note = "script not found unchanged: pauses, bells and breaths not shown"
        log.warning("%s: %s", mp3, note)
    title = str(manifest.get("title") or mp3.stem)
    return draw_timeline(timeline, title, out, width_px=width_px, level=level_curve(mp3),
                         note=note)


def _rebuilt(manifest: dict[str, Any], cues: list[Cue], roots: list[Path],
             asset_dirs: Sequence[Path]) -> Timeline | None:
    """The rendered timeline, from the unchanged script and the cues' real durations."""
    from innerchild_audio.inputs import apply_background
    from innerchild_audio.plan import build_timeline, lay_out
    from innerchild_audio.script import load_script

    inputs = _mapping(manifest.get("inputs"))
    options = _mapping(manifest.get("options"))
    variables = _mapping(options.get("vars"))
    for root in roots:
        for key, digest in inputs.items():
            path = root / key
            if not key.endswith((".yaml", ".yml")) or not path.is_file():
                continue
            try:
                if file_sha256(path) != digest:
                    continue
                script = load_script(path, vars={str(k): str(v) for k, v in variables.items()},
                                     asset_dirs=asset_dirs)
                if script.slug != manifest.get("slug"):
                    continue
                script = apply_background(script, options.get("background"))
                layout = lay_out(script, warnings=bool(options.get("warnings", True)))
                speech = build_timeline(layout).speech
                if len(speech) != len(cues) or any(
                        " ".join(e.request.text.split()) != c.text
                        for e, c in zip(speech, cues, strict=True)):
                    log.info("%s: its sentences differ from the transcript", path)
                    return None
                durations = {e.request: c.end_ms - c.start_ms
                             for e, c in zip(speech, cues, strict=True)}
                return build_timeline(layout, durations, options.get("length_ms"))
            except InnerChildError as error:
                log.info("%s cannot be laid out again: %s", path, error)
                continue
    return None


def _from_files(manifest: dict[str, Any], cues: list[Cue]) -> Timeline:
    """What the manifest and transcript alone show: speech and chapters."""
    audio = _mapping(manifest.get("audio"))
    total = round(float(audio.get("duration_s") or 0) * 1000)
    total = max(total, max((c.end_ms for c in cues), default=0))
    voice = Voice()
    source = Source(Path(str(manifest.get("slug", "session"))), 1, 1)
    speech = tuple(SpeechEvent(c.start_ms, c.end_ms - c.start_ms,
                               SpeechRequest(c.text, voice), source) for c in cues)
    chapters = tuple(ChapterMark(round(float(m["start_s"]) * 1000), str(m["title"]))
                     for m in manifest.get("chapters") or [] if isinstance(m, dict))
    options = _mapping(manifest.get("options"))
    target = options.get("length_ms")
    return Timeline(events=speech, chapters=chapters, beds=(), total_ms=total,
                    min_total_ms=total, max_total_ms=total,
                    target_ms=int(target) if isinstance(target, int) else None)


def _mapping(value: object) -> dict[str, Any]:
    """A manifest's mapping, or an empty one where the file holds something else."""
    return value if isinstance(value, dict) else {}
