"""Walking an MP3 frame by frame, to tell a whole MP3 from a cut or damaged one.

ffmpeg decodes a body cut in the middle of a frame without a word, so a short
answer would pass for a short sentence. Here every byte must belong to an MPEG
Layer III frame (what Google sends) or to an ID3 tag; the frame headers give
the stream's length in samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# kbps by bitrate index (0 is "free format", which we do not accept), Layer III only
_BITRATES_V1: Final = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2: Final = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# sample rates by version bits (0: MPEG 2.5, 2: MPEG 2, 3: MPEG 1) and rate index
_RATES: Final = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
_ID3V1_SIZE: Final = 128


class NotMp3(ValueError):
    """The bytes are not a whole MP3 stream; the message says where it breaks."""


@dataclass(frozen=True)
class Mp3Stream:
    frames: int
    samples: int  # decoded samples the frames hold, before the decoder trims its delay
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate


def _frame(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(length in bytes, samples, sample rate) of a Layer III frame header at `at`, or None."""
    if at + 4 > len(data):
        return None
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if data[at] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 0b11, (b1 >> 1) & 0b11
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 0b11, (b2 >> 1) & 1
    if version == 1 or layer != 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    if b3 & 0b11 == 0b10:  # reserved emphasis
        return None
    mpeg1 = version == 3
    bitrate = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index] * 1000
    sample_rate = _RATES[version][rate_index]
    samples = 1152 if mpeg1 else 576
    return samples // 8 * bitrate // sample_rate + padding, samples, sample_rate


def _id3v2_size(data: bytes, at: int) -> int | None:
    """Bytes of an ID3v2 tag starting at `at`, or None when there is none."""
    header = data[at:at + 10]
    if len(header) < 10 or header[:3] != b"ID3" or any(b & 0x80 for b in header[6:10]):
        return None
    size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]
    footer = 10 if header[5] & 0x10 else 0
    return 10 + size + footer


def walk(data: bytes) -> Mp3Stream:
    """The frames of `data`, which must be MP3 from its first byte to its last.

    Raises NotMp3 naming the offset where it stops being one: a cut last frame,
    bytes that are no frame, or no frame at all.
    """
    end = len(data)
    if end >= _ID3V1_SIZE and data[end - _ID3V1_SIZE:end - _ID3V1_SIZE + 3] == b"TAG":
        end -= _ID3V1_SIZE
    at = frames = samples = 0
    sample_rate = 0
    while at < end:
        tag = _id3v2_size(data, at)
        if tag is not None:
            if at + tag > end:
                raise NotMp3(f"an ID3 tag at byte {at} runs past the end ({end} bytes)")
            at += tag
            continue
        frame = _frame(data, at)
        if frame is None:
            raise NotMp3(f"no MP3 frame at byte {at} of {end}")
        length, frame_samples, rate = frame
        if at + length > end:
            raise NotMp3(f"the last frame is cut: {end - at} of its {length} bytes arrived")
        if sample_rate and rate != sample_rate:
            raise NotMp3(f"the sample rate changes at byte {at} ({sample_rate} to {rate} Hz)")
        sample_rate = rate
        frames += 1
        samples += frame_samples
        at += length
    if frames == 0:
        raise NotMp3("there is no MP3 frame in it")
    return Mp3Stream(frames=frames, samples=samples, sample_rate=sample_rate)
