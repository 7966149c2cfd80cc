"""Sample-rate conversion of 16-bit mono PCM.

Uses soxr (high quality, streaming-capable) when installed, which the engine extra brings;
otherwise falls back to linear interpolation with numpy, which is enough for telephony and
tests. `StreamResampler` keeps filter state across chunks so 20 ms frames join without
clicks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StreamResampler", "resample_pcm16"]

try:  # soxr ships in the `engine` extra
    import soxr as _soxr
except ImportError:  # pragma: no cover - exercised only without the extra
    _soxr = None


def resample_pcm16(pcm: bytes, from_hz: int, to_hz: int) -> bytes:
    """Resample a whole buffer of 16-bit mono PCM from `from_hz` to `to_hz`."""
    if from_hz == to_hz or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    if _soxr is not None:
        out = _soxr.resample(samples, from_hz, to_hz, quality="HQ")
        return np.asarray(out, dtype="<i2").tobytes()
    num_out = max(1, round(samples.size * to_hz / from_hz))
    positions = np.linspace(0, samples.size - 1, num_out)
    out = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


class StreamResampler:
    """Resamples a stream of 16-bit mono PCM chunks, keeping state between them."""

    def __init__(self, from_hz: int, to_hz: int) -> None:
        self.from_hz = from_hz
        self.to_hz = to_hz
        self._stream = (
            _soxr.ResampleStream(from_hz, to_hz, 1, dtype="int16", quality="HQ")
            if _soxr is not None and from_hz != to_hz
            else None
        )

    def process(self, pcm: bytes, *, last: bool = False) -> bytes:
        """Resample one chunk; pass `last=True` with the final chunk to flush the filter."""
        if self.from_hz == self.to_hz:
            return pcm
        if self._stream is None:
            return resample_pcm16(pcm, self.from_hz, self.to_hz)
        samples = np.frombuffer(pcm, dtype="<i2")
        out = self._stream.resample_chunk(samples, last=last)
        return np.asarray(out, dtype="<i2").tobytes()
