"""Reading YAML as nodes with positions, so every problem can name its line and column.

Only the plain YAML types are accepted (`yaml.safe_load` semantics); a tag that
would construct an object is a problem, not an object.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from innerchild_audio.errors import Problem, ScriptError
from innerchild_audio.model import Source

MAX_PROBLEMS: Final = 20  # per file; past this the rest are summarised
MAX_NODES: Final = 100_000  # guards against alias bombs ("billion laughs")
MAX_MESSAGE_CHARS: Final = 300  # a message quoting a huge value is cut in the middle
MAX_SHOWN_CHARS: Final = 60  # a value quoted in a message

_T: Final = "tag:yaml.org,2002:"
PLAIN_SCALAR_TAGS: Final = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_TYPE_NAMES: Final = {
    _T + "str": "text", _T + "int": "a whole number", _T + "float": "a number",
    _T + "bool": "true/false", _T + "null": "nothing", _T + "timestamp": "a date",
}


class _Stop(Exception):
    """Too many problems in one file: stop collecting."""


@dataclass
class Report:
    """Collects the problems of one load (possibly over several files)."""

    problems: list[Problem] = field(default_factory=list)
    _lines: dict[Path, list[str]] = field(default_factory=dict)

    def remember(self, path: Path, text: str) -> None:
        self._lines[path] = text.splitlines()

    def line_text(self, path: Path, line: int) -> str:
        lines = self._lines.get(path, [])
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def add(self, source: Source, message: str) -> None:
        message = printable(message)
        if len(message) > MAX_MESSAGE_CHARS:
            half = MAX_MESSAGE_CHARS // 2
            message = f"{message[:half]} … {message[-half:]}"
        if any(p.line == source.line and p.file == source.file and p.message == message
               for p in self.problems):
            return
        snippet = printable(self.line_text(source.file, source.line).rstrip())
        self.problems.append(Problem(source.file, source.line, source.column, message, snippet))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    def raise_if_any(self) -> None:
        if self.problems:
            raise ScriptError(self.problems)


def printable(text: str) -> str:
    """`text` safe to print on any terminal: control characters and lone surrogates
    written as escapes (a message may quote a key or value of the script)."""
    if text.isprintable():
        return text
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cs") else c
                   for c in text)


def shown(value: object) -> str:
    """A value quoted in a message, cut to a readable width."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    if len(text) > MAX_SHOWN_CHARS:
        text = text[:MAX_SHOWN_CHARS - 10] + "…" + text[-9:]
    return text


def bad_character(text: str) -> tuple[int, str] | None:
    """Where `text` holds a character that cannot be spoken, written to a file or
    named as a path (a control character, a lone surrogate), and what to say of it."""
    for offset, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cs":
            return offset, f"a lone surrogate U+{ord(char):04X} (half of a \\u escape pair?)"
        if category == "Cc" and char not in "\t\n\r":
            return offset, f"the control character U+{ord(char):04X}"
    return None


def source_of(path: Path, node: Node) -> Source:
    mark = node.start_mark
    return Source(path, mark.line + 1, mark.column + 1)  # PyYAML marks are 0-based


def compose(path: Path, text: str, report: Report) -> Node | None:
    """The document's root node, or None after reporting a syntax problem."""
    report.remember(path, text)
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (error.problem or "invalid YAML").strip()
        hint = " (check indentation, quotes and colons near here)"
        report.add(Source(path, line, col), f"YAML syntax error: {what}{hint}")
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        before = text[:error.position]
        line, col = before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1
        code = (f"U+{error.character:04X}" if isinstance(error.character, int)
                else repr(error.character))
        report.add(Source(path, line, col), f"the character {code} is not allowed in a "
                                            "script; remove it")
    except yaml.YAMLError as error:
        report.add(Source(path, 1, 1), f"YAML error: {error}")
    except RecursionError:
        report.add(Source(path, 1, 1), "the YAML is nested too deeply to read")
    return None


def count_nodes(root: Node) -> int:
    """Nodes reachable with aliases expanded, stopping early past MAX_NODES."""
    count = 0
    stack: list[Node] = [root]
    while stack and count <= MAX_NODES:
        node = stack.pop()
        count += 1
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return count


