"""Turn latency, defined once: the caller stops speaking -> the first agent audio byte plays.

"The caller stops speaking" is the session's `speech_stopped` event (server VAD) or the
moment a manual turn ends (a typed/`--say` message is sent, or audio is committed). "Plays"
is the transport reporting the byte to its playback tracker, not the byte arriving from the
model, so the figure is what a caller waits. In text modality the first agent text counts.

Pure: times are arguments (the app passes `loop.time()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LatencyMeter", "percentile"]


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (`pct` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LatencyMeter:
    """Collects one latency per caller turn, per answering agent."""

    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    _mark: float | None = None

    def caller_stopped(self, now: float) -> None:
        """The caller's turn ended at `now` (the latest end wins)."""
        self._mark = now

    @property
    def waiting(self) -> bool:
        """Whether a caller turn is waiting for its first agent audio."""
        return self._mark is not None

    def agent_started_playing(self, now: float, agent: str) -> float | None:
        """First agent output after a caller turn: returns the latency in ms, else None."""
        if self._mark is None:
            return None
        latency_ms = max(0.0, (now - self._mark) * 1000.0)
        self._mark = None
        self.samples_ms.setdefault(agent, []).append(latency_ms)
        return latency_ms

    def summary(self) -> dict[str, dict[str, float]]:
        """`{agent: {turns, p50_ms, p95_ms}}` plus `"all"` over every agent."""
        out: dict[str, dict[str, float]] = {}
        every: list[float] = []
        for agent, values in sorted(self.samples_ms.items()):
            every.extend(values)
            out[agent] = _stats(values)
        if every:
            out["all"] = _stats(every)
        return out


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "turns": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
    }
