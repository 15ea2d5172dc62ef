"""Draw docs/session-picture.png: a library session, rendered, as `innerchild picture` draws it.

    python scripts/docs_picture.py [--script meditations/meeting-your-child-self.yaml]
                                   [--engine piper] [--cache-dir DIR]

The session is rendered into a temporary folder (offline voice by default), drawn
from the files the render left, and stored with a palette of its own colours so the README's
picture weighs a few tens of KB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BLENDS = (0.0, 0.25, 0.5, 0.75)  # each colour and its antialiased edges on white


def palette_image():
    """A palette of the picture's own colours, their blends with white, and greys: the
    legend keeps its exact colours, and the file stays small."""
    from PIL import Image

    from innerchild_audio.picture.draw import COLORS

    colours: dict[tuple[int, int, int], None] = {}
    for value in COLORS.values():
        rgb = tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))
        for share in BLENDS:
            colours[tuple(round(c + (255 - c) * share) for c in rgb)] = None  # type: ignore
    for grey in range(0, 256, 8):
        colours[(grey, grey, grey)] = None
    colours[(255, 255, 255)] = None
    flat = [c for colour in list(colours)[:256] for c in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--script", type=Path,
                        default=REPO / "meditations" / "meeting-your-child-self.yaml")
    parser.add_argument("--engine", default="piper")
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "session-picture.png")
    args = parser.parse_args()

    from PIL import Image

    from innerchild_audio.options import RenderOptions, RunSettings
    from innerchild_audio.picture import picture_of_session
    from innerchild_audio.render import render_script

    with tempfile.TemporaryDirectory() as folder:
        settings = RunSettings(out_dir=Path(folder), cache_dir=args.cache_dir)
        result = render_script(args.script, RenderOptions(engine=args.engine), settings)
        drawn = picture_of_session(result.mp3_path, Path(folder) / "picture.png",
                                   library=args.script.parent)
        with Image.open(drawn.path) as image:
            small = image.convert("RGB").quantize(palette=palette_image(),
                                                  dither=Image.Dither.NONE)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        small.save(args.out, optimize=True)
    print(f"{args.out}  {drawn.width_px}x{drawn.height_px} px  "
          f"{args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
