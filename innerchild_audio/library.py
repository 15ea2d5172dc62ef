"""The script library: finding scripts in a folder and checking them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from innerchild_audio.errors import InnerChildError, Problem, RenderError, ScriptError, UsageError
from innerchild_audio.model import Script
from innerchild_audio.plan import plan_script
from innerchild_audio.script import load_script
from innerchild_audio.timeline import Timeline

log = logging.getLogger(__name__)
NOT_SCRIPTS: Final = ("podcast.yaml", "podcast.yml")  # channel metadata, not a session


def find_scripts(path: Path) -> list[Path]:
    """The scripts a path names: the file itself, or a folder's *.yaml (not parts/)."""
    if path.is_dir():
        found = [p for p in sorted(path.iterdir())
                 if p.suffix in (".yaml", ".yml") and p.name not in NOT_SCRIPTS and p.is_file()]
        return found
    if path.is_file():
        if path.name in NOT_SCRIPTS:  # e.g. from `meditations/*.yaml`
            log.warning("skipping %s: channel metadata for `publish`, not a session", path)
            return []
        return [path]
    raise UsageError(f"{path}: no such file or folder")


@dataclass(frozen=True)
class CheckResult:
    path: Path
    script: Script | None
    timeline: Timeline | None
    error: InnerChildError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_script(path: Path, *, vars: Mapping[str, str] | None = None,
                 asset_dirs: Iterable[Path] = ()) -> CheckResult:
    """Load a script, open its sounds and covers, and plan it with estimated speech:
    what `check` reports."""
    try:
        script = load_script(path, vars=vars, asset_dirs=asset_dirs, open_assets=True)
        timeline = plan_script(script)
    except ScriptError as error:
        return CheckResult(path, None, None, error)
    except (UsageError, RenderError) as error:  # a length out of reach, a sound unreadable
        hint = "change 'length:' or the pauses" if isinstance(error, UsageError) else \
            "convert the sound to WAV or FLAC"
        problem = Problem(path.resolve(), 1, 1, f"{error}; {hint}")
        return CheckResult(path, None, None, ScriptError([problem]))
    return CheckResult(path, script, timeline, None)


def check_paths(paths: Iterable[Path], *, vars: Mapping[str, str] | None = None,
                asset_dirs: Iterable[Path] = ()) -> list[CheckResult]:
    folders = tuple(asset_dirs)
    return [check_script(p, vars=vars, asset_dirs=folders)
            for path in paths for p in find_scripts(path)]
