"""G.711 u-law and A-law (ITU-T G.711) with precomputed tables.

Decoding is a 256-entry table lookup; encoding is a 65536-entry table indexed by the
unsigned 16-bit sample, both built once at import with numpy, so a 20 ms frame costs one
vectorised `take`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["alaw_to_pcm16", "pcm16_to_alaw", "pcm16_to_ulaw", "ulaw_to_pcm16"]


def _ulaw_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


def _alaw_decode_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype("<i2")


def _ulaw_encode(samples: np.ndarray) -> np.ndarray:
    # The classic Sun g711.c form: 14-bit magnitude, bias 0x21, segment search.
    s = samples.astype(np.int32) >> 2
    mask = np.where(s < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(s), 8159) + 0x21
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, mag, side="left")
    code = (segment << 4) | ((mag >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)  # full scale saturates
    encoded: np.ndarray = ((code ^ mask) & 0xFF).astype(np.uint8)
    return encoded


def _alaw_encode(samples: np.ndarray) -> np.ndarray:
    s = samples.astype(np.int32)
    sign = np.where(s >= 0, 0x80, 0)
    mag = np.minimum(np.where(s >= 0, s, -s - 1), 32767) >> 3  # 13-bit magnitude
    exponent = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 4)
    exponent = np.clip(exponent, 0, 7)
    mantissa = np.where(exponent == 0, mag >> 1, mag >> exponent) & 0x0F
    encoded: np.ndarray = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return encoded


_ULAW_TO_PCM = _ulaw_decode_table()
_ALAW_TO_PCM = _alaw_decode_table()
_ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32)
# Indexed by sample + 32768.
_PCM_TO_ULAW = _ulaw_encode(_ALL_SAMPLES)
_PCM_TO_ALAW = _alaw_encode(_ALL_SAMPLES)


def ulaw_to_pcm16(data: bytes) -> bytes:
    """Decode u-law bytes to 16-bit little-endian PCM at the same (8 kHz) rate."""
    return _ULAW_TO_PCM.take(np.frombuffer(data, dtype=np.uint8)).tobytes()


def alaw_to_pcm16(data: bytes) -> bytes:
    """Decode A-law bytes to 16-bit little-endian PCM at the same (8 kHz) rate."""
    return _ALAW_TO_PCM.take(np.frombuffer(data, dtype=np.uint8)).tobytes()


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM to u-law, one byte per sample."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768
    return _PCM_TO_ULAW.take(samples).tobytes()


def pcm16_to_alaw(pcm: bytes) -> bytes:
    """Encode 16-bit little-endian PCM to A-law, one byte per sample."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768
    return _PCM_TO_ALAW.take(samples).tobytes()
