"""Channel metadata: `meditations/podcast.yaml`, loaded and checked with file:line:col errors.

Category, two shapes (both accepted):

    category: Health & Fitness          category: [Health & Fitness, Mental Health]
    subcategory: Mental Health
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import yaml

from innerchild_audio.errors import Problem, ScriptError, UsageError
from innerchild_audio.publish.categories import APPLE_CATEGORIES
from innerchild_audio.publish.cover import CoverInfo, cover_problems
from innerchild_audio.publish.urls import normalize_base_url

KEYS: Final = (
    "title", "description", "author", "language", "category", "subcategory", "explicit",
    "cover", "owner_email", "base_url", "link",
    "offline_voice", "pronounce",  # the library's voice settings, read by the script loader
)
REQUIRED_KEYS: Final = ("title", "description", "author", "category")
DESCRIPTION_MAX_CHARS: Final = 4000  # Apple's limit for show descriptions
_LANGUAGE_RE: Final = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True)
class Channel:
    """The podcast as a whole; paths are absolute, `base_url` normalized (or None)."""

    source: Path
    title: str
    description: str
    author: str
    category: str
    subcategory: str | None = None
    language: str = "en"
    explicit: bool = False
    cover: CoverInfo | None = None  # None: a cover is generated
    owner_email: str | None = None
    base_url: str | None = None
    link: str | None = None


class _Problems:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.items: list[Problem] = []

    def add(self, mark: yaml.Mark | None, message: str) -> None:
        line = mark.line if mark is not None else 0
        column = mark.column if mark is not None else 0
        snippet = self.lines[line] if line < len(self.lines) else ""
        self.items.append(Problem(self.path, line + 1, column + 1, message, snippet))


def _suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]!r}?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _category_problem(name: str) -> str:
    for parent, subs in APPLE_CATEGORIES.items():
        if name in subs:
            return (
                f"{name!r} is a subcategory of {parent!r}; write "
                f"category: [{parent}, {name}]"
            )
    return f"unknown Apple Podcasts category {name!r}" + _suggest(name, list(APPLE_CATEGORIES))


def _read_nodes(path: Path, text: str, problems: _Problems) -> dict[str, tuple[Any, yaml.Node]]:
    """Each top-level key's constructed value and node; problems recorded, not raised."""
    loader = yaml.SafeLoader(text)
    found: dict[str, tuple[Any, yaml.Node]] = {}
    try:
        root = loader.get_single_node()
        if root is None:
            problems.add(None, "the file is empty; it needs title, description, author, category")
            return found
        if not isinstance(root, yaml.MappingNode):
            problems.add(root.start_mark, "expected a mapping of keys such as `title: ...`")
            return found
        for key_node, value_node in root.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in KEYS:
                shown = key if isinstance(key, str) else "?"
                problems.add(key_node.start_mark, f"unknown key {shown!r}" + _suggest(shown, KEYS))
                continue
            if key in found:
                problems.add(key_node.start_mark, f"duplicate key {key!r}")
                continue
            try:
                found[key] = (loader.construct_object(value_node, deep=True), value_node)
            except yaml.constructor.ConstructorError as error:
                problems.add(error.problem_mark, f"{error.problem} (only plain YAML values)")
        for key in REQUIRED_KEYS:
            if key not in found:
                problems.add(root.start_mark, f"missing required key {key!r}")
    except yaml.MarkedYAMLError as error:
        message = " ".join(part for part in (error.context, error.problem) if part)
        problems.add(error.problem_mark or error.context_mark, f"invalid YAML: {message}")
    except yaml.YAMLError as error:
        problems.add(None, f"invalid YAML: {error}")
    finally:
        loader.dispose()
    return found


def _text(
    found: dict[str, tuple[Any, yaml.Node]], key: str, problems: _Problems
) -> str | None:
    if key not in found:
        return None
    value, node = found[key]
    if not isinstance(value, str):
        hint = " (put it in quotes)" if isinstance(value, (int, float, bool)) else ""
        problems.add(node.start_mark, f"{key} must be text, got {type(value).__name__}{hint}")
        return None
    if not value.strip():
        problems.add(node.start_mark, f"{key} must not be empty")
        return None
    return value.strip()


def _category(
    found: dict[str, tuple[Any, yaml.Node]], problems: _Problems
) -> tuple[str | None, str | None]:
    if "category" not in found:
        return None, None
    value, node = found["category"]
    items: list[tuple[Any, yaml.Node]]
    if isinstance(value, list) and isinstance(node, yaml.SequenceNode):
        items = list(zip(value, node.value, strict=True))
        if not 1 <= len(items) <= 2:
            problems.add(node.start_mark, "category list must be [Category] or "
                                          "[Category, Subcategory]")
            return None, None
    else:
        items = [(value, node)]
    if "subcategory" in found:
        if len(items) == 2:
            problems.add(found["subcategory"][1].start_mark,
                         "subcategory given twice: in the category list and here")
            return None, None
        items.append(found["subcategory"])
    for item, item_node in items:
        if not isinstance(item, str) or not item.strip():
            problems.add(item_node.start_mark, "a category must be text such as "
                                               "'Health & Fitness'")
            return None, None
    (name, name_node), sub = items[0], items[1] if len(items) == 2 else None
    name = name.strip()
    if name not in APPLE_CATEGORIES:
        problems.add(name_node.start_mark, _category_problem(name))
        return None, None
    if sub is None:
        return name, None
    sub_name, sub_node = sub[0].strip(), sub[1]
    allowed = APPLE_CATEGORIES[name]
    if sub_name not in allowed:
        listing = ", ".join(allowed) if allowed else "none"
        problems.add(
            sub_node.start_mark,
            f"{sub_name!r} is not a subcategory of {name!r}" + _suggest(sub_name, allowed)
            + f" (its subcategories: {listing})",
        )
        return None, None
    return name, sub_name


