"""The three audio formats the Realtime API speaks, and the arithmetic between bytes and ms.

pcm16 is 24 kHz mono little-endian (48 bytes per ms); G.711 u-law and A-law are 8 kHz,
one byte per sample (8 bytes per ms). See realtime-protocol.md §7.
"""

from __future__ import annotations

import enum

__all__ = ["AudioFormat", "bytes_to_ms", "ms_to_bytes"]


class AudioFormat(enum.Enum):
    """An audio format, named as in the graph language; `.wire` is the GA format object."""

    PCM16 = "pcm16"
    G711_ULAW = "g711_ulaw"
    G711_ALAW = "g711_alaw"

    @property
    def sample_rate_hz(self) -> int:
        return 24000 if self is AudioFormat.PCM16 else 8000

    @property
    def bytes_per_ms(self) -> int:
        return 48 if self is AudioFormat.PCM16 else 8

    @property
    def wire(self) -> dict[str, object]:
        """The GA `audio.*.format` object, e.g. `{"type": "audio/pcm", "rate": 24000}`."""
        if self is AudioFormat.PCM16:
            return {"type": "audio/pcm", "rate": 24000}
        return {"type": "audio/pcmu" if self is AudioFormat.G711_ULAW else "audio/pcma"}

    @classmethod
    def from_wire(cls, value: object) -> AudioFormat:
        """Parse a GA format object or a beta/graph name; raises ValueError if unknown."""
        if isinstance(value, str):
            aliases = {
                "pcm16": cls.PCM16,
                "g711_ulaw": cls.G711_ULAW,
                "g711_alaw": cls.G711_ALAW,
                "audio/pcm": cls.PCM16,
                "audio/pcmu": cls.G711_ULAW,
                "audio/pcma": cls.G711_ALAW,
            }
            if value in aliases:
                return aliases[value]
        elif isinstance(value, dict):
            kind = value.get("type")
            if kind == "audio/pcm" and value.get("rate", 24000) == 24000:
                return cls.PCM16
            if kind == "audio/pcmu":
                return cls.G711_ULAW
            if kind == "audio/pcma":
                return cls.G711_ALAW
        raise ValueError(f"unsupported audio format: {value!r}")


def bytes_to_ms(num_bytes: int, fmt: AudioFormat = AudioFormat.PCM16) -> int:
    """Duration in whole milliseconds of `num_bytes` of audio in `fmt`."""
    return num_bytes // fmt.bytes_per_ms


def ms_to_bytes(ms: float, fmt: AudioFormat = AudioFormat.PCM16) -> int:
    """Bytes for `ms` milliseconds of `fmt`, rounded down to whole samples."""
    num = int(ms * fmt.bytes_per_ms)
    return num - (num % 2) if fmt is AudioFormat.PCM16 else num
