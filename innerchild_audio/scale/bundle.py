"""A script and everything its render reads, as bytes that travel to a worker.

Files keep their paths relative to the folder that holds them all, so a
script's relative references (includes, sounds, cover) work where it lands.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from innerchild_audio.inputs import Prepared
from innerchild_audio.publish.channel import PODCAST_FILE


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]  # posix path relative to the bundle's root -> content
    script: str  # the script's own entry in `files`
    background: str | None = None  # the background option's file, when it names one

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def unpack(self, folder: Path) -> Path:
        """Write the files under `folder`; returns where the script landed."""
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return folder / self.script


def _source_files(prepared: Prepared) -> list[Path]:
    root = prepared.script.path.parent
    files = [Path(name) if Path(name).is_absolute() else root / name for name in prepared.inputs]
    podcast = root / PODCAST_FILE  # the album and default cover come from it
    if podcast.is_file():
        files.append(podcast)
    return [f.resolve() for f in dict.fromkeys(files)]


def pack(prepared: Prepared) -> Bundle:
    """The script, its parts, assets, podcast file and background file, read now."""
    files = _source_files(prepared)
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    contents = {f.relative_to(root).as_posix(): f.read_bytes() for f in files}
    background = prepared.recorded_options.get("background")  # resolved: absolute when a file
    background_entry = None
    if isinstance(background, str) and Path(background).is_absolute():
        background_entry = Path(background).resolve().relative_to(root).as_posix()
    return Bundle(contents, prepared.script.path.resolve().relative_to(root).as_posix(),
                  background_entry)


__all__ = ["Bundle", "pack"]
