"""A content-addressed cache of synthesized clips.

The key is the sha256 of a canonical JSON of the engine, everything about the
voice that changes the audio (including the engine's version) and the text.
Entries hold decoded float32 PCM, written to a temporary file and renamed into
place, so an interrupted run never leaves a half-written entry. The cache only
ever saves work: an entry that cannot be read is a miss, and a folder that
cannot be written (full disk, read-only, gone) is skipped with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
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
_TMP_PREFIX: Final = ".tmp-"
MAX_SAMPLE_RATE: Final = 384_000
_warned: set[Path] = set()  # cache roots already reported unwritable in this process
_warned_lock = threading.Lock()


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
        self.writable = True  # False once a write failed: later clips are not saved
        self._read_warned = False

    def _path(self, engine: str, key: str) -> Path:
        return self.root / _CLIPS / engine / key[:2] / f"{key}{_ENTRY_SUFFIX}"

    def get(self, engine: str, key: str) -> Clip | None:
        """The cached clip, or None: missing, unreadable and corrupt entries are all misses."""
        path = self._path(engine, key)
        try:
            with np.load(path, allow_pickle=False) as data:
                samples = np.asarray(data["samples"], dtype=np.float32)
                rate = int(data["sample_rate"])
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:  # no permission, an I/O error: leave it, just do not use it
            if not self._read_warned:
                self._read_warned = True
                log.warning("cannot read cache entry %s (%s); making such clips anew",
                            path, error.strerror or error)
            return None
        except (ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            self._drop(path, str(error))
            return None
        if samples.ndim != 1 or not 0 < rate <= MAX_SAMPLE_RATE:
            self._drop(path, f"{samples.ndim}-D samples at {rate} Hz")
            return None
        if not np.isfinite(samples).all():
            self._drop(path, "samples that are not numbers")
            return None
        return Clip(samples=samples, sample_rate=rate)

    def _drop(self, path: Path, why: str) -> None:
        log.warning("dropping corrupt cache entry %s: %s", path, why)
        try:
            path.unlink(missing_ok=True)
        except OSError:  # a read-only cache keeps it; it stays a miss
            pass

    def has(self, engine: str, key: str) -> bool:
        try:
            return self._path(engine, key).is_file()
        except OSError:
            return False

    def put(self, engine: str, key: str, clip: Clip) -> bool:
        """Save `clip`; False when the cache cannot be written (warned once, then skipped)."""
        if not self.writable:
            return False
        path = self._path(engine, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_ENTRY_SUFFIX, dir=path.parent)
        except OSError as error:
            self._unwritable(error)
            return False
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    samples=np.asarray(clip.samples, dtype=np.float32),
                    sample_rate=np.int64(clip.sample_rate),
                )
            os.replace(tmp, path)
        except BaseException as error:
            try:
                Path(tmp).unlink(missing_ok=True)
            except OSError:
                pass
            if not isinstance(error, OSError):
                raise
            self._unwritable(error)
            return False
        return True

    def _unwritable(self, error: OSError) -> None:
        self.writable = False
        with _warned_lock:
            if self.root in _warned:
                return
            _warned.add(self.root)
        if isinstance(error, FileNotFoundError):
            reason = "its folder was removed meanwhile"
        else:
            reason = error.strerror or str(error)
        log.warning("cannot write the speech cache in %s (%s); going on without caching",
                    self.root, reason)

    def info(self) -> CacheInfo:
        """What the cache holds; entries removed while counting (a racing clear) are skipped."""
        by_engine: dict[str, int] = {}
        total = 0
        for engine_dir in _listing(self.root / _CLIPS):
            if not engine_dir.is_dir():
                continue
            n = 0
            for shard in _listing(engine_dir):
                for entry in _listing(shard):
                    if entry.name.startswith(_TMP_PREFIX) or entry.suffix != _ENTRY_SUFFIX:
                        continue
                    try:
                        total += entry.stat().st_size
                    except OSError:
                        continue
                    n += 1
            by_engine[engine_dir.name] = n
        count = sum(by_engine.values())
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


def _listing(folder: Path) -> list[Path]:
    """The sorted contents of `folder`; empty when it is gone or not a folder."""
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []
