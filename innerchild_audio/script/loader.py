"""Load and validate a meditation script (format version 1) into the typed model.

Every problem in a file is collected (up to a cap) and raised together as one
ScriptError, each with its file, line and column. Values are read in
`values.py`, steps in `steps.py`; this module reads files and the top level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from yaml.nodes import Node

from innerchild_audio.errors import Problem, ScriptError
from innerchild_audio.model import Background, Script, Source, Step, Voice
from innerchild_audio.script.nodes import MAX_NODES, Reader, Report, _Stop, compose, count_nodes
from innerchild_audio.script.steps import MAX_STEPS, STEP_KEYS, StepReader, _StepContext
from innerchild_audio.script.values import MAX_PAUSE_MS

MAX_SESSION_MS: Final = 3 * 3_600_000
# A script with the parts it includes, checked before parsing: PyYAML reads about
# 200 kB a second, and the longest script the other limits allow is far smaller.
MAX_SCRIPT_BYTES: Final = 2_000_000
TOP_KEYS: Final = ("title", "slug", "description", "author", "language", "content_warning",
                   "tags", "cover", "episode", "season", "explicit", "length", "voice",
                   "background", "vars", "steps", "lead_in", "tail", "pronounce",
                   "offline_voice")
_SLUG: Final = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_BCP47: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")

__all__ = ["MAX_PAUSE_MS", "MAX_SCRIPT_BYTES", "MAX_SESSION_MS", "MAX_STEPS", "STEP_KEYS",
           "TOP_KEYS", "load_script", "slug_from_name"]


def slug_from_name(stem: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    return slug or "session"


@dataclass
class _Loader(StepReader):
    """State of one load: the problems, the variables, the include chain."""

    root: Path  # the library folder includes and assets may not leave
    variables: dict[str, str]
    asset_dirs: tuple[Path, ...] = ()
    open_assets: bool = False
    report: Report = field(default_factory=Report)
    files: list[Path] = field(default_factory=list)
    assets: list[Path] = field(default_factory=list)
    step_count: int = 0
    said: bool = False
    too_many_reported: bool = False
    part_keys: tuple[str, ...] = TOP_KEYS
    bytes_read: int = 0
    read: dict[Path, tuple[Reader, Node] | None] = field(default_factory=dict)

    def read_root(self, path: Path, include_source: Source | None) -> tuple[Reader, Node] | None:
        """The file's root node, read once per load however often it is included."""
        if path not in self.read:
            self.read[path] = self._read(path, include_source or Source(path, 1, 1))
        return self.read[path]

    def _read(self, path: Path, where: Source) -> tuple[Reader, Node] | None:
        reader = Reader(path, self.report)
        budget = MAX_SCRIPT_BYTES - self.bytes_read
        try:
            with path.open("rb") as file:
                data = file.read(budget + 1)  # never more than the limit, whatever the file
        except OSError as error:
            self.report.add(where, f"cannot read {path}: {error.strerror or error}")
            return None
        if len(data) > budget:
            whole = "with the parts it includes, " if self.files else ""
            self.report.add(where, f"{whole}{path.name} goes past {MAX_SCRIPT_BYTES:,} bytes, "
                                   "the most a script may hold; make it shorter")
            return None
        self.bytes_read += len(data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            self.report.add(where, f"{path.name} is not UTF-8 text ({error.reason}); "
                                   "save it as UTF-8")
            return None
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as a text-mode read would
        self.files.append(path)
        known = len(self.report.problems)
        node = compose(path, text, self.report)
        if node is None:
            if len(self.report.problems) == known:  # nothing but comments or blank lines
                self.report.add(where, f"{path.name} is empty; a script needs 'title:' and "
                                       "'steps:'")
            return None
        if count_nodes(node) > MAX_NODES:
            reader.problem(node, "the YAML expands to too many values (aliases?); "
                                 "write it out plainly")
            return None
        return reader, node




def library_voice(loader: _Loader, root: Path) -> Voice:
    """The default voice with the library's `offline_voice` and `pronounce` from podcast.yaml.

    The rest of podcast.yaml is the channel's (publish reads and checks it).
    """
    path = root / "podcast.yaml"
    voice = Voice()
    if not path.is_file():
        return voice
    loaded = loader.read_root(path, None)
    if path in loader.files:
        loader.files.remove(path)  # its voice settings reach the render's hash through the voice
    if loaded is None:
        return voice
    r, node = loaded
    entries = r.mapping(node, "podcast.yaml") or {}
    if "offline_voice" in entries:
        voice = loader.offline_voice(r, entries["offline_voice"][1], voice, "offline_voice")
    if "pronounce" in entries:
        voice = loader.pronounce(r, entries["pronounce"][1], voice, "pronounce")
    return voice


def load_script(path: Path | str, *, vars: Mapping[str, str] | None = None,
                library_root: Path | None = None,
                asset_dirs: Iterable[Path | str] = (), open_assets: bool = False) -> Script:
    """Load, validate and expand a script. Raises ScriptError listing every problem.

    Includes stay inside `library_root` (by default the script's folder); sound and
    cover files inside it or inside one of `asset_dirs`. Symlinks are resolved first.
    With `open_assets`, each sound must decode and each cover must read as an image.
    """
    path = Path(path).resolve()
    root = (library_root or path.parent).resolve()
    loader = _Loader(root=root, variables={}, open_assets=open_assets,
                     asset_dirs=tuple(Path(folder).resolve() for folder in asset_dirs))
    try:
        script = _load(loader, path, dict(vars or {}))
    except RecursionError:
        script = None
        loader.report.problems.append(Problem(path, 1, 1, "the script is nested too deeply "
                                                          "to read; flatten its repeats"))
    except _Stop:
        script = None
        loader.report.problems.append(Problem(
            path, 1, 1, f"stopped after {len(loader.report.problems)} problems; "
                        "fix these and check again"))
    loader.report.raise_if_any()
    if script is None:  # pragma: no cover - a problem is always reported first
        raise ScriptError([])
    return script


_Entries = dict[str, tuple[Node, Node]]


def _load(loader: _Loader, path: Path, overrides: dict[str, str]) -> Script | None:
    loaded = loader.read_root(path, None)
    if loaded is None:
        return None
    r, root = loaded
    entries = r.mapping(root, "a script")
    if entries is None:
        return None
    # Read in this order: problems are listed as they are found.
    _check_top_keys(r, root, entries)
    loader.variables = _read_vars(r, entries, overrides)
    fields = _read_texts(loader, r, entries)
    slug = _read_slug(r, entries, path)
    fields.update(_read_metadata(loader, r, entries))
    voice, background = _read_sound(loader, r, entries)
    steps = _read_steps(loader, r, entries, _StepContext(voice, background, (path,)))
    if loader.report.problems:
        return None
    return Script(
        path=path, slug=slug, steps=tuple(steps), voice=voice,
        background=background,
        vars=loader.variables, files=tuple(dict.fromkeys(loader.files)),
        assets=tuple(dict.fromkeys(loader.assets)),
        **{k: v for k, v in fields.items() if v is not None},  # type: ignore[arg-type]
    )


def _check_top_keys(r: Reader, root: Node, entries: _Entries) -> None:
    r.check_keys(entries, TOP_KEYS, "the script")
    for required in ("title", "steps"):
        if required not in entries:
            r.problem(root, f"the script needs '{required}:'")


def _read_vars(r: Reader, entries: _Entries, overrides: dict[str, str]) -> dict[str, str]:
    """The script's `vars:`, then the caller's overrides on top."""
    variables: dict[str, str] = {}
    if "vars" in entries:
        var_entries = r.mapping(entries["vars"][1], "vars") or {}
        for name, (key_node, value) in var_entries.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                r.problem(key_node, f"variable name '{name}' must be a word (letters, digits, _)")
                continue
            text = r.text(value, f"vars {name}", allow_empty=True)
            if text is not None:
                variables[name] = text
    variables.update(overrides)
    return variables


def _read_texts(loader: _Loader, r: Reader, entries: _Entries) -> dict[str, object]:
    """Title, description, author and content warning (all but the author are spoken)."""
    fields: dict[str, object] = {}
    for key in ("title", "description", "author", "content_warning"):
        if key in entries:
            what = key.replace("_", " ")
            fields[key] = loader.spoken(r, entries[key][1], what) if key != "author" else \
                r.text(entries[key][1], what)
    if fields.get("title") is not None:
        fields["title"] = str(fields["title"]).strip()
    return fields


def _read_slug(r: Reader, entries: _Entries, path: Path) -> str:
    """The given slug if it is valid, else one made from the file name."""
    slug = slug_from_name(path.stem)
    if "slug" in entries:
        node = entries["slug"][1]
        given = r.text(node, "slug")
        if given is not None and not _SLUG.fullmatch(given):
            r.problem(node, f"slug '{given}' may hold only ASCII letters, digits and '-' "
                            f"(e.g. {slug_from_name(given)})")
        elif given is not None:
            slug = given
    return slug


def _read_metadata(loader: _Loader, r: Reader, entries: _Entries) -> dict[str, object]:
    """Language, tags, cover, episode, season, explicit and length."""
    fields: dict[str, object] = {}
    if "language" in entries:
        node = entries["language"][1]
        language = r.text(node, "language")
        if language is not None and not _BCP47.fullmatch(language):
            r.problem(node, f"language '{language}' is not a BCP 47 tag like en or en-GB")
        fields["language"] = language
    if "tags" in entries:
        items = r.sequence(entries["tags"][1], "tags") or []
        fields["tags"] = tuple(t for t in (r.text(i, "a tag") for i in items) if t is not None)
    if "cover" in entries:
        fields["cover"] = loader.file_ref(r, entries["cover"][1], "cover", audio=False)
    for key in ("episode", "season"):
        if key in entries:
            fields[key] = r.integer(entries[key][1], key)
    if "explicit" in entries:
        fields["explicit"] = r.boolean(entries["explicit"][1], "explicit")
    if "length" in entries:
        fields["length_ms"] = loader.duration(r, entries["length"][1], "length",
                                              limit_ms=MAX_SESSION_MS, positive=True)
    for key in ("lead_in", "tail"):
        if key in entries:
            fields[f"{key}_ms"] = loader.duration(r, entries[key][1], key, limit_ms=60_000)
    return fields


def _read_sound(loader: _Loader, r: Reader, entries: _Entries) -> tuple[Voice, Background | None]:
    """The script-wide voice (from the library's podcast.yaml, then the script's) and bed."""
    voice = library_voice(loader, loader.root)
    if "voice" in entries:
        voice = loader.voice(r, entries["voice"][1], voice, "voice")
    if "offline_voice" in entries:
        voice = loader.offline_voice(r, entries["offline_voice"][1], voice, "offline_voice")
    if "pronounce" in entries:
        voice = loader.pronounce(r, entries["pronounce"][1], voice, "pronounce")
    background = None
    if "background" in entries:
        bed = loader.background(r, entries["background"][1], None, "background")
        background = bed if isinstance(bed, Background) else None  # False: reported
    return voice, background


def _read_steps(loader: _Loader, r: Reader, entries: _Entries, ctx: _StepContext) -> list[Step]:
    if "steps" not in entries:
        return []
    steps = loader.steps(r, entries["steps"][1], ctx)
    if not loader.said and not loader.report.problems:
        r.problem(entries["steps"][0], "the script never speaks: add at least one 'say:' step")
    return steps
