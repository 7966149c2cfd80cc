"""RFC 4733 telephone-events (DTMF over RTP): the 4-byte payload, a receiver that
reports each key press once, and a sender that makes the packet train for one digit.

An event is identified by its RTP timestamp: every packet of one key press carries the
same timestamp with a growing duration, and the end packet is sent three times
(RFC 4733 §2.5.1.4). The receiver reports a digit on its first end packet, or on the
first packet of a new timestamp if the previous event's end was lost.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from agentgraph.errors import ProtocolError

__all__ = ["DIGITS", "DtmfEvent", "DtmfReceiver", "dtmf_packets"]

DIGITS = "0123456789*#ABCD"
_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One telephone-event payload: event code 0-15, end flag, volume, duration (samples)."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        return DIGITS[self.event] if 0 <= self.event < 16 else None

    @classmethod
    def parse(cls, payload: bytes) -> DtmfEvent:
        """Parse the 4-byte payload; raises ProtocolError."""
        if len(payload) < 4:
            raise ProtocolError(f"telephone-event payload too short ({len(payload)} bytes)")
        event, flags, duration = _EVENT.unpack_from(payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def serialize(self) -> bytes:
        return _EVENT.pack(
            self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF
        )


class DtmfReceiver:
    """Turns telephone-event packets into digits, each key press once."""

    __slots__ = ("_done", "_timestamp")

    def __init__(self) -> None:
        self._timestamp: int | None = None
        self._done = False

    def receive(self, timestamp: int, payload: bytes) -> str | None:
        """Feed one packet; returns the digit when a key press completes, else None.

        Raises:
            ProtocolError: the payload is malformed (the caller drops the packet).
        """
        ev = DtmfEvent.parse(payload)
        if timestamp != self._timestamp:
            self._timestamp = timestamp
            self._done = False
        if ev.end and not self._done and ev.digit is not None:
            self._done = True
            return ev.digit
        return None


def dtmf_packets(digit: str, *, duration_ms: int = 100, volume: int = 10) -> list[DtmfEvent]:
    """The payload train for one digit, one per 20 ms, ending with 3 end packets.

    Raises:
        ValueError: `digit` is not one of 0-9 * # A-D.
    """
    code = DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    steps = max(1, duration_ms // 20)
    events = [DtmfEvent(code, False, volume, 160 * (i + 1)) for i in range(steps - 1)]
    events.extend(DtmfEvent(code, True, volume, 160 * steps) for _ in range(3))
    return events
