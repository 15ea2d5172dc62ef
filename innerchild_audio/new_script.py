"""A new script from the template: `innerchild new TITLE`.

The template opens with the library's safety part and closes with its
closing part (written too when the library lacks them), carries a content
warning to adapt, three chapters, and a commented example of every step
kind. It checks and renders as it stands: its elastic pauses are sized from
the target length, and the script is checked before it is put in place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from innerchild_audio.atomic import Staging, atomic_write_text
from innerchild_audio.errors import UsageError
from innerchild_audio.units import format_duration

OPENING_PART: Final = "parts/opening-safety.yaml"
CLOSING_PART: Final = "parts/closing.yaml"
ELASTIC_PAUSES: Final = 3  # the template's elastic pauses share the time besides its speech
MIN_ELASTIC_MS: Final = 5000

OPENING_TEXT: Final = """\
# Spoken at the start of every session: orientation, consent and the limits of this practice.
title: Opening and safety
steps:
  - say: |
      Welcome. Find a position that is comfortable for you, sitting or lying down.

      This time is yours, and you are in charge of it. You can open your eyes and stop at any time.
      This practice is gentle support. It is not a substitute for therapy or professional care.
      If anything feels like too much, come back to the room around you.
"""

CLOSING_TEXT: Final = """\
# Brings the listener gently back to the room at the end of every session.
title: Closing
steps:
  - say: |
      Now, slowly, begin to come back.
      Feel the surface that is holding you up.
      Let a little movement return to your hands and feet.

      When you are ready, open your eyes and look around the room.
      Take a moment before you get up, and go gently with yourself.
  - bell: {strikes: 2, gap: 4s}
"""

TEMPLATE: Final = """\
# {title}: a new session. Try it as you write:
#   innerchild check {file}                      problems with FILE:LINE:COL
#   innerchild plan {file} --picture plan.png    the session's shape
#   innerchild watch {file} --chapter 2          hear a chapter each time you save
title: {title_yaml}
slug: {slug}
description: |
  One or two sentences for the show notes: what this session offers.

  This is a self-care practice, not a substitute for therapy, diagnosis or professional
  treatment. If you are in crisis or thinking of harming yourself, contact your local
  emergency number or a crisis line in your country.
language: en
# Spoken first. Say plainly what may come up; keep the way out.
content_warning: >-
  This session turns toward feelings from childhood.
  You can open your eyes and stop at any time.
tags: [inner child]
length: {length}                      # the target; elastic pauses absorb the difference

voice:
  engine: auto                  # auto | gtts | piper
  rate: 0.9
  sentence_pause: 1.2s
  paragraph_pause: 3s

background:                     # or: background: none
  sound: brown-noise            # brown-noise, pink-noise, white-noise, drone, or a file
  volume: -22 dB                # relative to the voice
  duck: 6 dB                    # lower still while the voice speaks
  fade_in: 5s
  fade_out: 8s

vars:
  name: friend                  # {{name}} in the text; --var name=Sam changes it

steps:
  - chapter: Arriving
  - bell: {{strikes: 1}}                # a singing bowl; {{strikes: 3, gap: 3s}}, or sound: a file
  - include: {opening}   # orientation: you can stop at any time
  - say: |
      Welcome, {{name}}. Let your eyes close if that feels right, or let your gaze rest low.
      [pause 2s]
      Notice where your body is held.
  - breathe: {{in: 4s, hold: 2s, out: 6s, cycles: 3, cues: voice}}   # or pattern: box; cues: tone
  - pause: {{min: 5s, max: {elastic_max}}}           # elastic: grows or shrinks to meet the length

  - chapter: Meeting
  - say: |
      Write the heart of the session here.
      Go slowly, and never ask the listener to find a memory.

      If anything feels like too much, you can come back to your breath,
      or open your eyes. Nothing here has to be done.
  - pause: {{min: 5s, max: {elastic_max}}}
  - repeat:                     # the inner steps, this many times
      times: 2
      steps:
        - say: You are safe now.
        - pause: 4s             # a fixed pause
  # - sound: {{file: sounds/stream.ogg, volume: -6 dB}}   # a sound file, inside the library
  # - background: {{sound: drone}}                       # change the bed from here on

  - chapter: Coming back
  - say: |
      If today brought up something heavy, you do not have to hold it alone.
      A counsellor, or a crisis line in your country, can help. The show notes say more.
  - pause: {{min: 5s, max: {elastic_max}}}
  - include: {closing}   # back to the room
"""


@dataclass(frozen=True)
class NewScript:
    path: Path
    parts: tuple[Path, ...]  # parts written because the library lacked them


def slug_for(title: str) -> str:
    """An ASCII file stem from a title: letters, digits and dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def script_text(title: str, slug: str, length_ms: int, file: str) -> str:
    elastic_max = max(length_ms // ELASTIC_PAUSES, MIN_ELASTIC_MS + 1000)
    return TEMPLATE.format(title=" ".join(title.split()),
                           title_yaml=yaml.safe_dump(" ".join(title.split()),
                                                     default_style='"').strip(),
                           slug=slug, file=file, length=format_duration(length_ms),
                           elastic_max=format_duration(elastic_max), opening=OPENING_PART,
                           closing=CLOSING_PART)


def new_script(title: str, *, length_ms: int = 600_000,
               library: Path = Path("meditations")) -> NewScript:
    """Write `library/SLUG.yaml` from the template (and any part the library lacks).

    Raises UsageError when the title makes no file name, the script exists, or the
    length is shorter than the template's own speech and cues.
    """
    from innerchild_audio.library import check_script

    slug = slug_for(title)
    if not slug:
        raise UsageError(f"the title {title!r} has no letters or digits to name a file with")
    if length_ms <= 0:
        raise UsageError("--length must be longer than 0s")
    library = Path(library)
    path = library / f"{slug}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists; choose another title or edit that script")
    parts = []
    for name, text in ((OPENING_PART, OPENING_TEXT), (CLOSING_PART, CLOSING_TEXT)):
        part = library / name
        if not part.exists():
            part.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(part, text)
            parts.append(part)
    with Staging() as staging:  # checked under a temporary name, in the library
        temp = staging.write_text(path, script_text(title, slug, length_ms, str(path)))
        checked = check_script(temp)
        if not checked.ok:
            raise UsageError(f"--length {format_duration(length_ms)} is too short for the "
                             f"template, which runs at least {_shortest(temp)}; give a longer "
                             "one and shorten the script after")
        staging.commit()
    return NewScript(path, tuple(parts))


def _shortest(path: Path) -> str:
    from innerchild_audio.plan import build_timeline, lay_out
    from innerchild_audio.script import load_script

    return format_duration(build_timeline(lay_out(load_script(path))).min_total_ms)
