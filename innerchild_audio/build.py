"""Building a library: every script rendered, the unchanged ones skipped.

    build_library(Path("meditations"), RenderOptions(), RunSettings())  -> BuildResult

A session is skipped when its inputs hash (see `inputs`) equals the one in the
manifest on disk and every file that manifest names is there. The rest run as
one graph (`scale.graph`): their unique sentences once, then every session, on
`settings.jobs` local worker processes or on the Dask cluster `settings.scheduler`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innerchild_audio.atomic import ensure_folder
from innerchild_audio.errors import InnerChildError, UsageError
from innerchild_audio.inputs import is_unchanged, prepare
from innerchild_audio.library import find_scripts
from innerchild_audio.options import DEFAULT_LIBRARY, RenderOptions, RunSettings
from innerchild_audio.render import RenderResult
from innerchild_audio.scale.graph import GraphStats, SessionOutcome, SessionTask, run_tasks


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
    stats: GraphStats | None = None  # what the graph did (None: nothing to render)

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
    ensure_folder(settings.out_dir)
    result = BuildResult()
    slugs: dict[str, Path] = {}
    tasks: list[SessionTask] = []

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
            tasks.append(SessionTask(path, prepared))
        except InnerChildError as error:
            record(Failed(path, error))

    def done(task: SessionTask, outcome: SessionOutcome) -> None:
        record(outcome if isinstance(outcome, RenderResult) else Failed(task.source, outcome))

    result.stats = run_tasks(tasks, settings, done)
    order = {path: index for index, path in enumerate(slugs.values())}
    result.rendered.sort(key=lambda r: order.get(r.script_path, len(order)))
    return result


__all__ = ["BuildResult", "Failed", "Outcome", "Skipped", "build_library"]
