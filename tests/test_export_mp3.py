"""MP3 encoding through imageio-ffmpeg's binary: length, alignment, format, failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3, BitrateMode

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.errors import RenderError
from innerchild_audio.export import mp3

RATE = 44100


def tone(seconds: float, hz: float = 440.0, level: float = 0.3, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    wave = (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


@pytest.mark.parametrize("frames", [1000, RATE * 3 + 17, RATE * 20 + 1234])
def test_decoded_length_equals_encoded_frames(tmp_path: Path, frames: int) -> None:
    audio = tone(frames / RATE)
    out = tmp_path / "a.mp3"
    mp3.encode_mp3(audio, RATE, out, bitrate_kbps=96)
    decoded = decode_mp3(out)
    # The LAME header lets the decoder drop the encoder's delay and padding exactly.
    assert decoded.shape == (frames, 1)


def test_timing_is_kept_sample_accurate(tmp_path: Path) -> None:
    audio = np.zeros((RATE * 3, 1), np.float32)
    audio[RATE : 2 * RATE] = tone(1.0, 1000.0, 0.5)
    out = tmp_path / "burst.mp3"
    mp3.encode_mp3(audio, RATE, out, bitrate_kbps=96)
    decoded = decode_mp3(out)[:, 0]
    loud = np.flatnonzero(np.abs(decoded) > 0.25)
    assert abs(loud[0] - RATE) < RATE * 0.002  # within 2 ms
    assert abs(loud[-1] - 2 * RATE) < RATE * 0.002
    assert np.abs(decoded[: RATE - 2000]).max() < 0.01  # silence stays silent
    # the tone itself survives: its level and frequency
    middle = decoded[RATE + 4410 : 2 * RATE - 4410]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.argmax(spectrum) * RATE / len(middle) == pytest.approx(1000.0, abs=3)


@pytest.mark.parametrize(("channels", "kbps"), [(1, 96), (1, 64), (2, 128), (2, 192)])
def test_cbr_at_44k1_with_the_requested_bitrate(tmp_path: Path, channels: int, kbps: int) -> None:
    out = tmp_path / "a.mp3"
    mp3.encode_mp3(tone(4.0, channels=channels), RATE, out, bitrate_kbps=kbps)
    info = MP3(out).info
    assert info.sample_rate == RATE
    assert info.channels == channels
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    assert info.bitrate == pytest.approx(kbps * 1000, rel=0.01)
    assert decode_mp3(out).shape == (4 * RATE, channels)
    assert out.read_bytes()[:3] != b"ID3"  # tags are the tagger's job


def test_stereo_channels_stay_apart(tmp_path: Path) -> None:
    audio = np.zeros((RATE * 2, 2), np.float32)
    audio[:, 0] = tone(2.0, 500.0, 0.4)[:, 0]
    out = tmp_path / "s.mp3"
    mp3.encode_mp3(audio, RATE, out, bitrate_kbps=128)
    decoded = decode_mp3(out)
    assert np.sqrt(np.mean(decoded[:, 0] ** 2)) > 0.2
    assert np.sqrt(np.mean(decoded[:, 1] ** 2)) < 0.01


def test_other_sample_rates_are_resampled_to_44k1(tmp_path: Path) -> None:
    out = tmp_path / "a.mp3"
    t = np.arange(48000 * 2) / 48000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mp3.encode_mp3(audio, 48000, out, bitrate_kbps=96)
    assert MP3(out).info.sample_rate == RATE
    assert abs(len(decode_mp3(out)) - 2 * RATE) <= 50


def test_nan_in_audio_is_a_render_error(tmp_path: Path) -> None:
    audio = tone(3.0)
    audio[RATE * 2, 0] = np.nan
    with pytest.raises(RenderError, match="NaN"):
        mp3.encode_mp3(audio, RATE, tmp_path / "a.mp3", bitrate_kbps=96)


def test_bad_shapes_and_bitrates(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no audio"):
        mp3.encode_mp3(np.zeros((0, 1), np.float32), RATE, tmp_path / "a.mp3", bitrate_kbps=96)
    with pytest.raises(RenderError, match="shaped"):
        mp3.encode_mp3(np.zeros((10, 3), np.float32), RATE, tmp_path / "a.mp3", bitrate_kbps=96)
    with pytest.raises(ValueError, match="choose 32, 40"):
        mp3.check_bitrate(100)
    assert mp3.default_bitrate_kbps(1) == 96
    assert mp3.default_bitrate_kbps(2) == 128


def test_ffmpeg_failure_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "a.mp3"  # ffmpeg cannot create it
    with pytest.raises(RenderError, match="could not encode"):
        mp3.encode_mp3(tone(1.0), RATE, target, bitrate_kbps=96)


@pytest.mark.parametrize("name", ["missing.mp3", "empty.mp3", "text.mp3", "folder"])
def test_decoding_what_is_not_an_mp3_is_a_render_error(tmp_path: Path, name: str) -> None:
    # The channel count is probed first; mutagen's errors (a missing file among them)
    # must come out as the project's error, naming the file.
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("not audio\n")
    (tmp_path / "folder").mkdir()
    with pytest.raises(RenderError, match=f"{name} is not a readable MP3"):
        decode_mp3(tmp_path / name)


@pytest.mark.parametrize("kbps", mp3.CBR_BITRATES_KBPS)
def test_level_plays_back_as_mastered_at_every_bitrate(tmp_path: Path, kbps: int) -> None:
    # A low tone, below every rate's low-pass: only the encoder's own scaling could change it.
    audio = tone(2.0, 150.0, 0.4)
    out = tmp_path / "a.mp3"
    mp3.encode_mp3(audio, RATE, out, bitrate_kbps=kbps)
    decoded = decode_mp3(out)[RATE // 2 : -RATE // 2, 0]
    gain_db = 20 * np.log10(np.sqrt(np.mean(decoded**2)) / (0.4 / np.sqrt(2)))
    assert abs(gain_db) < 0.05


def test_a_missing_ffmpeg_is_a_render_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setattr(mp3, "ffmpeg_exe", lambda: str(tmp_path / "no-ffmpeg"))
    with pytest.raises(RenderError, match="cannot run ffmpeg"):
        mp3.encode_mp3(tone(1.0), RATE, tmp_path / "a.mp3", bitrate_kbps=96)
