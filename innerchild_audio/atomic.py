"""Writes that never leave a broken file behind: temporary name first, then one rename.

Every output of the project (sessions, the speech cache's index aside, the site)
is written through here.

`Staging` holds several outputs under temporary names beside their destinations
and renames them all at the end, in the order they were staged (the manifest
last), so a failure before `commit` leaves every destination as it was.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from types import TracebackType
from typing import Final

from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import UsageError

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"
STALE_AFTER_S: Final = 3600.0  # a temporary file of ours this old belongs to no live write
_TEMP_RE: Final = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")


def _temp_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def sweep_stale(folder: Path, *, older_than_s: float = STALE_AFTER_S) -> int:
    """Remove temporary files of ours that an interrupted write left in `folder` (those
    older than `older_than_s`: younger ones may be another run's, still writing)."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if not _TEMP_RE.match(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and (
                    now - entry.stat(follow_symlinks=False).st_mtime > older_than_s):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # gone already, or not ours to remove
    if removed:
        log.info("removed %d stale temporary file(s) from %s", removed, folder)
    return removed


def ensure_folder(folder: Path, *, option: str = "output") -> Path:
    """`folder`, created if need be, checked to be a folder this process can write in;
    UsageError (naming `option`) otherwise, before any work is done."""
    text = str(folder)
    if text.strip() in ("", "-"):
        raise UsageError(f"{text!r} is not a folder; name the folder to write into",
                         option=option)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"{folder}: cannot create this folder ({reason}); choose another",
                         option=option) from None
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; choose another", option=option)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{folder}: this folder is not writable; choose another",
                         option=option)
    return folder


def _fsync(path: Path) -> None:
    with open(path, "r+b") as handle:
        os.fsync(handle.fileno())


class Staging:
    """Outputs staged under temporary names; `commit` renames them into place.

    Used as a context manager, anything not committed when the block ends
    (normally or through an exception, including KeyboardInterrupt) is deleted.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def temp_for(self, dest: Path) -> Path:
        """Reserve a temporary file that `commit` will rename to `dest`."""
        if any(d == dest for _, d in self._pending):
            raise ValueError(f"{dest} is staged twice")
        dest.parent.mkdir(parents=True, exist_ok=True)
        while True:
            tmp = _temp_name(dest)
            # pending before it exists: an interrupt between the two still cleans it up
            self._pending.append((tmp, dest))
            try:
                with open(tmp, "xb"):
                    return tmp
            except FileExistsError:
                self._pending.pop()
            except BaseException:
                self._pending.pop()
                raise

    def write_bytes(self, dest: Path, data: bytes) -> Path:
        tmp = self.temp_for(dest)
        tmp.write_bytes(data)
        return tmp

    def write_text(self, dest: Path, text: str) -> Path:
        tmp = self.temp_for(dest)
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return tmp

    @property
    def destinations(self) -> list[Path]:
        return [dest for _, dest in self._pending]

    def digests(self) -> dict[str, str]:
        """sha256 of each staged file as it stands, by its destination's name."""
        return {dest.name: file_sha256(tmp) for tmp, dest in self._pending}

    def commit(self) -> None:
        """Flush every staged file to disk, then rename each into place in staging order."""
        for tmp, _ in self._pending:
            _fsync(tmp)
        while self._pending:
            tmp, dest = self._pending[0]
            os.replace(tmp, dest)
            self._pending.pop(0)

    def discard(self) -> None:
        for tmp, _ in self._pending:
            try:
                tmp.unlink(missing_ok=True)
            except OSError as error:  # keep cleaning the others
                log.warning("could not remove temporary file %s: %s", tmp, error)
        self._pending.clear()

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    """Write one file so readers see either the old content or the new, never a part."""
    with Staging() as staging:
        staging.write_bytes(dest, data)
        staging.commit()


def atomic_write_text(dest: Path, text: str) -> None:
    with Staging() as staging:
        staging.write_text(dest, text)
        staging.commit()


def atomic_copy(src: Path, dest: Path, *, mode: int = 0o644) -> None:
    """Copy `src` to `dest` atomically, keeping its modification time; the copy gets
    `mode` (a published file is world-readable whatever the source's own mode)."""
    with Staging() as staging:
        tmp = staging.temp_for(dest)
        shutil.copyfile(src, tmp)
        stat = src.stat()
        os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.chmod(tmp, mode)
        staging.commit()
