"""Copying the site's files: only what changed, each copy atomic."""

from __future__ import annotations

from pathlib import Path

from innerchild_audio.atomic import atomic_copy


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
    atomic_copy(src, dst)
    return True
