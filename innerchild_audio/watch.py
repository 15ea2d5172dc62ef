"""Watching a script: check and render again (or preview a part) on every save.

The files watched are the script, every part it includes and every sound or
cover it uses, as the last successful load named them (the script itself
always). Their folders are watched, not the files, since editors often save
by writing a new file and renaming it over the old one. Saves that come
together (an editor writing several files, a save and a backup) are
gathered into one run by waiting `debounce_ms` after the last of them.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from innerchild_audio.errors import InnerChildError
from innerchild_audio.options import RenderOptions, RunSettings

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS: Final = 400
STEP_MS: Final = 50  # how often gathered changes are looked at
POLL_MS: Final = 300  # how often files are looked at when the OS gives no file events


@dataclass
class Job:
    """What to do on each save: render the script, or preview `part` of it.

    `part` holds `preview_script`'s keywords: chapter, from_ms, to_ms, out.
    """

    path: Path
    options: RenderOptions = field(default_factory=RenderOptions)
    settings: RunSettings = field(default_factory=RunSettings)
    part: Mapping[str, Any] | None = None
    watched: set[Path] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.path = Path(self.path).resolve()
        self.watched = {self.path}

    def run(self) -> str:
        """Check, then render or preview; the one-line summary, or the problems found.

        Problems come as the library words them (`FILE:LINE:COL: ...` for a script).
        """
        from innerchild_audio.script import load_script

        try:
            script = load_script(self.path, vars=self.options.vars,  # the check
                                 asset_dirs=self.options.asset_dirs)
            self.watched = {self.path, *(Path(p).resolve() for p in (*script.files,
                                                                      *script.assets))}
            background = self.options.background
            if background is not None and Path(background).is_file():
                self.watched.add(Path(background).resolve())
            if self.part is not None:
                from innerchild_audio.preview import preview_script

                return preview_script(self.path, self.options, self.settings,
                                      **dict(self.part)).summary()
            from innerchild_audio.render import render_script

            return render_script(self.path, self.options, self.settings).summary()
        except InnerChildError as error:
            return error.cli_message()

    @property
    def folders(self) -> set[Path]:
        return {p.parent for p in self.watched}


def watch_script(job: Job, *, debounce_ms: int = DEFAULT_DEBOUNCE_MS,
                 echo: Callable[[str], None] = print,
                 stop: threading.Event | None = None) -> None:
    """Run `job` now and after every save of a file it uses, until `stop` is set
    (or Ctrl-C: KeyboardInterrupt reaches the caller)."""
    import watchfiles

    events = _FileEvents(debounce_ms, stop, echo)
    echo(job.run())
    while stop is None or not stop.is_set():
        watched = frozenset(job.watched)
        echo(f"watching {len(watched)} file(s); Ctrl-C stops")

        def wanted(change: watchfiles.Change, path: str, watched: frozenset = watched) -> bool:
            return Path(path).resolve() in watched

        for changes in events.changes(sorted(job.folders), wanted):
            names = sorted({Path(p).name for _, p in changes})
            log.info("changed: %s", ", ".join(names))
            echo(f"changed: {', '.join(names)}")
            echo(job.run())
            if job.watched != watched:
                break  # includes or sounds changed: watch the new set of files


@dataclass
class _FileEvents:
    """Where saves are heard from: the OS's file events, or polling once the OS has
    refused them (its limit of watches reached, as many open editors can do)."""

    debounce_ms: int
    stop: threading.Event | None
    echo: Callable[[str], None]
    polling: bool = False

    def changes(self, folders: list[Path], wanted: Callable[..., bool]) -> Iterator[set]:
        import watchfiles

        watch = functools.partial(watchfiles.watch, watch_filter=wanted,
                                  debounce=self.debounce_ms, step=STEP_MS,
                                  stop_event=self.stop, recursive=False)
        if not self.polling:
            try:
                yield from watch(*folders)
                return
            except FileNotFoundError:  # a folder gone: polling would not find it either
                raise
            except OSError as error:
                self.polling = True  # said once, kept for the rest of the watch
                self.echo(f"file events are not available ({error}); looking at the files "
                          f"every {POLL_MS} ms instead")
        yield from watch(*folders, force_polling=True, poll_delay_ms=POLL_MS)


__all__ = ["DEFAULT_DEBOUNCE_MS", "Job", "watch_script"]
