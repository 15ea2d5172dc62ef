"""Building a library: every script rendered, the unchanged ones skipped.

    build_library(Path("meditations"), RenderOptions(), RunSettings())  -> BuildResult

A session is skipped when its inputs hash (see `inputs`) equals the one in the
manifest on disk and every file that manifest names is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innerchild_audio.errors import InnerChildError, UsageError
from innerchild_audio.inputs import is_unchanged, prepare
from innerchild_audio.library import find_scripts
from innerchild_audio.options import DEFAULT_LIBRARY, RenderOptions, RunSettings
from innerchild_audio.render import RenderResult, render_prepared


@dataclass(frozen=True)
class Skipped:
    script_path: Path
    mp3_path: Path

    def summary(self) -> str:
        return f"unchanged: {self.mp3_path}"


@dataclass(frozen=True)
class Failed:
    script_path: Path
    error: InnerChildError

    def summary(self) -> str:
        return str(self.error)


Outcome = RenderResult | Skipped | Failed


@dataclass
class BuildResult:
    rendered: list[RenderResult] = field(default_factory=list)
    unchanged: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rendered) + len(self.unchanged) + len(self.failed)

    @property
    def exit_status(self) -> int:
        return max((int(f.error.exit_status) for f in self.failed), default=0)

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, RenderResult):
            self.rendered.append(outcome)
        elif isinstance(outcome, Skipped):
            self.unchanged.append(outcome)
        else:
            self.failed.append(outcome)


def build_library(
    folder: Path | str = DEFAULT_LIBRARY,
    options: RenderOptions | None = None,
    settings: RunSettings | None = None,
    *,
    force: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> BuildResult:
    """Render every script of a library folder, skipping the unchanged (unless `force`).

    One script's failure does not stop the others: it is recorded in `failed`.
    `on_outcome` hears about each session as soon as it is done.
    """
    options = options or RenderOptions()
    settings = settings or RunSettings()
    result = BuildResult()
    slugs: dict[str, Path] = {}

    def record(outcome: Outcome) -> None:
        result.add(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    for path in find_scripts(Path(folder)):
        try:
            prepared = prepare(path, options)
            slug = prepared.script.slug
            if slug in slugs:
                raise UsageError(f"{path}: slug '{slug}' is also used by {slugs[slug]}; "
                                 "give one of them its own 'slug:'")
            slugs[slug] = path
            if not force and is_unchanged(prepared, settings.out_dir):
                record(Skipped(path, settings.out_dir / f"{slug}.mp3"))
                continue
            record(render_prepared(prepared, settings))
        except InnerChildError as error:
            record(Failed(path, error))
    return result


__all__ = ["BuildResult", "Failed", "Outcome", "Skipped", "build_library"]
