"""A short audition: one text spoken by one voice, paced as in a session, as an MP3.

    audition("You are safe.", "hibari:heart", Path("sample.mp3"))
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml

from innerchild_audio.speech.voices import parse_voice


def audition(text: str, voice: str, out_path: Path, *, rate: float | None = None,
             phrase_pause: str | None = None, jobs: int | None = None,
             cache_dir: Path | None = None) -> Path:
    """Render `text` with `voice` ("hibari:heart", "piper:joe", "gtts") to `out_path`.

    It goes through the same loader, planner and render as a session (with its
    lead-in and tail, no bed), so what you hear is what a session would say.
    """
    from innerchild_audio.options import RenderOptions, RunSettings
    from innerchild_audio.render import render_script

    engine, model = parse_voice(voice)
    settings: dict[str, object] = {"engine": engine}
    if model:
        settings["model"] = model
    if rate is not None:
        settings["rate"] = rate
    if phrase_pause is not None:
        settings["phrase_pause"] = phrase_pause
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".audition-", dir=out_path.parent))
    try:
        script = work / "audition.yaml"
        literal = text.replace("{", "{{").replace("}", "}}")
        script.write_text(yaml.safe_dump({"title": "Audition", "voice": settings,
                                          "steps": [{"say": literal}]}, allow_unicode=True),
                          encoding="utf-8")
        result = render_script(script, RenderOptions(warnings=False),
                               RunSettings(out_dir=work / "out", jobs=jobs, cache_dir=cache_dir))
        os.replace(result.mp3_path, out_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_path