def load_channel(path: Path) -> Channel:
    """Read and check podcast.yaml; every problem found is raised at once as ScriptError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise UsageError(
            f"{path} does not exist: create it with title, description, author and category, "
            "or pass --podcast FILE"
        ) from error
    except UnicodeDecodeError as error:
        raise ScriptError([Problem(path, 1, 1, f"not UTF-8 text ({error.reason})")]) from error
    problems = _Problems(path, text)
    found = _read_nodes(path, text, problems)

    title = _text(found, "title", problems)
    description = _text(found, "description", problems)
    if description is not None and len(description) > DESCRIPTION_MAX_CHARS:
        problems.add(found["description"][1].start_mark,
                     f"description has {len(description)} characters; Apple allows "
                     f"{DESCRIPTION_MAX_CHARS}")
    author = _text(found, "author", problems)
    category, subcategory = _category(found, problems)

    language = _text(found, "language", problems) or "en"
    if "language" in found and not _LANGUAGE_RE.match(language):
        problems.add(found["language"][1].start_mark,
                     f"language must be a BCP 47 tag such as en or en-GB, got {language!r}")

    explicit = False
    if "explicit" in found:
        value, node = found["explicit"]
        if isinstance(value, bool):
            explicit = value
        else:
            problems.add(node.start_mark, f"explicit must be true or false, got {value!r}")

    cover: CoverInfo | None = None
    cover_text = _text(found, "cover", problems)
    if cover_text is not None:
        cover_path = (path.parent / cover_text).absolute()
        info, issues = cover_problems(cover_path)
        for issue in issues:
            problems.add(found["cover"][1].start_mark, issue)
        cover = info

    owner_email = _text(found, "owner_email", problems)
    if owner_email is not None and not _EMAIL_RE.match(owner_email):
        problems.add(found["owner_email"][1].start_mark,
                     f"owner_email is not an e-mail address: {owner_email!r}")

    base_url = _text(found, "base_url", problems)
    if base_url is not None:
        try:
            base_url = normalize_base_url(base_url)
        except ValueError as error:
            problems.add(found["base_url"][1].start_mark, str(error))

    link = _text(found, "link", problems)
    if link is not None:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc or not link.isascii():
            problems.add(found["link"][1].start_mark,
                         f"link must be an ASCII http(s) URL, got {link!r}")

    # Required keys that are missing or invalid have been recorded as problems.
    if problems.items or not (title and description and author and category):
        raise ScriptError(sorted(problems.items, key=lambda p: (p.line, p.column)))
    return Channel(
        source=path, title=title, description=description, author=author,
        category=category, subcategory=subcategory, language=language, explicit=explicit,
        cover=cover, owner_email=owner_email, base_url=base_url, link=link,
    )


PODCAST_FILE: Final = "podcast.yaml"  # the channel file, at the library's root
DEFAULT_ALBUM: Final = "Inner Child Audio"  # the ID3 album when there is no channel title


@dataclass(frozen=True)
class PodcastDefaults:
    """What a render takes from podcast.yaml: the album name and the fallback cover."""

    source: Path | None  # the podcast.yaml read, if there is one
    album: str = DEFAULT_ALBUM
    cover: Path | None = None


def podcast_defaults(library_root: Path) -> PodcastDefaults:
    """The render's view of `podcast.yaml`, read by the same reader as the channel.

    Lenient where publishing is strict: a missing file or a missing or invalid key
    falls back to the default (publish reports those); only a file that is not
    YAML at all is an error.
    """
    path = library_root / PODCAST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PodcastDefaults(None)
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError([Problem(path, 1, 1, f"cannot read {path.name}: {error}")]) from None
    problems = _Problems(path, text)
    found = _read_nodes(path, text, problems)
    syntax = [p for p in problems.items if p.message.startswith("invalid YAML")]
    if syntax:
        raise ScriptError(syntax)
    title = found.get("title", (None,))[0]
    album = title.strip() if isinstance(title, str) and title.strip() else DEFAULT_ALBUM
    cover_name = found.get("cover", (None,))[0]
    cover = (path.parent / cover_name).resolve() if isinstance(cover_name, str) else None
    if cover is not None and not cover.is_file():
        cover = None  # publish reports it; a render goes without
    return PodcastDefaults(path, album, cover)
