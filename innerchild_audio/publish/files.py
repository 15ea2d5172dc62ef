"""Atomic file writes for the site: a temporary file in the same folder, then os.replace."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _temp_beside(path: Path) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(name)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes 0600; a static host must be able to read it
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def same_file_content(src: Path, dst: Path) -> bool:
    """Quick check (size and modification time, as rsync does) that dst is a copy of src."""
    try:
        a, b = src.stat(), dst.stat()
    except FileNotFoundError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def copy_atomic(src: Path, dst: Path) -> bool:
    """Copy src to dst (keeping its mtime) unless dst is already a copy; True when copied."""
    if same_file_content(src, dst):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _temp_beside(dst)
    os.close(fd)
    try:
        shutil.copy2(src, temp)
        os.chmod(temp, 0o644)
        os.replace(temp, dst)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return True
