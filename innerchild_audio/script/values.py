"""Reading the values of a script: durations, levels, files, spoken text, voice and bed.

Each read reports what is wrong where (file, line, column) and returns None
(or False for a bed) instead of raising, so one load can list every problem.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

from yaml.nodes import Node, ScalarNode

from innerchild_audio.model import (
    ENGINES,
    GENERATED_SOUNDS,
    OFFLINE_ENGINES,
    Background,
    Source,
    Voice,
)
from innerchild_audio.script.assets import AssetProblem, open_image, open_sound
from innerchild_audio.script.nodes import Reader, bad_character, is_null, shown, suggest
from innerchild_audio.script.text import MAX_SAY_CHARS, TextProblem, check_markup, substitute
from innerchild_audio.units import (
    DURATION_FORMS,
    format_duration,
    parse_duration_ms,
    parse_level_db,
)

MAX_PAUSE_MS: Final = 3_600_000
VOICE_KEYS: Final = ("engine", "lang", "tld", "model", "rate", "sentence_pause",
                     "paragraph_pause", "phrase_pause")
BUNDLED_MODELS: Final = {"piper": "joe", "hibari": "heart"}  # each offline engine's own voice
BACKGROUND_KEYS: Final = ("sound", "volume", "duck", "fade_in", "fade_out")
AUDIO_SUFFIXES: Final = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aiff", ".aif")
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png")


class ValueReader:
    """Typed, checked reads of values; the loader supplies the variables and asset list."""

    variables: dict[str, str]
    assets: list[Path]
    root: Path  # the library folder: includes and assets stay inside it
    asset_dirs: tuple[Path, ...]  # further folders assets may come from (resolved)
    open_assets: bool  # decode a little of each sound, read each image's header

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
        """An asset, a sound or (not `audio`) an image, inside the library or one of the
        asset folders; opened when `open_assets`."""
        name = r.text(node, what)
        if name is None:
            return None
        path = self.inside(r, node, name, what, (self.root, *self.asset_dirs))
        if path is None:
            return None
        if audio and path.suffix.lower() not in AUDIO_SUFFIXES:
            r.problem(node, f"{what}: {path.name} is not a sound file this tool reads "
                            f"({', '.join(AUDIO_SUFFIXES)})")
            return None
        if not audio and path.suffix.lower() not in IMAGE_SUFFIXES:
            r.problem(node, f"{what} must be a JPEG or PNG image")
            return None
        if self.open_assets and path not in self.assets:
            try:
                open_sound(path) if audio else open_image(path)
            except AssetProblem as problem:
                r.problem(node, f"{what}: {problem}")
                return None
        self.assets.append(path)
        return path

    def inside(self, r: Reader, node: Node, name: str, what: str,
               folders: tuple[Path, ...]) -> Path | None:
        """The file `name` names, relative to the file it is written in, with symlinks
        resolved, when it lies inside one of `folders`: the one rule for includes and
        assets. Otherwise the problem is reported and the result is None."""
        try:
            path = (r.path.parent / name).resolve()
            if not any(path.is_relative_to(folder) for folder in folders):
                where = f"the script library folder {self.root}"
                if len(folders) > 1:
                    where += " and the folders given with --assets-dir"
                hint = ("keep parts inside it (e.g. parts/...)" if what == "include" else
                        "move the file inside (e.g. sounds/...), or name its folder with "
                        "--assets-dir")
                r.problem(node, f"{what} {shown(name)} leaves {where}; {hint}")
                return None
            if not path.is_file():
                r.problem(node, f"{what} {shown(name)}: no file at {path}; paths are relative "
                                f"to {r.path.name}")
                return None
        except (OSError, ValueError) as error:  # a name too long, a NUL, a loop of links
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            r.problem(node, f"{what}: cannot use the path {shown(name)}: {reason}")
            return None
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
        bad = bad_character(text)  # from a variable given on the command line
        if bad is not None:
            r.problem(node, f"{what} holds {bad[1]} once its variables are filled in; "
                            "check the values given with --var")
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
            elif key in ("sentence_pause", "paragraph_pause", "phrase_pause"):
                ms = self.duration(r, value, f"{what} {key}", limit_ms=60_000)
                if ms is not None:
                    changes[f"{key}_ms"] = ms
        engine = str(changes.get("engine", base.engine))
        if "model" not in changes and engine in BUNDLED_MODELS \
                and base.model in BUNDLED_MODELS.values():
            changes["model"] = BUNDLED_MODELS[engine]  # `engine: hibari` speaks with heart
        return replace(base, **changes)  # type: ignore[arg-type]

    def pronounce(self, r: Reader, node: Node, base: Voice, what: str) -> Voice:
        """`pronounce:` (written word or phrase -> spoken respelling) merged over `base`'s."""
        entries = r.mapping(node, what)
        if entries is None:
            return base
        merged = {written.lower(): (written, spoken) for written, spoken in base.pronounce}
        for written, (key_node, value) in entries.items():
            spoken = r.text(value, f"{what} {written}")
            if not str(written).strip():
                r.problem(key_node, f"{what}: a word to respell may not be empty")
            elif spoken is not None:
                merged[str(written).strip().lower()] = (str(written).strip(), spoken.strip())
        return replace(base, pronounce=tuple(merged.values()))

    def offline_voice(self, r: Reader, node: Node, base: Voice, what: str) -> Voice:
        """`offline_voice: hibari:heart`: the voice `auto` speaks with when Google is away."""
        text = r.text(node, what)
        if text is None:
            return base
        engine, _, model = text.strip().partition(":")
        if engine not in OFFLINE_ENGINES or not model.strip():
            hint = suggest(engine, OFFLINE_ENGINES) or ""
            r.problem(node, f"{what} '{text}' is not ENGINE:MODEL with an offline engine "
                            f"({', '.join(OFFLINE_ENGINES)}), e.g. hibari:heart or piper:joe"
                            + (f"; {hint}" if hint else ""))
            return base
        return replace(base, offline=f"{engine}:{model.strip()}")

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

