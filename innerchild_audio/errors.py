"""The project's exceptions: one base, specific subclasses, and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Final

SNIPPET_WIDTH: Final = 100  # characters of the line shown under a problem, around its column


class ExitStatus(IntEnum):
    OK = 0
    FAILURE = 1  # something went wrong while rendering or publishing
    INVALID = 2  # invalid input or usage


def _rebuild(cls, args, kwargs):
    """An error made again from its arguments, keyword ones too (pickle cannot pass them)."""
    return cls(*args, **kwargs)


class InnerChildError(Exception):
    """Base of every error the library raises on purpose."""

    exit_status: ExitStatus = ExitStatus.FAILURE

    def cli_message(self) -> str:
        """The message as the command line words it (options named as flags)."""
        return str(self)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a script, located at a node (line and column are 1-based)."""

    file: Path
    line: int
    column: int
    message: str
    snippet: str = ""

    def format(self) -> str:
        head = f"{self.file}:{self.line}:{self.column}: {self.message}"
        if not self.snippet:
            return head
        snippet, at = _window(self.snippet, max(self.column, 1) - 1)
        return f"{head}\n    {snippet}\n    {' ' * at}^"


def _window(line: str, at: int) -> tuple[str, int]:
    """At most SNIPPET_WIDTH characters of `line` around index `at`, and where `at` is now."""
    if len(line) <= SNIPPET_WIDTH:
        return line, at
    start = max(0, min(at - SNIPPET_WIDTH // 2, len(line) - SNIPPET_WIDTH))
    end = start + SNIPPET_WIDTH
    cut = ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")
    return cut, at - start + (1 if start else 0)


class ScriptError(InnerChildError):
    """A script (or podcast.yaml) is invalid; carries every problem found."""

    exit_status = ExitStatus.INVALID

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self):  # whole across processes (build workers, Dask)
        return type(self), (self.problems,)


class UsageError(InnerChildError):
    """Options or arguments that cannot work together, or a target out of reach.

    `option` names the option at fault (a `RenderOptions` field such as
    "background"); the library says "background x: ...", the CLI "--background x: ...".
    """

    exit_status = ExitStatus.INVALID

    def __init__(self, message: str, *, option: str | None = None):
        self.option = option
        self.detail = message
        super().__init__(f"{option.replace('_', ' ')} {message}" if option else message)

    def __reduce__(self):
        return _rebuild, (type(self), (self.detail,), {"option": self.option})

    def cli_message(self) -> str:
        if self.option is None:
            return str(self)
        return f"--{self.option.replace('_', '-')} {self.detail}"


class SpeechError(InnerChildError):
    """Speech could not be synthesized (network, engine or model trouble).

    `offline_hint`: the online voice failed, and the offline one would work.
    """

    OFFLINE_HINT = "The offline voice (engine 'piper') works without the network."
    CLI_OFFLINE_HINT = "Render offline with --engine piper."

    def __init__(self, message: str, *, offline_hint: bool = False):
        self.offline_hint = offline_hint
        self.detail = message
        super().__init__(f"{message} {self.OFFLINE_HINT}" if offline_hint else message)

    def __reduce__(self):
        return _rebuild, (type(self), (self.detail,), {"offline_hint": self.offline_hint})

    def cli_message(self) -> str:
        return f"{self.detail} {self.CLI_OFFLINE_HINT}" if self.offline_hint else str(self)


class RenderError(InnerChildError):
    """Mixing, mastering or export failed."""


class PublishError(InnerChildError):
    """The podcast site could not be built."""
