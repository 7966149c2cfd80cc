"""A small jitter buffer for 20 ms G.711 RTP frames.

Packets are pushed as they arrive and popped in sequence order. A frame is released when
it is the next expected one, or when the buffer holds more than `depth` frames (the gap is
then declared lost and skipped). Duplicates and packets older than the last released one
are dropped. `pop_due(now)` also releases frames that waited longer than `max_wait_s`, so
a stalled gap never holds audio back. Time is an argument; this module has no clock.
"""

from __future__ import annotations

from agentgraph.transports.sip.rtp import seq_delta

__all__ = ["JitterBuffer"]


class JitterBuffer:
    """Reorders frames by RTP sequence number, bounded to `capacity` frames."""

    __slots__ = ("_frames", "_next", "capacity", "depth", "dropped", "lost", "max_wait_s")

    def __init__(self, *, depth: int = 3, capacity: int = 50, max_wait_s: float = 0.06) -> None:
        self.depth = depth
        self.capacity = capacity
        self.max_wait_s = max_wait_s
        self._frames: dict[int, tuple[float, bytes]] = {}
        self._next: int | None = None
        self.lost = 0
        self.dropped = 0

    def push(self, sequence: int, payload: bytes, now: float) -> None:
        """Add one frame; late or duplicate frames are counted and dropped."""
        if self._next is not None and seq_delta(sequence, self._next) < 0:
            self.dropped += 1
            return
        if sequence in self._frames:
            self.dropped += 1
            return
        if len(self._frames) >= self.capacity:
            self.dropped += 1
            return
        self._frames[sequence] = (now, payload)

    def pop_due(self, now: float) -> list[bytes]:
        """Frames ready to play, in order. Call after `push()` and on a timer."""
        out: list[bytes] = []
        frames = self._frames
        while frames:
            if self._next is None:
                self._next = min(frames, key=lambda s: seq_delta(s, next(iter(frames))))
            item = frames.pop(self._next, None)
            if item is not None:
                out.append(item[1])
                self._next = (self._next + 1) & 0xFFFF
                continue
            # Next frame missing: skip it if we have enough behind it or waited too long.
            oldest = min(frames, key=lambda s: seq_delta(s, self._next or 0))
            if len(frames) > self.depth or now - frames[oldest][0] >= self.max_wait_s:
                self.lost += seq_delta(oldest, self._next)
                self._next = oldest
                continue
            break
        return out

    def next_deadline(self) -> float | None:
        """When a waiting frame must be released even if its gap is not filled."""
        if not self._frames:
            return None
        return min(t for t, _ in self._frames.values()) + self.max_wait_s

    def __len__(self) -> int:
        return len(self._frames)
