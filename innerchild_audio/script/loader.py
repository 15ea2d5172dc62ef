"""Load and validate a meditation script (format version 1) into the typed model.

Every problem in a file is collected (up to a cap) and raised together as one
ScriptError, each with its file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from yaml.nodes import MappingNode, Node, ScalarNode

from innerchild_audio.errors import ScriptError
from innerchild_audio.model import (
    CUE_KINDS,
    ENGINES,
    GENERATED_SOUNDS,
    Background,
    BackgroundChange,
    Bell,
    Breathe,
    Chapter,
    Pause,
    Say,
    Script,
    Sound,
    Source,
    Step,
    Voice,
)
from innerchild_audio.script.nodes import (
    MAX_NODES,
    Reader,
    Report,
    _Stop,
    compose,
    count_nodes,
    is_null,
    suggest,
)
from innerchild_audio.script.text import MAX_SAY_CHARS, TextProblem, check_markup, substitute
from innerchild_audio.units import (
    DURATION_FORMS,
    format_duration,
    parse_duration_ms,
    parse_level_db,
)

MAX_STEPS: Final = 2000
MAX_INCLUDE_DEPTH: Final = 8
MAX_PAUSE_MS: Final = 3_600_000
MAX_SESSION_MS: Final = 3 * 3_600_000
MAX_BELL_STRIKES: Final = 50
MAX_REPEAT: Final = 500
MAX_BREATH_CYCLES: Final = 100

TOP_KEYS: Final = ("title", "slug", "description", "author", "language", "content_warning",
                   "tags", "cover", "episode", "season", "explicit", "length", "voice",
                   "background", "vars", "steps")
STEP_KEYS: Final = ("say", "pause", "breathe", "bell", "sound", "chapter", "include",
                    "repeat", "background")
VOICE_KEYS: Final = ("engine", "lang", "tld", "model", "rate", "sentence_pause",
                     "paragraph_pause")
BACKGROUND_KEYS: Final = ("sound", "volume", "duck", "fade_in", "fade_out")
BREATHE_KEYS: Final = ("in", "hold", "out", "hold_out", "cycles", "cues", "pattern")
BREATH_PATTERNS: Final = {"box": (4, 4, 4, 4), "4-7-8": (4, 7, 8, 0)}
AUDIO_SUFFIXES: Final = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
_SLUG: Final = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_BCP47: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_PATTERN: Final = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?){2,3}")


def slug_from_name(stem: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    return slug or "session"


@dataclass
class _Loader:
    """State of one load: the problems, the variables, the include chain."""

    root: Path  # the library folder includes may not leave
    variables: dict[str, str]
    report: Report = field(default_factory=Report)
    files: list[Path] = field(default_factory=list)
    assets: list[Path] = field(default_factory=list)
    step_count: int = 0
    said: bool = False
    too_many_reported: bool = False

    # --- files -------------------------------------------------------------
    def read_root(self, path: Path, include_source: Source | None) -> tuple[Reader, Node] | None:
        reader = Reader(path, self.report)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            where = include_source or Source(path, 1, 1)
            self.report.add(where, f"{path.name} is not UTF-8 text ({error.reason}); "
                                   "save it as UTF-8")
            return None
        except OSError as error:
            where = include_source or Source(path, 1, 1)
            self.report.add(where, f"cannot read {path}: {error.strerror or error}")
            return None
        self.files.append(path)
        known = len(self.report.problems)
        node = compose(path, text, self.report)
        if node is None:
            if len(self.report.problems) == known:  # nothing but comments or blank lines
                self.report.add(include_source or Source(path, 1, 1),
                                f"{path.name} is empty; a script needs 'title:' and 'steps:'")
            return None
        if count_nodes(node) > MAX_NODES:
            reader.problem(node, "the YAML expands to too many values (aliases?); "
                                 "write it out plainly")
            return None
        return reader, node

    # --- values ------------------------------------------------------------
    def duration(self, r: Reader, node: Node, what: str, *, limit_ms: int = MAX_PAUSE_MS,
                 positive: bool = False) -> int | None:
        value = r.scalar(node, what)
        if value is None:
            if is_null(node):
                r.problem(node, f"{what} needs a duration ({DURATION_FORMS})")
            return None
        try:
            ms = parse_duration_ms(value)
        except ValueError as error:
            r.problem(node, f"{what}: {error}")
            return None
        if ms > limit_ms:
            r.problem(node, f"{what} is {format_duration(ms)}; the most allowed is "
                            f"{format_duration(limit_ms)}")
            return None
        if positive and ms == 0:
            r.problem(node, f"{what} must be longer than 0s")
            return None
        return ms

    def level(self, r: Reader, node: Node, what: str, low: float, high: float) -> float | None:
        value = r.scalar(node, what)
        if value is None and not is_null(node):
            return None
        try:
            db = parse_level_db(value)
        except ValueError as error:
            r.problem(node, f"{what}: {error}")
            return None
        if not low <= db <= high:
            r.problem(node, f"{what} must be between {low:g} dB and {high:g} dB, got {db:g} dB")
            return None
        return db

    def file_ref(self, r: Reader, node: Node, what: str, *, audio: bool) -> Path | None:
        name = r.text(node, what)
        if name is None:
            return None
        path = (r.path.parent / name).resolve()
        if not path.is_file():
            r.problem(node, f"{what}: no file at {path}; paths are relative to "
                            f"{r.path.name}")
            return None
        if audio and path.suffix.lower() not in AUDIO_SUFFIXES:
            r.problem(node, f"{what}: {path.name} is not a sound file this tool reads "
                            f"({', '.join(AUDIO_SUFFIXES)})")
            return None
        self.assets.append(path)
        return path

    def spoken(self, r: Reader, node: Node, what: str) -> str | None:
        """Text with variables substituted and markup checked, located on failure."""
        raw = r.text(node, what)
        if raw is None:
            return None
        try:
            text = substitute(raw, self.variables)
            check_markup(text)
        except TextProblem as problem:
            r.report.add(self.locate(r, node, problem.token), str(problem))
            return None
        if len(text) > MAX_SAY_CHARS:
            r.problem(node, f"{what} is {len(text):,} characters; the most is "
                            f"{MAX_SAY_CHARS:,}: split it into several steps")
            return None
        return text

    def locate(self, r: Reader, node: Node, token: str) -> Source:
        """The line and column of `token` inside a scalar (block scalars span lines)."""
        start, end = node.start_mark.line, node.end_mark.line
        for number in range(start, end + 1):
            line = r.report.line_text(r.path, number + 1)
            col = line.find(token, node.start_mark.column if number == start else 0)
            if token and col != -1:
                return Source(r.path, number + 1, col + 1)
        return r.at(node)

    # --- voice and background -----------------------------------------------
    def voice(self, r: Reader, node: Node, base: Voice, what: str) -> Voice:
        entries = r.mapping(node, what)
        if entries is None:
            return base
        r.check_keys(entries, VOICE_KEYS, what)
        changes: dict[str, object] = {}
        for key, (_, value) in entries.items():
            if key == "engine":
                engine = r.text(value, f"{what} engine")
                if engine is not None and engine not in ENGINES:
                    hint = suggest(engine, ENGINES) or f"use one of {', '.join(ENGINES)}"
                    r.problem(value, f"unknown engine '{engine}'; {hint}")
                elif engine is not None:
                    changes["engine"] = engine
            elif key in ("lang", "tld", "model"):
                text = r.text(value, f"{what} {key}")
                if text is not None:
                    changes[key] = text.strip()
            elif key == "rate":
                rate = r.scalar(value, f"{what} rate")
                if isinstance(rate, bool) or not isinstance(rate, (int, float)):
                    if rate is not None or is_null(value):
                        r.problem(value, "rate must be a number like 0.9 (1.0 is the "
                                         "engine's natural speed)")
                elif not 0.5 <= rate <= 2.0:
                    r.problem(value, f"rate must be between 0.5 and 2.0, got {rate:g}")
                else:
                    changes["rate"] = float(rate)
            elif key in ("sentence_pause", "paragraph_pause"):
                ms = self.duration(r, value, f"{what} {key}", limit_ms=60_000)
                if ms is not None:
                    changes[f"{key}_ms"] = ms
        return replace(base, **changes)  # type: ignore[arg-type]

    def background(self, r: Reader, node: Node, base: Background | None,
                   what: str) -> Background | None | bool:
        """A Background, None for `none`, or False when invalid."""
        if is_null(node) or (isinstance(node, ScalarNode) and str(node.value).lower() == "none"):
            return None
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            entries: dict[str, tuple[Node, Node]] | None = {"sound": (node, node)}
        else:
            entries = r.mapping(node, what)
        if entries is None:
            return False
        r.check_keys(entries, BACKGROUND_KEYS, what)
        ok = True
        fields: dict[str, object] = {}
        if "sound" not in entries:
            r.problem(node, f"{what} needs 'sound:' ({', '.join(GENERATED_SOUNDS)}, or a file "
                            "path), or write 'none' for no background")
            ok = False
        for key, (_, value) in entries.items():
            if key == "sound":
                sound = r.text(value, f"{what} sound")
                if sound is None:
                    ok = False
                elif sound in GENERATED_SOUNDS:
                    fields["sound"] = sound
                else:
                    looks_like_file = "/" in sound or "." in sound
                    if not looks_like_file:
                        hint = suggest(sound, GENERATED_SOUNDS)
                        r.problem(value, f"unknown background sound '{sound}'; "
                                         + (hint or "use one of " + ", ".join(GENERATED_SOUNDS)
                                            + ", or a path to a sound file"))
                        ok = False
                        continue
                    path = self.file_ref(r, value, f"{what} sound", audio=True)
                    ok = ok and path is not None
                    fields["sound"] = str(path)
            elif key == "volume":
                fields["volume_db"] = self.level(r, value, f"{what} volume", -60, 0)
            elif key == "duck":
                fields["duck_db"] = self.level(r, value, f"{what} duck", 0, 40)
            elif key in ("fade_in", "fade_out"):
                fields[f"{key}_ms"] = self.duration(r, value, f"{what} {key}", limit_ms=600_000)
        if not ok or any(v is None for v in fields.values()):
            return False
        start = base if base is not None else Background(sound=str(fields["sound"]))
        return replace(start, **fields)  # type: ignore[arg-type]

    # --- steps --------------------------------------------------------------
    def steps(self, r: Reader, node: Node, ctx: _StepContext) -> list[Step]:
        items = r.sequence(node, "steps")
        out: list[Step] = []
        if items is None:
            return out
        for item in items:
            try:
                out.extend(self.step(r, item, ctx))
            except _Stop:
                raise
            if self.step_count > MAX_STEPS:
                if not self.too_many_reported:
                    self.too_many_reported = True
                    r.problem(item, f"the script has more than {MAX_STEPS:,} steps once "
                                    "includes and repeats are expanded; make it shorter")
                break
        return out

    def step(self, r: Reader, node: Node, ctx: _StepContext) -> list[Step]:
        entries = r.mapping(node, "a step")
        if entries is None:
            return []
        if len(entries) != 1:
            keys = ", ".join(entries) or "no key"
            r.problem(node, f"a step has exactly one key (one of {', '.join(STEP_KEYS)}); "
                            f"this one has {keys}: start each step with its own '- '")
            return []
        (kind, (key_node, value)), = entries.items()
        src = r.at(node)
        if kind not in STEP_KEYS:
            hint = suggest(kind, STEP_KEYS) or f"steps are {', '.join(STEP_KEYS)}"
            r.problem(key_node, f"unknown step '{kind}'; {hint}")
            return []
        handler = getattr(self, f"step_{kind}")
        result: list[Step] = handler(r, value, src, ctx)
        if kind not in ("include", "repeat"):
            self.step_count += len(result)
        return result

    def step_say(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        voice = ctx.voice
        text_node = node
        if isinstance(node, MappingNode):
            entries = r.mapping(node, "say")
            if entries is None:
                return []
            r.check_keys(entries, ("text", "voice"), "say")
            if "text" not in entries:
                r.problem(node, "say needs 'text:' (or write the text straight after 'say:')")
                return []
            text_node = entries["text"][1]
            if "voice" in entries:
                voice = self.voice(r, entries["voice"][1], ctx.voice, "say voice")
        text = self.spoken(r, text_node, "say text")
        if text is None:
            return []
        self.said = True
        return [Say(text=text, voice=voice, source=src)]

    def step_pause(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        if not isinstance(node, MappingNode):
            ms = self.duration(r, node, "pause")
            return [] if ms is None else [Pause(ms, ms, ms, src)]
        entries = r.mapping(node, "pause")
        if entries is None:
            return []
        r.check_keys(entries, ("min", "max", "default"), "pause")
        if "min" not in entries or "max" not in entries:
            r.problem(node, "an elastic pause needs both 'min:' and 'max:' (and may have "
                            "'default:'), e.g. pause: {min: 10s, max: 45s}; for a fixed "
                            "pause write pause: 5s")
            return []
        low = self.duration(r, entries["min"][1], "pause min")
        high = self.duration(r, entries["max"][1], "pause max")
        default = (self.duration(r, entries["default"][1], "pause default")
                   if "default" in entries else low)
        if low is None or high is None or default is None:
            return []
        if low > high:
            r.problem(entries["min"][1], f"pause min ({format_duration(low)}) is longer than "
                                         f"max ({format_duration(high)}); swap them")
            return []
        if not low <= default <= high:
            r.problem(entries["default"][1], f"pause default ({format_duration(default)}) "
                                             f"must lie between min and max")
            return []
        return [Pause(low, high, default, src)]

    def step_breathe(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        entries = r.mapping(node, "breathe")
        if entries is None:
            return []
        r.check_keys(entries, BREATHE_KEYS, "breathe")
        phases: dict[str, int | None] = {"in": None, "hold": 0, "out": None, "hold_out": 0}
        if "pattern" in entries:
            seconds: tuple[float, ...]
            pattern_node = entries["pattern"][1]
            pattern = r.text(pattern_node, "breathe pattern")
            if pattern is None:
                return []
            pattern = pattern.strip().lower()
            if pattern in BREATH_PATTERNS:
                seconds = BREATH_PATTERNS[pattern]
            elif _PATTERN.fullmatch(pattern):
                seconds = tuple(float(x) for x in pattern.split("-")) + (0,)
            else:
                r.problem(pattern_node, f"unknown breathing pattern '{pattern}'; use 'box', "
                                        "'4-7-8', or seconds like 4-4-6 (in-hold-out) or "
                                        "4-4-4-4 (in-hold-out-hold)")
                return []
            for name, sec in zip(("in", "hold", "out", "hold_out"), seconds, strict=False):
                phases[name] = round(sec * 1000)
            clash = [k for k in ("in", "hold", "out", "hold_out") if k in entries]
            if clash:
                r.problem(entries[clash[0]][0], f"give either 'pattern' or '{clash[0]}', "
                                                "not both")
                return []
        else:
            for name in ("in", "hold", "out", "hold_out"):
                if name in entries:
                    phases[name] = self.duration(r, entries[name][1], f"breathe {name}",
                                                 limit_ms=60_000, positive=name in ("in", "out"))
                    if phases[name] is None:
                        return []
            missing = [k for k in ("in", "out") if phases[k] is None]
            if missing:
                r.problem(node, f"breathe needs '{missing[0]}:' (e.g. in: 4s, out: 6s) "
                                "or a 'pattern:' such as box or 4-7-8")
                return []
        cycles = 3
        if "cycles" in entries:
            value = r.integer(entries["cycles"][1], "breathe cycles")
            if value is None:
                return []
            if value > MAX_BREATH_CYCLES:
                r.problem(entries["cycles"][1], f"at most {MAX_BREATH_CYCLES} cycles")
                return []
            cycles = value
        cues = "voice"
        if "cues" in entries:
            cue_node = entries["cues"][1]
            value_text = r.text(cue_node, "breathe cues")
            if value_text is None:
                return []
            if value_text not in CUE_KINDS:
                hint = suggest(value_text, CUE_KINDS) or f"use {', '.join(CUE_KINDS)}"
                r.problem(cue_node, f"unknown cues '{value_text}'; {hint}")
                return []
            cues = value_text
        return [Breathe(phases["in"] or 0, phases["hold"] or 0, phases["out"] or 0,
                        phases["hold_out"] or 0, cycles, cues,  # type: ignore[arg-type]
                        ctx.voice, src)]

    def step_bell(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        if is_null(node):
            return [Bell(1, 3000, None, src)]
        entries = r.mapping(node, "bell")
        if entries is None:
            return []
        r.check_keys(entries, ("strikes", "gap", "sound"), "bell")
        strikes, gap, sound = 1, 3000, None
        if "strikes" in entries:
            strikes = r.integer(entries["strikes"][1], "bell strikes")  # type: ignore[assignment]
            if strikes is not None and strikes > MAX_BELL_STRIKES:
                r.problem(entries["strikes"][1], f"at most {MAX_BELL_STRIKES} strikes")
                return []
        if "gap" in entries:
            gap = self.duration(r, entries["gap"][1], "bell gap", limit_ms=60_000)  # type: ignore
        if "sound" in entries:
            sound = self.file_ref(r, entries["sound"][1], "bell sound", audio=True)
            if sound is None:
                return []
        if strikes is None or gap is None:
            return []
        return [Bell(strikes, gap, sound, src)]

    def step_sound(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        file_node, gain = node, 0.0
        if isinstance(node, MappingNode):
            entries = r.mapping(node, "sound")
            if entries is None:
                return []
            r.check_keys(entries, ("file", "volume"), "sound")
            if "file" not in entries:
                r.problem(node, "sound needs 'file:' (a path relative to this script)")
                return []
            file_node = entries["file"][1]
            if "volume" in entries:
                level = self.level(r, entries["volume"][1], "sound volume", -60, 12)
                if level is None:
                    return []
                gain = level
        path = self.file_ref(r, file_node, "sound file", audio=True)
        return [] if path is None else [Sound(path, gain, src)]

    def step_chapter(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        title = self.spoken(r, node, "chapter title")
        return [] if title is None else [Chapter(title.strip(), src)]

    def step_background(self, r: Reader, node: Node, src: Source,
                        ctx: _StepContext) -> list[Step]:
        bed = self.background(r, node, ctx.background, "background")
        return [] if bed is False else [BackgroundChange(bed, src)]  # type: ignore[arg-type]

    def step_repeat(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        entries = r.mapping(node, "repeat")
        if entries is None:
            return []
        r.check_keys(entries, ("times", "steps"), "repeat")
        if "times" not in entries or "steps" not in entries:
            r.problem(node, "repeat needs 'times:' and 'steps:', e.g. "
                            "repeat: {times: 2, steps: [{say: You are safe.}]}")
            return []
        times = r.integer(entries["times"][1], "repeat times")
        if times is not None and times > MAX_REPEAT:
            r.problem(entries["times"][1], f"repeat at most {MAX_REPEAT} times")
            return []
        before = self.step_count
        body = self.steps(r, entries["steps"][1], ctx)
        if times is None:
            return []
        self.step_count = before + len(body) * times
        if self.step_count > MAX_STEPS:
            if not self.too_many_reported:
                self.too_many_reported = True
                r.problem(node, f"this repeat takes the script past {MAX_STEPS:,} steps; "
                                "make it shorter")
            return []
        return body * times

    def step_include(self, r: Reader, node: Node, src: Source, ctx: _StepContext) -> list[Step]:
        name = r.text(node, "include")
        if name is None:
            return []
        target = (r.path.parent / name).resolve()
        try:
            target.relative_to(self.root)
        except ValueError:
            r.problem(node, f"include '{name}' leaves the script library folder {self.root}; "
                            "keep parts inside it (e.g. parts/...)")
            return []
        if target in ctx.chain:
            cycle = " -> ".join(p.name for p in (*ctx.chain, target))
            r.problem(node, f"include cycle: {cycle}; remove one of these includes")
            return []
        if len(ctx.chain) > MAX_INCLUDE_DEPTH:
            r.problem(node, f"includes nest more than {MAX_INCLUDE_DEPTH} deep; flatten them")
            return []
        if not target.is_file():
            r.problem(node, f"include '{name}': no file at {target}; paths are relative to "
                            f"{r.path.name}")
            return []
        loaded = self.read_root(target, src)
        if loaded is None:
            return []
        part_reader, root = loaded
        entries = part_reader.mapping(root, f"the included file {target.name}")
        if entries is None:
            return []
        part_reader.check_keys(entries, TOP_KEYS, f"the included file {target.name}")
        if "steps" not in entries:
            part_reader.problem(root, f"{target.name} has no 'steps:' to include")
            return []
        inner = _StepContext(ctx.voice, ctx.background, (*ctx.chain, target))
        return self.steps(part_reader, entries["steps"][1], inner)


@dataclass(frozen=True)
class _StepContext:
    voice: Voice
    background: Background | None
    chain: tuple[Path, ...]


def load_script(path: Path | str, *, vars: Mapping[str, str] | None = None,
                library_root: Path | None = None) -> Script:
    """Load, validate and expand a script. Raises ScriptError listing every problem."""
    path = Path(path).resolve()
    root = (library_root or path.parent).resolve()
    loader = _Loader(root=root, variables={})
    try:
        script = _load(loader, path, dict(vars or {}))
    except _Stop:
        script = None
        loader.report.problems.append(loader.report.problems[-1].__class__(
            path, 1, 1, f"stopped after {len(loader.report.problems)} problems; "
                        "fix these and check again"))
    loader.report.raise_if_any()
    if script is None:  # pragma: no cover - a problem is always reported first
        raise ScriptError([])
    return script


def _load(loader: _Loader, path: Path, overrides: dict[str, str]) -> Script | None:
    loaded = loader.read_root(path, None)
    if loaded is None:
        return None
    r, root = loaded
    entries = r.mapping(root, "a script")
    if entries is None:
        return None
    r.check_keys(entries, TOP_KEYS, "the script")
    for required in ("title", "steps"):
        if required not in entries:
            r.problem(root, f"the script needs '{required}:'")

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
    loader.variables = variables

    fields: dict[str, object] = {}
    for key in ("title", "description", "author", "content_warning"):
        if key in entries:
            what = key.replace("_", " ")
            fields[key] = loader.spoken(r, entries[key][1], what) if key != "author" else \
                r.text(entries[key][1], what)
    if fields.get("title") is not None:
        fields["title"] = str(fields["title"]).strip()
    slug = slug_from_name(path.stem)
    if "slug" in entries:
        node = entries["slug"][1]
        given = r.text(node, "slug")
        if given is not None and not _SLUG.fullmatch(given):
            r.problem(node, f"slug '{given}' may hold only ASCII letters, digits and '-' "
                            f"(e.g. {slug_from_name(given)})")
        elif given is not None:
            slug = given
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
        cover = loader.file_ref(r, entries["cover"][1], "cover", audio=False)
        if cover is not None and cover.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            r.problem(entries["cover"][1], "cover must be a JPEG or PNG image")
        fields["cover"] = cover
    for key in ("episode", "season"):
        if key in entries:
            fields[key] = r.integer(entries[key][1], key)
    if "explicit" in entries:
        fields["explicit"] = r.boolean(entries["explicit"][1], "explicit")
    if "length" in entries:
        fields["length_ms"] = loader.duration(r, entries["length"][1], "length",
                                              limit_ms=MAX_SESSION_MS, positive=True)
    voice = Voice()
    if "voice" in entries:
        voice = loader.voice(r, entries["voice"][1], voice, "voice")
    background = None
    if "background" in entries:
        bed = loader.background(r, entries["background"][1], None, "background")
        background = None if bed is False else bed
    steps: list[Step] = []
    if "steps" in entries:
        ctx = _StepContext(voice, background, (path,))  # type: ignore[arg-type]
        steps = loader.steps(r, entries["steps"][1], ctx)
        if not loader.said and not loader.report.problems:
            r.problem(entries["steps"][0], "the script never speaks: add at least one 'say:' step")

    if loader.report.problems:
        return None
    return Script(
        path=path, slug=slug, steps=tuple(steps), voice=voice,
        background=background,  # type: ignore[arg-type]
        vars=variables, files=tuple(dict.fromkeys(loader.files)),
        assets=tuple(dict.fromkeys(loader.assets)),
        **{k: v for k, v in fields.items() if v is not None},  # type: ignore[arg-type]
    )
