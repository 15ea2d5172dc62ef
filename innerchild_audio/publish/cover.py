"""Channel cover art: Apple's checks, and a generated default when none is given."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, UnidentifiedImageError

COVER_MIN_PX: Final = 1400
COVER_MAX_PX: Final = 3000
DEFAULT_COVER_PX: Final = 1400
_EXTENSIONS: Final = {"JPEG": ".jpg", "PNG": ".png"}
# Dawn colours, top to bottom: calm, warm, readable under white text.
_TOP_RGB: Final = (43, 45, 92)
_BOTTOM_RGB: Final = (222, 140, 110)
_SUN_RGB: Final = (250, 214, 165)


@dataclass(frozen=True)
class CoverInfo:
    path: Path
    format: str  # "JPEG" | "PNG"
    width_px: int
    height_px: int

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]

    @property
    def mime_type(self) -> str:
        return "image/jpeg" if self.format == "JPEG" else "image/png"


def cover_problems(path: Path) -> tuple[CoverInfo | None, list[str]]:
    """Everything that keeps `path` from being podcast cover art (empty list: it is fine)."""
    if not path.is_file():
        return None, [f"cover file {path} does not exist"]
    try:
        with Image.open(path) as image:
            image.load()  # a truncated file fails here, not in a podcast app
            fmt, mode, (width, height) = image.format or "?", image.mode, image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        return None, [f"cover {path} is not a readable image ({error})"]
    problems: list[str] = []
    if fmt not in _EXTENSIONS:
        problems.append(f"cover must be JPEG or PNG, {path.name} is {fmt}")
    if width != height:
        problems.append(f"cover must be square, {path.name} is {width}x{height} px")
    if not (COVER_MIN_PX <= min(width, height) and max(width, height) <= COVER_MAX_PX):
        problems.append(
            f"cover must be {COVER_MIN_PX} to {COVER_MAX_PX} px on a side, "
            f"{path.name} is {width}x{height} px"
        )
    if mode != "RGB":
        problems.append(
            f"cover must be RGB without transparency, {path.name} is in mode {mode}; "
            "save it as an RGB JPEG or PNG"
        )
    if problems:
        return None, problems
    return CoverInfo(path=path, format=fmt, width_px=width, height_px=height), []


def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size_px)
    except (TypeError, ImportError):  # Pillow < 10.1 or no FreeType: small bitmap font
        return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: object, width_px: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width_px:  # type: ignore[arg-type]
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def generate_cover(title: str, author: str = "", *, size_px: int = DEFAULT_COVER_PX) -> bytes:
    """A square RGB JPEG: a dawn gradient, a soft sun, the title and author. Deterministic."""
    ramp = np.linspace(0.0, 1.0, size_px, dtype=np.float32)[:, None, None]
    top = np.array(_TOP_RGB, dtype=np.float32)
    bottom = np.array(_BOTTOM_RGB, dtype=np.float32)
    pixels = np.broadcast_to(top + (bottom - top) * ramp, (size_px, size_px, 3))
    image = Image.fromarray(np.ascontiguousarray(pixels).round().astype(np.uint8), "RGB")
    sun_r = size_px * 0.13
    cx, cy = size_px / 2, size_px * 0.28
    glow = Image.new("L", image.size, 0)
    glow_r = sun_r * 1.9
    ImageDraw.Draw(glow).ellipse((cx - glow_r, cy - glow_r, cx + glow_r, cy + glow_r), fill=150)
    glow = glow.filter(ImageFilter.GaussianBlur(sun_r * 0.6))
    image.paste(Image.new("RGB", image.size, _SUN_RGB), mask=glow)
    draw = ImageDraw.Draw(image)
    draw.ellipse((cx - sun_r, cy - sun_r, cx + sun_r, cy + sun_r), fill=_SUN_RGB)

    margin = size_px * 0.09
    text_w = size_px - 2 * margin
    box_top, box_bottom = size_px * 0.52, size_px * 0.84  # title box, above the author line
    title_px = int(size_px * 0.085)
    while True:
        font = _font(title_px)
        lines = _wrap(draw, title, font, text_w)
        fits = len(lines) * title_px * 1.2 <= box_bottom - box_top and all(
            draw.textlength(line, font=font) <= text_w for line in lines
        )
        if fits or title_px <= size_px * 0.025:
            break
        title_px = int(title_px * 0.9)
    line_h = title_px * 1.2
    y = box_top + (box_bottom - box_top - len(lines) * line_h) / 2
    for line in lines:
        draw.text((size_px / 2, y), line, font=font, fill=(255, 255, 255), anchor="mt")
        y += line_h
    if author:
        small = _font(int(size_px * 0.04))
        draw.text(
            (size_px / 2, size_px - margin * 0.8), author, font=small,
            fill=(255, 244, 235), anchor="mb",
        )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, optimize=True)
    return buffer.getvalue()
