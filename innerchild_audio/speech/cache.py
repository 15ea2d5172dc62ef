"""A content-addressed cache of synthesized clips.

The key is the sha256 of a canonical JSON of the engine, everything about the
voice that changes the audio (including the engine's version) and the text.
Entries hold decoded float32 PCM, written to a temporary file and renamed into
place, so an interrupted run never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from innerchild_audio.speech.base import Clip

log = logging.getLogger(__name__)

CACHE_FORMAT: Final = 1  # bump when the entry layout changes
_ENTRY_SUFFIX: Final = ".npz"
_CLIPS: Final = "clips"


def cache_key(engine: str, identity: Mapping[str, object], text: str) -> str:
    """sha256 hex of everything that determines a clip."""
    canonical = json.dumps(
        {"format": CACHE_FORMAT, "engine": engine, "voice": dict(identity), "text": text},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int
    by_engine: dict[str, int] = field(default_factory=dict)


class ClipCache:
    """Clips stored under `root/clips/{engine}/{key[:2]}/{key}.npz`."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, engine: str, key: str) -> Path:
        return self.root / _CLIPS / engine / key[:2] / f"{key}{_ENTRY_SUFFIX}"

    def get(self, engine: str, key: str) -> Clip | None:
        path = self._path(engine, key)
        try:
            with np.load(path, allow_pickle=False) as data:
                samples = np.asarray(data["samples"], dtype=np.float32)
                rate = int(data["sample_rate"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            log.warning("dropping unreadable cache entry %s: %s", path, error)
            path.unlink(missing_ok=True)
            return None
        return Clip(samples=samples, sample_rate=rate)

    def has(self, engine: str, key: str) -> bool:
        return self._path(engine, key).is_file()

    def put(self, engine: str, key: str, clip: Clip) -> None:
        path = self._path(engine, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_ENTRY_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    samples=np.asarray(clip.samples, dtype=np.float32),
                    sample_rate=np.int64(clip.sample_rate),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def info(self) -> CacheInfo:
        by_engine: dict[str, int] = {}
        total = 0
        count = 0
        clips = self.root / _CLIPS
        if clips.is_dir():
            for engine_dir in sorted(p for p in clips.iterdir() if p.is_dir()):
                n = 0
                for entry in engine_dir.glob(f"*/*{_ENTRY_SUFFIX}"):
                    if entry.name.startswith(".tmp-"):
                        continue
                    n += 1
                    total += entry.stat().st_size
                by_engine[engine_dir.name] = n
                count += n
        return CacheInfo(path=self.root, entries=count, bytes=total, by_engine=by_engine)

    def clear(self, engine: str | None = None) -> CacheInfo:
        """Remove every entry (or one engine's); returns what was removed."""
        before = self.info()
        clips = self.root / _CLIPS
        if engine is None:
            shutil.rmtree(clips, ignore_errors=True)
            return before
        shutil.rmtree(clips / engine, ignore_errors=True)
        after = self.info()
        return CacheInfo(
            path=self.root,
            entries=before.entries - after.entries,
            bytes=before.bytes - after.bytes,
            by_engine={engine: before.by_engine.get(engine, 0)},
        )
