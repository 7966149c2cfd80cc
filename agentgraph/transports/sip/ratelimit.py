"""Per-source token buckets for the SIP port (sans-I/O: time is an argument).

A flood from one address must not crowd out everyone else, and checking it must cost
less than parsing the datagram. Each source IP gets a bucket of `burst` tokens refilled
at `rate_per_s`; a datagram spends one. The table is bounded: when it is full, buckets
that have refilled completely (idle sources) are forgotten first, then the oldest, so
spoofed source addresses cannot grow memory.
"""

from __future__ import annotations

__all__ = ["SourceLimiter"]


class SourceLimiter:
    """Token bucket per source address; `allow(host, now)` spends one token."""

    __slots__ = ("_buckets", "burst", "dropped", "max_sources", "rate_per_s")

    def __init__(self, rate_per_s: float, burst: float, *, max_sources: int = 4096) -> None:
        self.rate_per_s = rate_per_s
        self.burst = max(burst, 1.0)
        self.max_sources = max_sources
        self.dropped = 0
        # host -> (tokens, last refill time, first-drop flag for this empty spell)
        self._buckets: dict[str, list[float]] = {}

    def allow(self, host: str, now: float) -> bool:
        """True when `host` may send one more datagram now; False counts a drop."""
        if self.rate_per_s <= 0:
            return True
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._evict(now)
            bucket = self._buckets[host] = [self.burst, now, 0.0]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate_per_s)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            self.dropped += 1
            return False
        bucket[0] = tokens - 1.0
        bucket[2] = 0.0
        return True

    def first_drop(self, host: str) -> bool:
        """True once per spell of drops from `host` (so a flood logs one line, not many)."""
        bucket = self._buckets.get(host)
        if bucket is None or bucket[2]:
            return False
        bucket[2] = 1.0
        return True

    def _evict(self, now: float) -> None:
        full = [
            host
            for host, (tokens, last, _) in self._buckets.items()
            if tokens + (now - last) * self.rate_per_s >= self.burst
        ]
        for host in full:
            del self._buckets[host]
        while len(self._buckets) >= self.max_sources:
            del self._buckets[next(iter(self._buckets))]

    def __len__(self) -> int:
        return len(self._buckets)
