"""Mixing: a timeline and its speech clips in, float32 PCM out.

    from innerchild_audio.mix import Mixer, mix_session
    audio = mix_session(timeline, clips, sample_rate=44100, channels=1)  # one buffer
    for block in Mixer(timeline, clips).blocks():  # or block by block, never all at once
        ...

Modules: `mixer` (assembly), `bed` (background, fades, ducking), `sources`
(generated noise, drone, looped files), `sounds` (singing bowl, breathing
tones), `levels` (the voice reference level), `decode` (files and resampling),
`fades` (gain curves). Loudness, true peak and limiting are mastering: `master`.
"""

from innerchild_audio.mix.decode import audio_duration_ms, decode_file
from innerchild_audio.mix.mixer import Mixer, mix_session

__all__ = ["Mixer", "mix_session", "decode_file", "audio_duration_ms"]
