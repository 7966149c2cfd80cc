"""WAV files in and out as 16-bit mono PCM at a chosen rate.

Reading accepts any PCM WAV the stdlib `wave` module opens (8/16/24/32-bit, any rate, any
channel count): channels are mixed down and the rate converted, so `--input caller.wav`
takes what people have.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np

from agentgraph.audio.resample import resample_pcm16

__all__ = ["read_wav_pcm16", "write_wav_pcm16"]


def read_wav_pcm16(source: str | Path | BinaryIO, *, rate_hz: int = 24000) -> bytes:
    """Read a PCM WAV file and return mono 16-bit little-endian PCM at `rate_hz`.

    Raises:
        ValueError: the file is not a PCM WAV file we can read.
    """
    try:
        with wave.open(str(source) if isinstance(source, Path) else source, "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            file_rate = wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a PCM WAV file: {exc}") from exc
    samples = _to_int16(raw, width)
    if channels > 1:
        usable = samples.size - samples.size % channels
        samples = samples[:usable].reshape(-1, channels).mean(axis=1).astype("<i2")
    return resample_pcm16(samples.tobytes(), file_rate, rate_hz)


def _to_int16(raw: bytes, width: int) -> np.ndarray:
    if width == 2:
        return np.frombuffer(raw, dtype="<i2")
    if width == 1:  # unsigned 8-bit
        return ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype("<i2")
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        return (b[:, 2].astype(np.int8).astype(np.int16) << 8 | b[:, 1]).astype("<i2")
    if width == 4:
        return (np.frombuffer(raw, dtype="<i4") >> 16).astype("<i2")
    raise ValueError(f"unsupported WAV sample width: {width * 8} bits")


def write_wav_pcm16(
    target: str | Path | BinaryIO, pcm: bytes, *, rate_hz: int = 24000, channels: int = 1
) -> None:
    """Write 16-bit little-endian PCM (interleaved if `channels` > 1) as a WAV file."""
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(pcm)
