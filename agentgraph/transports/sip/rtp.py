"""RTP packets (RFC 3550 §5.1): parse and serialize, including CSRCs, the header
extension and padding, plus a precomputed fast path for the 20 ms send loop.

Sequence numbers and timestamps wrap; `seq_newer()` compares them modulo 2**16.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from agentgraph.errors import ProtocolError

__all__ = ["RtpHeaderWriter", "RtpPacket", "seq_delta"]

_HEADER = struct.Struct("!BBHII")
_EXT = struct.Struct("!HH")


def seq_delta(a: int, b: int) -> int:
    """Signed distance from sequence number `b` to `a` modulo 2**16 (a - b)."""
    d = (a - b) & 0xFFFF
    return d - 0x10000 if d >= 0x8000 else d


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet. `payload` excludes padding; `extension` is (profile, data)."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse an RTP packet; raises ProtocolError with what is wrong."""
        n = len(data)
        if n < 12:
            raise ProtocolError(f"RTP packet too short ({n} bytes)")
        b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != 2:
            raise ProtocolError(f"RTP version {b0 >> 6} is not 2")
        cc = b0 & 0x0F
        offset = 12 + 4 * cc
        if offset > n:
            raise ProtocolError("RTP packet has truncated CSRC list")
        csrc = struct.unpack_from(f"!{cc}I", data, 12) if cc else ()
        extension = None
        if b0 & 0x10:
            if offset + 4 > n:
                raise ProtocolError("RTP packet has truncated extension header")
            profile, words = _EXT.unpack_from(data, offset)
            end = offset + 4 + 4 * words
            if end > n:
                raise ProtocolError("RTP packet has truncated extension")
            extension = (profile, bytes(data[offset + 4 : end]))
            offset = end
        end = n
        pad = 0
        if b0 & 0x20:
            pad = data[-1]
            if pad == 0 or offset + pad > n:
                raise ProtocolError(f"RTP packet has bad padding length {pad}")
            end -= pad
        return cls(
            b1 & 0x7F,
            seq,
            ts,
            ssrc,
            bytes(data[offset:end]),
            bool(b1 & 0x80),
            tuple(csrc),
            extension,
            pad,
        )

    def serialize(self) -> bytes:
        """Wire bytes (padding, if any, is zeros ending with its length)."""
        if len(self.csrc) > 15:
            raise ValueError("at most 15 CSRCs")
        b0 = (
            0x80
            | len(self.csrc)
            | (0x20 if self.padding else 0)
            | (0x10 if self.extension is not None else 0)
        )
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        parts = [
            _HEADER.pack(
                b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF
            )
        ]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            profile, data = self.extension
            if len(data) % 4:
                raise ValueError("RTP extension data must be a multiple of 4 bytes")
            parts.append(_EXT.pack(profile, len(data) // 4))
            parts.append(data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


class RtpHeaderWriter:
    """Outgoing stream state (SSRC, sequence, timestamp) with a cheap per-frame `packet()`.

    The SSRC and initial sequence/timestamp are arguments so tests and callers inject
    randomness (RFC 3550 §5.1 wants them random).
    """

    __slots__ = ("payload_type", "sequence", "ssrc", "timestamp")

    def __init__(
        self, payload_type: int, *, ssrc: int, sequence: int = 0, timestamp: int = 0
    ) -> None:
        self.payload_type = payload_type
        self.ssrc = ssrc & 0xFFFFFFFF
        self.sequence = sequence & 0xFFFF
        self.timestamp = timestamp & 0xFFFFFFFF

    def packet(
        self,
        payload: bytes,
        *,
        samples: int,
        marker: bool = False,
        payload_type: int | None = None,
        advance: bool = True,
    ) -> bytes:
        """One packet with the current timestamp; bumps sequence, and timestamp if `advance`."""
        pt = self.payload_type if payload_type is None else payload_type
        header = _HEADER.pack(
            0x80, (0x80 if marker else 0) | pt, self.sequence, self.timestamp, self.ssrc
        )
        self.sequence = (self.sequence + 1) & 0xFFFF
        if advance:
            self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        return header + payload
