"""sha256 of files, shared by the speech cache key and the render's input hash."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Final

_BLOCK: Final = 1 << 20


@lru_cache(maxsize=64)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered while its size and mtime stay the same.

    A build hashes the same voice model and parts for every session: read them once.
    """
    stat = path.stat()
    return _digest(Path(path).resolve(), stat.st_size, stat.st_mtime_ns)
