"""The simulator's recordings as real audio: a two-channel WAV built with the standard library.

Every spoken segment of a call becomes a voiced tone pulsing like syllables on
its speaker's channel, silence between: the agent (and the client's staff after
a transfer) on the first channel, the person called on the second, like a
dual-channel recording. 8 kHz, 16-bit, as the phone network carries it.
"""

import functools
import io
import math
import sys
import wave
from array import array

RATE = 8000
CHANNEL = {"agent": 0, "staff": 0, "person": 1}
_PITCH = {"agent": 220.0, "staff": 165.0, "person": 310.0}
_AMPLITUDE = 9000


def call_wav(segments: list[dict], *, start: float, end: float) -> bytes:
    """The audio from `start` to `end` (seconds on the call's clock) of `segments` ({speaker, start, end})."""
    frames = max(1, round((end - start) * RATE))
    tracks = [_silence(frames), _silence(frames)]
    for segment in segments:
        first = max(0, round((segment["start"] - start) * RATE))
        last = min(frames, round((segment["end"] - start) * RATE))
        if last > first:
            tracks[CHANNEL[segment["speaker"]]][first:last] = _voice(segment["speaker"], last - first)
    stereo = _silence(2 * frames)
    stereo[0::2], stereo[1::2] = tracks
    if sys.byteorder == "big":
        stereo.byteswap()  # WAV samples are little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(stereo.tobytes())
    return buffer.getvalue()


def _silence(frames: int) -> array:
    return array("h", bytes(2 * frames))


def _voice(speaker: str, frames: int) -> array:
    syllable = _syllable(_PITCH[speaker])
    # A new array: the cached syllable itself is never handed out.
    return (syllable * (frames // len(syllable) + 1))[:frames]


@functools.cache
def _syllable(pitch: float) -> array:
    """A fifth of a second of tone at `pitch` Hz rising and falling softly, then a short gap."""
    voiced = int(RATE * 0.2)
    samples = array(
        "h",
        (int(_AMPLITUDE * math.sin(math.pi * i / voiced) * math.sin(2 * math.pi * pitch * i / RATE)) for i in range(voiced)),
    )
    samples.extend(_silence(int(RATE * 0.05)))
    return samples
