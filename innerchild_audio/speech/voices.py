"""Which offline voices there are, and which one speaks when `auto` is offline."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from innerchild_audio.errors import SpeechError, UsageError
from innerchild_audio.model import OFFLINE_ENGINES, Voice
from innerchild_audio.speech.paths import resolve_voices_dir

# The offline voice the library measures better with (scripts/pace_report.py):
# heart's sentences keep closer to the pace asked for, and it is heard more clearly.
DEFAULT_OFFLINE: Final = "hibari:heart"
BUNDLED: Final = {"piper": "joe", "hibari": "heart"}


@dataclass(frozen=True)
class VoiceListing:
    engine: str
    name: str
    language: str
    sex: str  # "" where unknown
    where: str  # "bundled" or the file it was found in


def parse_voice(text: str) -> tuple[str, str]:
    """("hibari", "heart") from "hibari:heart"; a bare engine means its bundled voice."""
    engine, _, model = text.strip().partition(":")
    if engine not in OFFLINE_ENGINES and engine != "gtts":
        raise UsageError(f"voice {text!r}: give ENGINE:NAME with ENGINE one of "
                         f"gtts, {', '.join(OFFLINE_ENGINES)}, e.g. hibari:heart or piper:joe")
    return engine, model.strip() or BUNDLED.get(engine, "")


def for_engine(voice: Voice, engine: str) -> Voice:
    """`voice` as `engine` speaks it: another engine's bundled model becomes this one's."""
    if engine in BUNDLED and voice.model in BUNDLED.values():
        return replace(voice, engine=engine, model=BUNDLED[engine])
    return replace(voice, engine=engine)


def offline_voice(voice: Voice) -> Voice:
    """The voice `auto` speaks with when Google does not answer."""
    engine, model = parse_voice(voice.offline or DEFAULT_OFFLINE)
    return replace(voice, engine=engine, model=model)


def list_voices(voices_dir: Path | None = None) -> list[VoiceListing]:
    """Every offline voice usable here: bundled ones, then the voices folder's."""
    from innerchild_audio.speech import hibari_engine

    folder = resolve_voices_dir(voices_dir)
    found = [VoiceListing("piper", "joe", "en-US", "male", "bundled")]
    for name in hibari_engine.registry():
        try:
            voice = hibari_engine.find_voice(name, voices_dir)
        except SpeechError:  # not downloaded: not usable here
            continue
        found.append(VoiceListing("hibari", name, voice.language, voice.sex,
                                  "bundled" if voice.bundled else str(voice.model)))
    hibari_files = {str(e["file"]) for e in hibari_engine.registry().values()}
    if folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            config = Path(f"{model}.json")
            if model.name in hibari_files or not config.is_file():
                continue
            language, sex = _piper_details(config)
            found.append(VoiceListing("piper", model.stem, language, sex, str(model)))
    return found


def _piper_details(config: Path) -> tuple[str, str]:
    import json

    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", ""
    language = data.get("language", {}).get("code", "") if isinstance(data, dict) else ""
    return str(language).replace("_", "-"), ""
