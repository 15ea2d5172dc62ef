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
import secrets
import shutil
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"


def temp_path_for(dest: Path) -> Path:
    """A fresh, reserved (empty) file in `dest`'s folder: same file system, so rename is atomic."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            # "x" mode: never reuse a name; default permissions (umask), unlike mkstemp's 0600.
            with open(tmp, "xb"):
                return tmp
        except FileExistsError:
            continue


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
        tmp = temp_path_for(dest)
        self._pending.append((tmp, dest))
        return tmp

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