def kind_name(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _TYPE_NAMES.get(node.tag, f"a value tagged {node.tag}")


_constructor = yaml.SafeLoader("")


def scalar_value(node: ScalarNode) -> object:
    """The plain Python value of a scalar node with a standard tag."""
    if node.tag == _T + "timestamp":
        return node.value  # dates stay text: nothing in the format wants a date object
    # Call the safe constructor for the tag directly: nothing is cached or built besides it.
    return yaml.SafeLoader.yaml_constructors[node.tag](_constructor, node)


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _T + "null"


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


@dataclass
class Reader:
    """Typed reads from nodes of one file, each reporting what is wrong where."""

    path: Path
    report: Report

    def at(self, node: Node) -> Source:
        return source_of(self.path, node)

    def problem(self, node: Node, message: str) -> None:
        self.report.add(self.at(node), message)

    def bad_tag(self, node: Node) -> bool:
        standard = PLAIN_SCALAR_TAGS if isinstance(node, ScalarNode) else {_T + "map", _T + "seq"}
        if node.tag in standard:
            return False
        self.problem(node, f"the YAML tag {node.tag!r} is not allowed: scripts hold plain "
                           "text, numbers, lists and mappings only (remove the tag)")
        return True

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]] | None:
        """Keys to (key node, value node), reporting duplicates and non-text keys."""
        if self.bad_tag(node):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values, not {kind_name(node)}")
            return None
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "<<":
                self.problem(key_node, "YAML merge keys ('<<') are not supported; "
                                       "write the keys out")
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in PLAIN_SCALAR_TAGS:
                self.problem(key_node, f"keys in {what} must be plain words")
                continue
            key = str(key_node.value)
            if key in result:
                self.problem(key_node, f"'{key}' is given twice in {what}; keep one")
                continue
            result[key] = (key_node, value_node)
        return result

    def check_keys(self, entries: dict[str, tuple[Node, Node]], allowed: tuple[str, ...],
                   what: str) -> None:
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                hint = suggest(key, allowed) or f"known keys: {', '.join(allowed)}"
                self.problem(key_node, f"unknown key '{key}' in {what}; {hint}")

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if self.bad_tag(node):
            return None
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list (lines starting with '- '), "
                               f"not {kind_name(node)}")
            return None
        return list(node.value)

    def scalar(self, node: Node, what: str) -> object | None:
        if self.bad_tag(node):
            return None
        if not isinstance(node, ScalarNode):
            self.problem(node, f"{what} must be a single value, not {kind_name(node)}")
            return None
        try:
            return scalar_value(node)
        except Exception:  # noqa: BLE001 - PyYAML's constructors raise KeyError, IndexError...
            self.problem(node, f"{what}: {shown(node.value)} cannot be read as "
                               f"{kind_name(node)}; fix the value or remove the tag")
            return None

    def text(self, node: Node, what: str, *, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) and not self.bad_tag(node):
            self.problem(node, f"{what} must be text, not {kind_name(node)}")
            return None
        value = self.scalar(node, what)
        if value is None and not is_null(node):
            return None
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            self.problem(node, f"{what} must be text, not {kind_name(node)}; quote it")
            return None
        text = "" if value is None else str(value) if isinstance(value, (int, float)) else value
        if not isinstance(text, str):
            self.problem(node, f"{what} must be text")
            return None
        if not allow_empty and not text.strip():
            self.problem(node, f"{what} is empty; write some text")
            return None
        bad = bad_character(text)
        if bad is not None:
            self.problem(node, f"{what} holds {bad[1]} at character {bad[0] + 1}; remove it")
            return None
        return text

    def integer(self, node: Node, what: str, *, minimum: int = 1) -> int | None:
        value = self.scalar(node, what)
        if isinstance(value, bool) or not isinstance(value, int):
            if value is not None or is_null(node):
                self.problem(node, f"{what} must be a whole number, like 3")
            return None
        if value < minimum:
            self.problem(node, f"{what} must be at least {minimum}, got {value}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        value = self.scalar(node, what)
        if not isinstance(value, bool):
            if value is not None or is_null(node):
                self.problem(node, f"{what} must be true or false")
            return None
        return value


def iter_items(entries: dict[str, tuple[Node, Node]]) -> Iterator[tuple[str, Node]]:
    for key, (_, value) in entries.items():
        yield key, value


__all__ = ["Reader", "Report", "bad_character", "compose", "count_nodes", "iter_items",
           "is_null", "printable", "shown", "source_of", "suggest", "_Stop", "MAX_PROBLEMS"]
