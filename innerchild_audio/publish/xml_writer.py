"""A small XML tree written the way strict feed validators ask for it.

Plain text and attribute values carry `&`, `<` and `>` as hexadecimal character references
(`&#x26;`, `&#x3C;`, `&#x3E;`), the RSS Profile's advice, so no reader mistakes them for HTML.
An element marked `html` holds markup for apps to render; it goes out in a CDATA section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from innerchild_audio.publish.published import clean_text

_TEXT_REFS: Final = {"&": "&#x26;", "<": "&#x3C;", ">": "&#x3E;"}
# Attribute values also lose their line breaks and tabs to normalization unless referenced.
_ATTR_REFS: Final = {**_TEXT_REFS, '"': "&#x22;", "\n": "&#xA;", "\r": "&#xD;", "\t": "&#x9;"}
_TEXT_TABLE: Final = str.maketrans(_TEXT_REFS)
_ATTR_TABLE: Final = str.maketrans(_ATTR_REFS)


def plain_text(text: str) -> str:
    return clean_text(text).translate(_TEXT_TABLE)


def attribute(text: str) -> str:
    return clean_text(text).translate(_ATTR_TABLE)


def cdata(text: str) -> str:
    # "]]>" cannot stand inside a CDATA section: close it, and open another after "]]".
    return "<![CDATA[" + clean_text(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    html: bool = False  # text is markup: written as CDATA
    children: list[Element] = field(default_factory=list)

    def add(self, tag: str, text: str | None = None, /, *, html: bool = False,
            **attrs: str) -> Element:
        child = Element(tag, dict(attrs), text, html)
        self.children.append(child)
        return child


def _lines(element: Element, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    attrs = "".join(f' {name}="{attribute(value)}"' for name, value in element.attrs.items())
    if element.children:
        out.append(f"{pad}<{element.tag}{attrs}>")
        for child in element.children:
            _lines(child, depth + 1, out)
        out.append(f"{pad}</{element.tag}>")
    elif element.text is None:
        out.append(f"{pad}<{element.tag}{attrs} />")
    else:
        body = cdata(element.text) if element.html else plain_text(element.text)
        out.append(f"{pad}<{element.tag}{attrs}>{body}</{element.tag}>")


def document(root: Element) -> bytes:
    """The UTF-8 document: declaration, then the tree indented by two spaces."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _lines(root, 0, out)
    return ("\n".join(out) + "\n").encode("utf-8")
