"""Signal levels, for VAD thresholds, noise floors and tests that check audio is audible."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["peak_dbfs", "rms_dbfs"]

_SILENCE_DBFS = -120.0


def rms_dbfs(pcm: bytes) -> float:
    """RMS level of 16-bit PCM in dB relative to full scale (-120 for empty or silence)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    if samples.size == 0:
        return _SILENCE_DBFS
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2)))
    return 20 * math.log10(rms / 32768) if rms > 0 else _SILENCE_DBFS


def peak_dbfs(pcm: bytes) -> float:
    """Peak level of 16-bit PCM in dBFS (-120 for empty or silence)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    if samples.size == 0:
        return _SILENCE_DBFS
    peak = int(np.max(np.abs(samples.astype(np.int32))))
    return 20 * math.log10(peak / 32768) if peak > 0 else _SILENCE_DBFS
