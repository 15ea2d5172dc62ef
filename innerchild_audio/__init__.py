"""innerchild-audio: YAML guided-meditation scripts to finished MP3 sessions.

    from innerchild_audio import RenderOptions, RunSettings, render_script, session_audio

    result = render_script("meditations/a-safe-place.yaml", RenderOptions(engine="piper"))
    session = session_audio("meditations/a-safe-place.yaml")   # a pydub AudioSegment inside
    session.audio.export("safe-place.wav", format="wav")

The names below load their modules when first used, so `import innerchild_audio`
stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RenderOptions": "innerchild_audio.options",
    "RunSettings": "innerchild_audio.options",
    "ProgressEvent": "innerchild_audio.options",
    "load_script": "innerchild_audio.script",
    "plan_script": "innerchild_audio.plan",
    "render_script": "innerchild_audio.render",
    "session_audio": "innerchild_audio.render",
    "SessionAudio": "innerchild_audio.render",
    "build_library": "innerchild_audio.build",
    "publish_site": "innerchild_audio.publish",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'innerchild_audio' has no attribute {name!r}")


__all__ = ["__version__", *_EXPORTS]
