"""Reading the steps of a script: each step kind, includes and repeats expanded in place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from yaml.nodes import MappingNode, Node

from innerchild_audio.model import (
    CUE_KINDS,
    Background,
    BackgroundChange,
    Bell,
    Breathe,
    Chapter,
    Pause,
    Say,
    Sound,
    Source,
    Step,
    Voice,
)
from innerchild_audio.script.nodes import Reader, Report, is_null, suggest
from innerchild_audio.script.values import ValueReader
from innerchild_audio.units import format_duration

Entries = dict[str, tuple[Node, Node]]  # a mapping's keys to (key node, value node)

MAX_STEPS: Final = 2000
MAX_INCLUDE_DEPTH: Final = 8
MAX_BELL_STRIKES: Final = 50
MAX_REPEAT: Final = 500
MAX_BREATH_CYCLES: Final = 100
STEP_KEYS: Final = ("say", "pause", "breathe", "bell", "sound", "chapter", "include",
                    "repeat", "background")
BREATHE_KEYS: Final = ("in", "hold", "out", "hold_out", "cycles", "cues", "pattern", "explain")
TONE_EXPLANATION: Final = ("Follow the soft tones: a rising tone, breathe in; "
                           "a falling tone, breathe out.")
HOLD_EXPLANATION: Final = " In the quiet between them, rest."
BREATH_PATTERNS: Final = {"box": (4, 4, 4, 4), "4-7-8": (4, 7, 8, 0)}
_PATTERN: Final = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?){2,3}")


@dataclass(frozen=True)
class _StepContext:
    voice: Voice
    background: Background | None
    chain: tuple[Path, ...]


class StepReader(ValueReader):
    """Steps into the flat model; the loader supplies files, the library root and counters."""

    report: Report
    step_count: int
    said: bool
    too_many_reported: bool
    part_keys: tuple[str, ...]  # keys an included file may hold

    def read_root(self, path: Path, include_source: Source | None) -> tuple[Reader, Node] | None:
        raise NotImplementedError

    def steps(self, r: Reader, node: Node, ctx: _StepContext) -> list[Step]:
        items = r.sequence(node, "steps")
        out: list[Step] = []
        if items is None:
            return out
        for item in items:
            out.extend(self.step(r, item, ctx))
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
        phases = (self.breath_pattern(r, entries) if "pattern" in entries
                  else self.breath_phases(r, node, entries))
        if phases is None:
            return []
        cycles = self.breath_cycles(r, entries)
        cues = self.breath_cues(r, entries)
        if cycles is None or cues is None:
            return []
        explain = ""
        if cues == "tone":
            holds = bool(phases["hold"] or phases["hold_out"])
            explain = TONE_EXPLANATION + (HOLD_EXPLANATION if holds else "")
        if "explain" in entries:
            given = self.explanation(r, entries["explain"][1], cues, explain)
            if given is None:
                return []
            explain = given
        return [Breathe(phases["in"] or 0, phases["hold"] or 0, phases["out"] or 0,
                        phases["hold_out"] or 0, cycles, cues,  # type: ignore[arg-type]
                        ctx.voice, src, explain=explain)]

    def breath_pattern(self, r: Reader, entries: Entries) -> dict[str, int | None] | None:
        """Phases from `pattern:` (box, 4-7-8, or seconds); None when invalid."""
        pattern_node = entries["pattern"][1]
        pattern = r.text(pattern_node, "breathe pattern")
        if pattern is None:
            return None
        pattern = pattern.strip().lower()
        seconds: tuple[float, ...]
        if pattern in BREATH_PATTERNS:
            seconds = BREATH_PATTERNS[pattern]
        elif _PATTERN.fullmatch(pattern):
            seconds = tuple(float(x) for x in pattern.split("-")) + (0,)
        else:
            r.problem(pattern_node, f"unknown breathing pattern '{pattern}'; use 'box', "
                                    "'4-7-8', or seconds like 4-4-6 (in-hold-out) or "
                                    "4-4-4-4 (in-hold-out-hold)")
            return None
        phases: dict[str, int | None] = {"in": None, "hold": 0, "out": None, "hold_out": 0}
        for name, sec in zip(("in", "hold", "out", "hold_out"), seconds, strict=False):
            phases[name] = round(sec * 1000)
        clash = [k for k in ("in", "hold", "out", "hold_out") if k in entries]
        if clash:
            r.problem(entries[clash[0]][0], f"give either 'pattern' or '{clash[0]}', not both")
            return None
        return phases

    def breath_phases(self, r: Reader, node: Node, entries: Entries
                      ) -> dict[str, int | None] | None:
        """Phases from `in`, `hold`, `out`, `hold_out`; None when invalid."""
        phases: dict[str, int | None] = {"in": None, "hold": 0, "out": None, "hold_out": 0}
        for name in ("in", "hold", "out", "hold_out"):
            if name in entries:
                phases[name] = self.duration(r, entries[name][1], f"breathe {name}",
                                             limit_ms=60_000, positive=name in ("in", "out"))
                if phases[name] is None:
                    return None
        missing = [k for k in ("in", "out") if phases[k] is None]
        if missing:
            r.problem(node, f"breathe needs '{missing[0]}:' (e.g. in: 4s, out: 6s) "
                            "or a 'pattern:' such as box or 4-7-8")
            return None
        return phases

    def breath_cycles(self, r: Reader, entries: Entries) -> int | None:
        if "cycles" not in entries:
            return 3
        value = r.integer(entries["cycles"][1], "breathe cycles")
        if value is not None and value > MAX_BREATH_CYCLES:
            r.problem(entries["cycles"][1], f"at most {MAX_BREATH_CYCLES} cycles")
            return None
        return value

    def breath_cues(self, r: Reader, entries: Entries) -> str | None:
        if "cues" not in entries:
            return "voice"
        cue_node = entries["cues"][1]
        value = r.text(cue_node, "breathe cues")
        if value is not None and value not in CUE_KINDS:
            hint = suggest(value, CUE_KINDS) or f"use {', '.join(CUE_KINDS)}"
            r.problem(cue_node, f"unknown cues '{value}'; {hint}")
            return None
        return value

    def explanation(self, r: Reader, node: Node, cues: str, default: str) -> str | None:
        """`explain:` true (`default`), false ("") or a text to speak; None when invalid."""
        value = r.scalar(node, "breathe explain")
        if cues != "tone":
            r.problem(node, "breathe explain goes with cues: tone (it says what the tones "
                            "mean); remove it or set cues: tone")
            return None
        if isinstance(value, bool):
            return default if value else ""
        text = self.spoken(r, node, "breathe explain")
        if text is None:
            return None
        if not text.strip():
            r.problem(node, "breathe explain: give a line to speak, or true or false")
            return None
        return text.strip()

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
        target = self.inside(r, node, name, "include", (self.root,))
        if target is None:
            return []
        if target in ctx.chain:
            cycle = " -> ".join(p.name for p in (*ctx.chain, target))
            r.problem(node, f"include cycle: {cycle}; remove one of these includes")
            return []
        if len(ctx.chain) > MAX_INCLUDE_DEPTH:
            r.problem(node, f"includes nest more than {MAX_INCLUDE_DEPTH} deep; flatten them")
            return []
        loaded = self.read_root(target, src)
        if loaded is None:
            return []
        part_reader, root = loaded
        entries = part_reader.mapping(root, f"the included file {target.name}")
        if entries is None:
            return []
        part_reader.check_keys(entries, self.part_keys, f"the included file {target.name}")
        if "steps" not in entries:
            part_reader.problem(root, f"{target.name} has no 'steps:' to include")
            return []
        voice = ctx.voice
        if "pronounce" in entries:  # a part's respellings hold for its own steps
            voice = self.pronounce(part_reader, entries["pronounce"][1], voice, "pronounce")
        inner = _StepContext(voice, ctx.background, (*ctx.chain, target))
        return self.steps(part_reader, entries["steps"][1], inner)


