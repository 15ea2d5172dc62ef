"""`pronounce:`: the voice says the respelling; transcripts keep the written words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from innerchild_audio.export.transcripts import webvtt
from innerchild_audio.model import Voice
from innerchild_audio.plan import build_timeline, lay_out
from innerchild_audio.script import load_script
from innerchild_audio.speech import synthesize_all
from innerchild_audio.speech.base import BatchEngineBase, Clip
from innerchild_audio.speech.cache import ClipCache
from innerchild_audio.speech.respell import respell


class Recorder(BatchEngineBase):
    """An offline engine that records what it is asked to say."""

    name = "piper"

    def __init__(self) -> None:
        self.said: list[str] = []

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        return {"recorder": 1}

    def synthesize_batch(self, texts: Sequence[str], voice: Voice, *, jobs: int | None,
                         on_clip: Callable[[str, Clip], None]) -> None:
        for text in texts:
            self.said.append(text)
            on_clip(text, Clip(np.full(2205, 0.1, dtype=np.float32), 22050))


def test_respell_is_whole_word_and_case_insensitive():
    rules = (("Hafiz", "hah-feez"), ("inner child", "inner chyld"), ("child", "chyld"))
    assert respell("HAFIZ wrote this.", rules) == "hah-feez wrote this."
    assert respell("Hafizah and childhood stay.", rules) == "Hafizah and childhood stay."
    assert respell("Your inner child, a child.", rules) == "Your inner chyld, a chyld."


@pytest.fixture
def library(write_script) -> Path:
    write_script("title: Channel\npronounce: {Hafiz: hah-feez, Rumi: roo-mee}\n",
                 name="podcast.yaml")
    write_script("pronounce: {Rumi: ROO-mee}\nsteps:\n  - say: Rumi and Hafiz, again.\n",
                 name="parts/poets.yaml")
    return write_script("title: Poets\nvoice: {engine: piper}\n"
                        "pronounce: {Hafiz: hafeez}\n"
                        "steps:\n  - say: Hafiz wrote of Rumi.\n"
                        "  - include: parts/poets.yaml\n")


def test_pronounce_changes_what_is_synthesized_and_not_the_transcript(library, tmp_path):
    script = load_script(library)
    layout = lay_out(script)
    recorder = Recorder()
    result = synthesize_all(layout.requests(), cache_dir=tmp_path / "cache",
                            engines={"piper": recorder})
    # script over podcast.yaml; the part's own over both, for its own steps
    assert recorder.said == ["hafeez wrote of roo-mee.", "ROO-mee and hafeez, again."]
    timeline = build_timeline(layout, {r: c.duration_ms for r, c in result.clips.items()})
    vtt = webvtt(timeline)
    assert "Hafiz wrote of Rumi." in vtt and "Rumi and Hafiz, again." in vtt
    assert "hafeez" not in vtt.lower() and "roo-mee" not in vtt.lower()


def test_the_respelling_is_part_of_the_cache_key(library, tmp_path):
    layout = lay_out(load_script(library))
    recorder = Recorder()
    synthesize_all(layout.requests(), cache_dir=tmp_path / "c", engines={"piper": recorder})
    assert synthesize_all(layout.requests(), cache_dir=tmp_path / "c",
                          engines={"piper": recorder}).cached == 2
    library.write_text(library.read_text().replace("hafeez", "haa-fiz"), encoding="utf-8")
    changed = lay_out(load_script(library))
    again = synthesize_all(changed.requests(), cache_dir=tmp_path / "c",
                           engines={"piper": recorder})
    assert again.synthesized == 2 and recorder.said[-1] == "ROO-mee and haa-fiz, again."
    assert ClipCache(tmp_path / "c").info().entries == 4


def test_bad_pronounce_and_offline_voice_are_refused(write_script):
    from innerchild_audio.errors import ScriptError

    path = write_script("title: T\npronounce: [Hafiz]\noffline_voice: espeak:x\n"
                        "steps:\n  - say: Hi.\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    text = str(caught.value)
    assert "pronounce" in text and "offline_voice 'espeak:x' is not ENGINE:MODEL" in text


def test_podcast_yaml_names_the_library_offline_voice(write_script, tmp_path):
    from innerchild_audio.publish.channel import load_channel

    channel = write_script("title: Channel\ndescription: Calm.\nauthor: Me\n"
                           "category: [Health & Fitness, Mental Health]\n"
                           "offline_voice: piper:joe\npronounce: {Hafiz: hah-feez}\n",
                           name="podcast.yaml")
    assert load_channel(channel).title == "Channel"  # publish accepts the voice keys
    plain = load_script(write_script("title: T\nsteps:\n  - say: Hafiz.\n"))
    assert plain.voice.offline == "piper:joe"
    assert plain.voice.pronounce == (("Hafiz", "hah-feez"),)
    own = load_script(write_script("title: T\noffline_voice: hibari:heart\n"
                                   "steps:\n  - say: Hi.\n", name="own.yaml"))
    assert own.voice.offline == "hibari:heart"  # the script's own wins
