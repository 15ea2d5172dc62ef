"""Mixing: a timeline and its speech clips in, float32 PCM out.

    from innerchild_audio.mix import Mixer, mix_session
    audio = mix_session(timeline, clips, sample_rate=44100, channels=1)  # one buffer
    for block in Mixer(timeline, clips).blocks():  # or block by block, never all at once
        ...

Modules: `mixer` (assembly), `bed` (background, fades, ducking), `bed_sources`
(generated noise, drone, looped files), `bowl_tones` (singing bowl, breathing
tones), `levels` (the voice reference level), `fades` (gain curves). Files
are read through `audio_io`. Loudness, true peak and limiting are mastering: `master`.
"""

from innerchild_audio.mix.mixer import Mixer, mix_session

__all__ = ["Mixer", "mix_session"]
